"""The synthetic corpus of benchmarks/bench.py: French community-management blogs.

Everything is derived from (SEED, feed, post) through its own seeded generator, so
any post can be rebuilt alone (a cross-posted copy rebuilds its source, generation 2
adds one post, the render database reuses the same text) and every run serves the
same bytes.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from itertools import accumulate

SEED = "cm-bench-1"
# Bump when the generated text changes, so cached databases are rebuilt.
GENERATOR_VERSION = 1
ENTRIES = 20
# The newest post of generation 1 is at most this old; generation 2 posts after it.
CORPUS_END = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
NEW_POST = -1  # the post number generation 2 adds at the top of a feed
RELAY_EVERY = 10  # one feed in ten is a relay blog that re-publishes others' posts
RELAY_OFFSET = 3
RELAYED_POSTS = 4  # of its ENTRIES posts, this many are copies
CHANGED_EVERY = 10  # one feed in ten gets a new post in generation 2
CHANGED_OFFSET = 7

# --- vocabulary ---------------------------------------------------------------------
# Sentences are composed word by word from these lists (most slots a single word), so
# that a five-word run of text (a dedup shingle) rarely recurs in another post, as in
# real writing; fixed fragments are short, and a few common phrases recur, as they do.

DETERMINERS = ["les", "nos", "vos", "ces", "leurs"]
NOUNS = [
    "abonnés", "marques", "agences", "modérateurs", "créateurs", "clients", "visuels",
    "stories", "hashtags", "sondages", "carrousels", "lives", "newsletters", "podcasts",
    "commentaires", "avis", "messages", "vidéos", "légendes", "emojis", "mèmes",
    "tutoriels", "webinaires", "concours", "partenariats", "témoignages", "statistiques",
    "tableaux", "chartes", "campagnes", "publicités", "formats", "tendances", "algorithmes",
    "outils", "équipes", "influenceurs", "ambassadeurs", "communautés", "audiences",
    "contenus", "réseaux", "plateformes", "notifications", "brouillons", "miniatures",
    "sous-titres", "épingles", "groupes", "forums", "questions", "réponses", "abonnements",
    "calendriers", "budgets", "rapports", "indicateurs", "objectifs", "personas", "articles",
    "photos", "illustrations", "infographies", "citations", "anecdotes", "coulisses",
    "événements", "salons", "rencontres", "bénévoles", "stagiaires", "graphistes",
    "rédacteurs", "journalistes", "commerçants", "lecteurs", "fans", "détracteurs", "trolls",
    "signalements", "crises", "polémiques", "rumeurs", "alertes", "filtres", "règles",
    "modèles", "gabarits", "scripts", "playlists", "interviews", "coulisses", "défis",
    "quiz", "jeux", "codes promo", "offres", "produits", "services", "boutiques",
    "bannières", "slogans", "sondés", "clients fidèles", "lives shopping", "vidéastes",
    "photographes", "partenaires", "mécènes", "adhérents", "élus", "habitants", "voisins",
    "parents", "lycéens", "recettes", "astuces", "conseils", "dossiers", "guides", "fiches",
    "bilans", "sondages éclair", "badges", "trophées", "cartes", "affiches", "flyers",
    "stickers", "gifs", "animations", "montages", "transitions", "voix off", "musiques",
    "décors", "lumières", "coulisses", "prototypes", "maquettes", "versions", "tests A/B",
]
ADJECTIVES = [
    "fidèles", "rapides", "efficaces", "simples", "utiles", "visibles", "durables",
    "sensibles", "drôles", "célèbres", "jeunes", "modestes", "honnêtes", "calmes", "libres",
    "pratiques", "agiles", "authentiques", "autonomes", "classiques", "crédibles",
    "critiques", "dynamiques", "énormes", "étranges", "fiables", "fragiles", "lisibles",
    "logiques", "magiques", "mobiles", "modernes", "numériques", "populaires", "publiques",
    "rares", "riches", "sobres", "solides", "stables", "sympathiques", "techniques",
    "typiques", "uniques", "hybrides", "immenses", "bénévoles", "éphémères", "ludiques",
    "éthiques", "pédagogiques", "sincères", "minimalistes", "atypiques", "hebdomadaires",
    "colorés", "inédits", "discrets", "bavards", "motivés", "pressés", "curieux", "sérieux",
    "nombreux", "oubliés", "attendus", "imprévus", "ratés", "réussis", "partagés", "cachés",
    "visuels", "concrets", "précis", "vagues", "lents", "futés", "rusés", "épuisés",
]
ADVERBS = [
    "souvent", "rarement", "enfin", "déjà", "toujours", "parfois", "encore", "vraiment",
    "discrètement", "volontiers", "systématiquement", "soigneusement", "rapidement",
    "lentement", "patiemment", "longtemps", "bientôt", "désormais", "aussitôt",
    "ensemble", "mieux", "moins", "davantage", "forcément", "simplement", "clairement",
    "timidement", "franchement", "régulièrement", "joyeusement", "prudemment",
    "volontairement", "rarement", "doucement", "sagement", "vite", "tard", "tôt", "autrement",
    "activement", "calmement", "fièrement", "habilement", "naïvement", "gentiment",
]
VERBS = [
    "publient", "programment", "mesurent", "repensent", "négligent", "testent", "adaptent",
    "sous-estiment", "partagent", "automatisent", "analysent", "délèguent", "optimisent",
    "animent", "relancent", "surveillent", "modèrent", "découvrent", "abandonnent",
    "réinventent", "soignent", "multiplient", "recyclent", "planifient", "sponsorisent",
    "archivent", "valorisent", "comparent", "simplifient", "documentent", "écoutent",
    "remercient", "invitent", "filment", "écrivent", "traduisent", "corrigent", "signalent",
    "suppriment", "épinglent", "commentent", "citent", "mentionnent", "rassemblent",
    "regroupent", "classent", "suivent", "bloquent", "ignorent", "attendent", "préparent",
    "lancent", "vérifient", "racontent", "illustrent", "résument", "accompagnent",
    "soutiennent", "forment", "recrutent", "fidélisent", "remplacent", "protègent",
    "décorent", "colorent", "dessinent", "montent", "coupent", "allongent", "raccourcissent",
    "reformulent", "réécrivent", "relisent", "vendent", "offrent", "prêtent", "louent",
    "exposent", "cachent", "dévoilent", "teasent", "annoncent", "fêtent", "célèbrent",
    "oublient", "retrouvent", "chiffrent", "budgètent", "négocient", "signent", "refusent",
]
INFINITIVES = [
    "gérer", "animer", "lancer", "recruter", "mesurer", "écrire", "modérer", "organiser",
    "préparer", "trouver", "recycler", "déléguer", "convaincre", "choisir", "tenir",
    "éviter", "sous-titrer", "planifier", "tester", "repenser", "fidéliser", "rassurer",
    "remercier", "archiver", "valoriser", "simplifier", "documenter", "filmer", "traduire",
    "corriger", "signaler", "épingler", "suivre", "bloquer", "accompagner", "soutenir",
    "dessiner", "monter", "couper", "reformuler", "réécrire", "relire", "vendre", "offrir",
    "exposer", "dévoiler", "annoncer", "fêter", "retrouver", "chiffrer", "négocier",
]
PLACES = [
    "sur Instagram", "sur LinkedIn", "sur TikTok", "sur Facebook", "sur YouTube",
    "sur Threads", "sur Bluesky", "sur Mastodon", "sur Pinterest", "sur X", "sur Twitch",
    "sur Discord", "sur WhatsApp", "sur Snapchat", "sur le blog", "en story", "en direct",
    "en commentaire", "par courriel", "dans la newsletter", "sur le forum", "en vidéo",
]
TIMES = [
    "chaque lundi", "le vendredi soir", "depuis {month}", "en {month}", "en {year}",
    "à la rentrée", "cet été", "avant {event}", "après {event}", "pendant {event}",
    "dès {month}", "depuis {n} ans", "en {n} minutes", "{n} fois par mois",
    "toute l’année", "chaque matin", "le week-end", "à {city}", "près de {city}",
    "sans budget", "avec {n} euros", "en pleine crise", "au quotidien", "à midi",
    "le {n} {month}", "avant midi", "après minuit", "d’ici {month}", "pour {event}",
    "vers {n} heures", "depuis {n} jours", "sous {n} semaines", "avant {city}",
    "jusqu’en {month}", "au printemps", "en hiver", "cet automne", "mardi", "jeudi matin",
]
PLATFORMS = [p.removeprefix("sur ") for p in PLACES if p.startswith("sur ")]
OPENERS = [
    "Concrètement", "En {year}", "Depuis {month}", "Sans surprise", "À {city}",
    "Pour être honnête", "Chez {company}", "Au quotidien", "Cette semaine", "Autrement dit",
    "Paradoxalement", "Bonne nouvelle", "Résultat", "Côté chiffres", "En pratique",
    "Dans les faits", "Pourtant", "Du coup", "Bref", "D’ailleurs", "Ensuite", "Enfin",
]
SOURCES = ["{company}", "{person}", "l’étude {company}", "le baromètre {company}",
           "nos chiffres", "{company} ({year})", "un sondage {company}", "notre panel"]
SAYS = ["résume", "explique", "confie", "raconte", "note", "prévient", "sourit", "insiste"]
QUESTIONS = ["Faut-il vraiment", "Pourquoi ne pas", "Est-il utile de", "Faut-il encore",
             "Doit-on", "Peut-on", "Comment"]
IMPERATIVES = ["Testez", "Oubliez", "Programmez", "Mesurez", "Soignez", "Regroupez",
               "Variez", "Relisez", "Limitez", "Archivez", "Partagez", "Écoutez", "Citez",
               "Remerciez", "Simplifiez", "Préparez", "Filmez", "Corrigez"]
FIRST_NAMES = [
    "Camille", "Léa", "Hugo", "Chloé", "Thomas", "Manon", "Julien", "Sarah", "Nicolas",
    "Inès", "Mathieu", "Pauline", "Karim", "Émilie", "Yanis", "Claire", "Antoine",
    "Aurélie", "Benoît", "Fatou", "Romain", "Sophie", "Maxime", "Nadia", "Lucas",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux",
    "Fournier", "Mercier", "Bonnet", "Lambert", "Faure", "Rousseau", "Blanc", "Guerin",
    "Muller", "Henry", "Perrin", "Morel", "Chevalier", "Garnier", "Benali", "Nguyen",
]
ROLES = [
    "community manager", "CM", "fondateur", "fondatrice", "consultant", "consultante",
    "modératrice", "modérateur", "graphiste", "rédactrice", "stagiaire", "directrice",
    "animateur", "freelance", "vidéaste", "photographe", "journaliste", "cheffe de projet",
]
COMPANIES = [
    "Pixelune", "Hirondelle", "Sociabulle", "Brindille", "Mistral", "Oréade", "Kiosque",
    "Basilic", "Tisserand", "Cocotte", "Plumetis", "Quartz", "Mosaïk", "Azimut", "Lumen",
    "Capucine", "Sirocco", "Galet", "Bergamote", "Nénuphar", "Comptoir Digital",
]
CITIES = [
    "Lyon", "Nantes", "Lille", "Bordeaux", "Rennes", "Marseille", "Toulouse",
    "Strasbourg", "Montpellier", "Grenoble", "Brest", "Dijon", "Angers", "Tours", "Nancy",
]
EVENTS = ["Noël", "Pâques", "l’été", "la rentrée", "Halloween", "les soldes", "le Mondial",
          "Black Friday", "la Saint-Valentin", "le réveillon", "les vacances", "le salon"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]
TITLE_FORMS = [
    "{n} façons de {goal} {place}", "Comment {goal} en {year}",
    "Pourquoi {clause}", "Le guide complet pour {goal}", "{Place} : {clause}",
    "Étude : {n} % des {noun} {verb} {det} {noun} {place}",
    "Retour d’expérience : {goal} à {city}", "{n} erreurs à éviter pour {goal}",
    "Interview de {person}, {role} chez {company}", "Faut-il encore {goal} ?",
    "Ce que {company} nous a appris sur {det} {noun}", "Checklist : {goal} avant {event}",
]
WEEKLY = "Revue de presse de la semaine"  # a generic title some blogs reuse every week
CATEGORIES = [
    "Community management", "Réseaux sociaux", "Instagram", "LinkedIn", "TikTok",
    "Modération", "Stratégie", "Outils", "Études", "Veille", "E-réputation",
    "Rédaction web", "Influence", "Service client", "Emploi", "Formation", "Vidéo",
    "Newsletter", "Publicité", "Événementiel", "Data", "Témoignages", "Tutoriels",
]
BLOG_PREFIXES = ["Le carnet", "Les cahiers", "Le journal", "La boîte à outils", "Le blog",
                 "Les chroniques", "L’atelier", "La gazette", "Le labo", "Les coulisses"]
BLOG_THEMES = ["du CM", "de la modération", "des réseaux sociaux", "du social media",
               "de la communauté", "de l’e-réputation", "du contenu", "de la veille",
               "des marques", "du community management"]
TAGS = ["community management", "réseaux sociaux", "modération", "stratégie", "outils"]


@dataclass(frozen=True)
class Post:
    """One blog post, its HTML already clean (what a sanitizer would leave)."""

    feed: int
    number: int  # 0 = newest of generation 1, NEW_POST = generation 2's addition
    guid: str
    title: str
    link: str
    author: str
    published: datetime
    categories: tuple[str, ...]
    html: str
    excerpt: str


@dataclass(frozen=True)
class Blog:
    """A feed's fixed traits."""

    index: int
    title: str
    host: str
    atom: bool
    authors: tuple[str, ...]
    interval: timedelta  # mean time between posts
    newest: datetime  # its newest post of generation 1
    tags: tuple[str, ...]


def _rng(*key: object) -> random.Random:
    # A str seed is hashed with SHA-512: the same on every run, whatever PYTHONHASHSEED.
    return random.Random(":".join(map(str, (SEED, *key))))


def slugify(text: str) -> str:
    """A URL slug: ASCII letters and digits joined by dashes."""
    table = str.maketrans("àâäçéèêëîïôöùûüœæ’", "aaaceeeeiioouuuoa-")
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")[:80]


def blog(index: int) -> Blog:
    """The traits of feed `index`."""
    rng = _rng("blog", index)
    title = f"{rng.choice(BLOG_PREFIXES)} {rng.choice(BLOG_THEMES)}"
    if rng.random() < 0.5:
        title += f" — {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    authors = tuple(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    for _ in range(rng.randint(1, 3)))
    # From several posts a day to one a fortnight: log-uniform, as real blogs vary.
    interval = timedelta(hours=round(2 ** rng.uniform(2, 8.4), 1))
    return Blog(
        index=index, title=title, host=f"{slugify(title)}-{index}.example",
        atom=rng.random() < 0.4, authors=authors, interval=interval,
        newest=CORPUS_END - timedelta(hours=rng.uniform(0, 72)),
        tags=tuple(sorted(rng.sample(TAGS, rng.randint(0, 2)))),
    )


class _Writer:
    """Composes text from the vocabulary with one post's generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str) -> str:
        """`template` with each {slot} drawn afresh."""
        rng = self.rng
        slots: dict[str, Callable[[], str]] = {
            "n": lambda: str(rng.randint(2, 95)), "year": lambda: str(rng.randint(2019, 2026)),
            "month": lambda: rng.choice(MONTHS), "city": lambda: rng.choice(CITIES),
            "company": lambda: rng.choice(COMPANIES), "event": lambda: rng.choice(EVENTS),
            "place": lambda: rng.choice(PLACES), "Place": lambda: rng.choice(PLATFORMS),
            "goal": self.goal, "clause": self.clause, "noun": lambda: rng.choice(NOUNS),
            "verb": lambda: rng.choice(VERBS), "det": lambda: rng.choice(DETERMINERS),
            "role": lambda: rng.choice(ROLES),
            "person": lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        }
        return re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)](), template)

    def _maybe(self, words: list[str], chance: float) -> str:
        return self.rng.choice(words) if self.rng.random() < chance else ""

    def group(self) -> str:
        """A noun group: "nos visuels sobres"."""
        rng = self.rng
        return " ".join(w for w in (rng.choice(DETERMINERS), rng.choice(NOUNS),
                                    self._maybe(ADJECTIVES, 0.5)) if w)

    def clause(self) -> str:
        """"les agences fidèles testent enfin nos stories sur TikTok le week-end"."""
        rng = self.rng
        words = (self.group(), rng.choice(VERBS), self._maybe(ADVERBS, 0.4), self.group(),
                 self._maybe(PLACES, 0.6), self._maybe(TIMES, 0.5))
        return self.fill(" ".join(w for w in words if w))

    def goal(self) -> str:
        """"modérer les commentaires critiques"."""
        return f"{self.rng.choice(INFINITIVES)} {self.group()}"

    def sentence(self) -> str:
        """One sentence of a post, in one of a few shapes."""
        rng = self.rng
        shape = rng.random()
        if shape < 0.55:
            opener = self._maybe(OPENERS, 0.25)
            text = f"{opener}, {self.clause()}." if opener else f"{self.clause()}."
        elif shape < 0.63:
            text = (f"Selon {rng.choice(SOURCES)}, {{n}} % des {rng.choice(NOUNS)} "
                    f"{rng.choice(VERBS)} {self.group()} {self._maybe(PLACES, 1)}.")
        elif shape < 0.71:
            who = rng.choice(["{person}", "{person}, {role}", "{person} ({company})",
                              "{person}, {role} à {city}"])
            text = f"« {self.clause().capitalize()} », {rng.choice(SAYS)} {who}."
        elif shape < 0.83:
            text = f"{rng.choice(QUESTIONS)} {self.goal()} {self._maybe(TIMES, 1)} ?"
        else:
            text = f"{rng.choice(IMPERATIVES)} {self.group()} : {self.clause()}."
        text = self.fill(text)
        return text[0].upper() + text[1:]

    def paragraph(self, host: str, sentences: int) -> str:
        parts = [escape(self.sentence(), quote=False) for _ in range(sentences)]
        rng = self.rng
        if rng.random() < 0.5:  # a link on a few words of one sentence
            i = rng.randrange(len(parts))
            words = parts[i].split(" ")
            start = rng.randrange(max(len(words) - 3, 1))
            href = rng.choice([f"https://{host}/{slugify(self.goal())}/",
                               f"https://www.example.org/etude-{rng.randint(1, 999)}"])
            words[start:start + 3] = [f'<a href="{href}">{" ".join(words[start:start + 3])}</a>']
            parts[i] = " ".join(words)
        if rng.random() < 0.4:
            i = rng.randrange(len(parts))
            parts[i] = f"<strong>{parts[i]}</strong>"
        return "<p>" + " ".join(parts) + "</p>"

    def body(self, host: str, stamp: datetime, size: int) -> str:
        """Paragraphs, a picture, a list, a quote and subheadings, about `size` bytes."""
        rng = self.rng
        blocks = [self.paragraph(host, rng.randint(2, 4))]
        while sum(len(b.encode()) for b in blocks) < size:
            kind = rng.random()
            if kind < 0.55:
                blocks.append(self.paragraph(host, rng.randint(2, 5)))
            elif kind < 0.67:
                blocks.append(f"<h2>{escape(self.goal().capitalize())}</h2>")
            elif kind < 0.79:
                items = "".join(f"<li>{escape(self.sentence(), quote=False)}</li>"
                                for _ in range(rng.randint(3, 5)))
                blocks.append(f"<ul>{items}</ul>")
            elif kind < 0.89:
                src = (f"https://{host}/wp-content/uploads/{stamp.year}/{stamp.month:02d}/"
                       f"visuel-{rng.randint(1, 9999)}.jpg")
                alt = escape(self.goal())
                blocks.append(f'<p><img src="{src}" alt="{alt}" width="1024" '
                              f'height="576" loading="lazy"></p>')
            else:
                blocks.append("<blockquote><p>"
                              f"{escape(self.sentence(), quote=False)}</p></blockquote>")
        return "".join(blocks)


def post_date(b: Blog, number: int) -> datetime:
    """When post `number` of a blog was published: regular, with up to ±40% of jitter."""
    jitter = _rng("date", b.index, number).uniform(-0.4, 0.4)
    if number == NEW_POST:  # after post 0, whatever their jitters
        return b.newest + b.interval * (0.9 + jitter)
    return b.newest - b.interval * (number + jitter)


def make_post(b: Blog, number: int, published: datetime | None = None,
              body: bool = True) -> Post:
    """Post `number` of blog `b`, rebuilt from its own seed (without its text if not `body`)."""
    rng = _rng("post", b.index, number)
    writer = _Writer(rng)
    published = published or post_date(b, number)
    if rng.random() < 0.04:
        title = f"{WEEKLY} #{rng.randint(1, 300)}" if rng.random() < 0.5 else WEEKLY
    else:
        title = writer.fill(rng.choice(TITLE_FORMS))
    author = rng.choice(b.authors)
    categories = tuple(rng.sample(CATEGORIES, rng.randint(1, 3)))
    html = writer.body(b.host, published, rng.randint(2500, 4400)) if body else ""
    words = re.sub(r"<[^>]+>", " ", html).split()
    # WordPress's excerpt: the first 55 words and an elision mark.
    excerpt = " ".join(words[:55]) + " […]" if words else ""
    slug = f"{slugify(title)}-{number if number >= 0 else 'n'}"
    return Post(
        feed=b.index, number=number, guid=f"https://{b.host}/?p={100_000 + number * 7 + 3}",
        title=title, link=f"https://{b.host}/{published:%Y/%m}/{slug}/", author=author,
        published=published, categories=categories, html=html, excerpt=excerpt,
    )


def relay_of(index: int, count: int, number: int) -> tuple[int, int] | None:
    """For a relay blog's post, the (feed, post) it re-publishes, else None.

    Relay blogs (hubs that re-post with permission) copy recent posts of other feeds,
    with a credit footer and their own link and title: dedup must find them by text.
    """
    if count < RELAY_EVERY or not is_relay(index) or number < 0 or number % 5 != 1:
        return None
    rng = _rng("relay", index, number)
    source = rng.choice([i for i in range(count) if not is_relay(i)])
    return source, rng.randint(0, 8)


def is_relay(index: int) -> bool:
    """Whether feed `index` is a relay blog."""
    return index % RELAY_EVERY == RELAY_OFFSET


def feed_posts(index: int, count: int, generation: int) -> list[Post]:
    """The posts of feed `index` (of `count`) in a generation's document, newest first."""
    b = blog(index)
    numbers = list(range(ENTRIES))
    if generation == 2 and changed_in_generation_2(index):
        numbers = [NEW_POST, *numbers[:-1]]  # the oldest post falls off the end
    posts = []
    for number in numbers:
        relayed = relay_of(index, count, number)
        posts.append(copy_post(b, number, *relayed) if relayed else make_post(b, number))
    return posts


def copy_post(b: Blog, number: int, source_feed: int, source_number: int) -> Post:
    """A relay blog's copy of another blog's post: same text, its own title, link and date."""
    source_blog = blog(source_feed)
    source = make_post(source_blog, source_number)
    published = source.published + timedelta(hours=5)
    credit = (f'<p>Cet article a été initialement publié sur <a href="{source.link}">'
              f"{escape(source_blog.title)}</a>. Republié avec l’autorisation de "
              "l’auteur.</p>")
    return Post(
        feed=b.index, number=number, guid=f"https://{b.host}/?p={200_000 + number}",
        title=f"{source.title} | {b.title.split(' — ')[0]}",
        link=f"https://{b.host}/{published:%Y/%m}/{slugify(source.title)}/",
        author=source.author, published=published, categories=source.categories,
        html=source.html + credit, excerpt=source.excerpt,
    )


def changed_in_generation_2(index: int) -> bool:
    """Whether feed `index` has one new post in generation 2 (one feed in ten)."""
    return index % CHANGED_EVERY == CHANGED_OFFSET


def render_feed(index: int, count: int, generation: int = 1) -> bytes:
    """Feed `index` as RSS 2.0 (content:encoded) or Atom (content type="html")."""
    b = blog(index)
    posts = feed_posts(index, count, generation)
    return (_atom(b, posts) if b.atom else _rss(b, posts)).encode("utf-8")


def _rss(b: Blog, posts: list[Post]) -> str:
    items = []
    for p in posts:
        categories = "".join(f"<category><![CDATA[{c}]]></category>" for c in p.categories)
        items.append(
            f"<item>\n<title>{escape(p.title)}</title>\n<link>{p.link}</link>\n"
            f"<dc:creator><![CDATA[{p.author}]]></dc:creator>\n"
            f"<pubDate>{format_datetime(p.published)}</pubDate>\n{categories}\n"
            f'<guid isPermaLink="false">{p.guid}</guid>\n'
            f"<description><![CDATA[{p.excerpt}]]></description>\n"
            f"<content:encoded><![CDATA[{p.html}]]></content:encoded>\n</item>\n")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(b.title)}</title>\n"
        f'<atom:link href="https://{b.host}/feed/" rel="self" type="application/rss+xml"/>\n'
        f"<link>https://{b.host}/</link>\n"
        "<description>Le quotidien d’un métier qui bouge</description>\n"
        f"<lastBuildDate>{format_datetime(posts[0].published)}</lastBuildDate>\n"
        "<language>fr-FR</language>\n<generator>https://wordpress.org/?v=6.6</generator>\n"
        + "".join(items) + "</channel>\n</rss>\n")


def _atom(b: Blog, posts: list[Post]) -> str:
    entries = []
    for p in posts:
        stamp = p.published.isoformat()
        categories = "".join(f'<category term="{escape(c)}"/>' for c in p.categories)
        entries.append(
            f"<entry>\n<title>{escape(p.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href="{p.link}"/>\n'
            f"<id>{p.guid}</id>\n<published>{stamp}</published>\n<updated>{stamp}</updated>\n"
            f"<author><name>{escape(p.author)}</name></author>\n{categories}\n"
            f'<summary type="html">{escape(p.excerpt)}</summary>\n'
            f'<content type="html">{escape(p.html)}</content>\n</entry>\n')
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">\n'
        f"<title>{escape(b.title)}</title>\n<subtitle>Notes de terrain</subtitle>\n"
        f"<id>https://{b.host}/</id>\n<updated>{posts[0].published.isoformat()}</updated>\n"
        f'<link rel="alternate" type="text/html" href="https://{b.host}/"/>\n'
        f'<link rel="self" type="application/atom+xml" href="https://{b.host}/atom.xml"/>\n'
        '<generator uri="https://gohugo.io/">Hugo</generator>\n'
        + "".join(entries) + "</feed>\n")


def etag_of(body: bytes) -> str:
    """A strong ETag for a body."""
    return '"' + hashlib.sha1(body).hexdigest() + '"'


# --- the render database: two years of posts ----------------------------------------

RENDER_DAYS = 730
RENDER_PER_FEED = 200
RENDER_END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # the latest day's last post


def render_timeline(feeds: int) -> list[tuple[datetime, int, int]]:
    """(published, feed, post) of RENDER_PER_FEED posts a feed over RENDER_DAYS, oldest first.

    Every feed posts regularly with jitter, so each day holds about the same number.
    """
    step = timedelta(days=RENDER_DAYS) / RENDER_PER_FEED
    timeline = []
    for feed in range(feeds):
        rng = _rng("timeline", feed)
        phase = rng.random()
        offsets = accumulate([phase] + [rng.uniform(0.6, 1.4) for _ in
                                        range(RENDER_PER_FEED - 1)])
        for number, offset in enumerate(offsets):
            timeline.append((RENDER_END - step * min(offset, RENDER_PER_FEED - 0.01),
                             feed, number))
    timeline.sort()
    return timeline
