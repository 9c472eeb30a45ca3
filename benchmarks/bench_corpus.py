"""The synthetic corpus of benchmarks/bench.py: French community-management feeds, in two styles.

prose      blogs whose sentences are composed word by word from a vocabulary, so that a
           five-word run of text rarely recurs in another post (about a tenth of a
           post's runs do: common phrases); one feed in ten is a relay blog re-publishing
           others' posts with a credit footer.
templated  what real feeds also carry: text written from templates. By feed (index %
           10): job ads ("Community manager H/F – CDI – Lyon", stock paragraphs on the
           missions, the profile, the perks), weekly press reviews ("Revue de presse de
           la semaine #N", one template around linked items), agency blogs in a house
           style (stock intro and outro, calls to action, sentences from a bank every
           marketing blog shares), SEO pieces ("Les 7 meilleurs outils pour …"), press
           releases; about half of a post's five-word runs recur in other posts, each
           post shares some with hundreds of others, yet two distinct posts share well
           under half their text. As much markup as prose (links, bold, pictures,
           lists: about 30 tags a post), so that feedparser alone costs the same.
           Copies a correct dedup must merge: the relay blogs, as in prose, and press
           releases re-published by another feed with light edits (its own intro
           line, a sentence dropped and one reworded, a title prefix, its own link).

Everything is derived from (SEED, style, feed, post) through its own seeded generator,
so any post can be rebuilt alone (a cross-posted copy rebuilds its source, generation 2
adds one post, the render database reuses the same text) and every run serves the same
bytes. `overlap` measures how much the posts of a corpus share; `expected_copies` is
how many copies a correct dedup finds.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape, unescape
from itertools import accumulate

SEED = "cm-bench-1"
# Bump when the generated text changes, so cached databases are rebuilt.
GENERATOR_VERSION = 2
STYLES = ("prose", "templated")
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
    kind: str = "prose"  # in the templated style, what it publishes (see KINDS)


def _rng(*key: object) -> random.Random:
    # A str seed is hashed with SHA-512: the same on every run, whatever PYTHONHASHSEED.
    return random.Random(":".join(map(str, (SEED, *key))))


def slugify(text: str) -> str:
    """A URL slug: ASCII letters and digits joined by dashes."""
    table = str.maketrans("àâäçéèêëîïôöùûüœæ’", "aaaceeeeiioouuuoa-")
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")[:80]


def blog(index: int, style: str = "prose") -> Blog:
    """The traits of feed `index`: a templated feed has a kind and a title to match."""
    traits = _prose_blog(index)
    if style == "prose":
        return traits
    kind = KINDS[index % len(KINDS)]
    if kind == "relay":  # a hub re-posting others' posts keeps a blog's name
        return replace(traits, kind=kind)
    title = _Templater(_rng(style, "blog", index)).fill(TEMPLATED_BLOG_TITLES[kind])
    return replace(traits, title=title, host=f"{slugify(title)}-{index}.example", kind=kind)


def _prose_blog(index: int) -> Blog:
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


def mark_up(rng: random.Random, parts: list[str], hrefs: Callable[[list[str]], list[str]],
            links: float, bold: float) -> None:
    """Now and then a link on a few words of one of `parts` (its address drawn among
    `hrefs(the sentence's words)`), and one of them in bold; in place."""
    if rng.random() < links:
        i = rng.randrange(len(parts))
        words = parts[i].split(" ")
        start = rng.randrange(max(len(words) - 3, 1))
        href = rng.choice(hrefs(words))
        words[start:start + 3] = [f'<a href="{href}">{" ".join(words[start:start + 3])}</a>']
        parts[i] = " ".join(words)
    if rng.random() < bold:
        i = rng.randrange(len(parts))
        parts[i] = f"<strong>{parts[i]}</strong>"


class _Writer:
    """Composes text from the vocabulary with one post's generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str) -> str:
        """`template` with each {slot} drawn afresh."""
        slots = self.slots()
        return re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)](), template)

    def slots(self) -> dict[str, Callable[[], str]]:
        """What each {slot} of a template draws (building it draws nothing)."""
        rng = self.rng
        return {
            "n": lambda: str(rng.randint(2, 95)), "year": lambda: str(rng.randint(2019, 2026)),
            "month": lambda: rng.choice(MONTHS), "city": lambda: rng.choice(CITIES),
            "company": lambda: rng.choice(COMPANIES), "event": lambda: rng.choice(EVENTS),
            "place": lambda: rng.choice(PLACES), "Place": lambda: rng.choice(PLATFORMS),
            "goal": self.goal, "clause": self.clause, "noun": lambda: rng.choice(NOUNS),
            "verb": lambda: rng.choice(VERBS), "det": lambda: rng.choice(DETERMINERS),
            "role": lambda: rng.choice(ROLES),
            "person": lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        }

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
        mark_up(rng, parts, lambda _: [f"https://{host}/{slugify(self.goal())}/",
                                       f"https://www.example.org/etude-{rng.randint(1, 999)}"],
                links=0.5, bold=0.4)
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


def relay_of(index: int, count: int, number: int,
             style: str = "prose") -> tuple[int, int] | None:
    """For a relay blog's post, the (feed, post) it re-publishes, else None.

    Relay blogs (hubs that re-post with permission) copy recent posts of other feeds,
    with a credit footer and their own link and title: dedup must find them by text.
    In the templated style they copy no press republisher, whose posts may be copies.
    """
    if count < RELAY_EVERY or not is_relay(index) or number < 0 or number % 5 != 1:
        return None
    rng = _rng("relay", index, number)
    source = rng.choice([i for i in range(count) if not is_relay(i)
                         and (style == "prose" or KINDS[i % len(KINDS)] != "republisher")])
    return source, rng.randint(0, 8)


def source_of(index: int, count: int, number: int, style: str) -> tuple[int, int] | None:
    """The (feed, post) that post `number` of feed `index` is a copy of, else None."""
    return relay_of(index, count, number, style) or (
        republished_of(index, count, number) if style == "templated" else None)


def expected_copies(count: int, generation: int, style: str) -> int:
    """How many entries a correct dedup files as copies when polling a generation.

    Generation 1: every copy (relayed or republished post) of the corpus; generation
    2: the copies among the posts it adds (none: a new post is an original).
    """
    if generation == 1:
        return sum(source_of(i, count, n, style) is not None
                   for i in range(count) for n in range(ENTRIES))
    return sum(source_of(i, count, NEW_POST, style) is not None
               for i in range(count) if changed_in_generation_2(i))


def is_relay(index: int) -> bool:
    """Whether feed `index` is a relay blog."""
    return index % RELAY_EVERY == RELAY_OFFSET


def feed_posts(index: int, count: int, generation: int, style: str = "prose") -> list[Post]:
    """The posts of feed `index` (of `count`) in a generation's document, newest first."""
    numbers = list(range(ENTRIES))
    if generation == 2 and changed_in_generation_2(index):
        numbers = [NEW_POST, *numbers[:-1]]  # the oldest post falls off the end
    return [corpus_post(index, count, number, style) for number in numbers]


def corpus_post(index: int, count: int, number: int, style: str = "prose") -> Post:
    """Post `number` of feed `index` as its feed serves it: an original or a copy."""
    b = blog(index, style)
    relayed = relay_of(index, count, number, style)
    if relayed:
        return copy_post(b, number, *relayed, style=style)
    if style == "prose":
        return make_post(b, number)
    republished = republished_of(index, count, number)
    if republished:
        return republish_post(b, number, *republished)
    return make_templated_post(b, number)


def copy_post(b: Blog, number: int, source_feed: int, source_number: int,
              style: str = "prose") -> Post:
    """A relay blog's copy of another blog's post: same text, its own title, link and date."""
    source_blog = blog(source_feed, style)
    source = (make_post(source_blog, source_number) if style == "prose"
              else make_templated_post(source_blog, source_number))
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


def render_feed(index: int, count: int, generation: int = 1, style: str = "prose") -> bytes:
    """Feed `index` as RSS 2.0 (content:encoded) or Atom (content type="html")."""
    return render_posts(blog(index, style), feed_posts(index, count, generation, style))


def render_posts(b: Blog, posts: list[Post]) -> bytes:
    """A feed document of blog `b` holding `posts`."""
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


# --- the templated style --------------------------------------------------------------
# Real feeds also carry text written from templates: job ads, weekly press reviews,
# agency blogs in a house style, SEO pieces, press releases. There a five-word run of
# text recurs in hundreds of other posts: each post below is composed from banks of
# recurring sentences (with a few slots that vary) around some sentences of its own,
# so that distinct posts still share well under half their text.

# What feed `index` publishes, by index % 10 (3 is the relay blog, as in prose).
KINDS = ("press", "job", "revue", "relay", "agency", "republisher", "job", "seo", "press",
         "agency")
REPUBLISH_EVERY = 4  # of a republisher's posts, those numbered 2, 6, 10, ... are releases
REPUBLISH_OFFSET = 2
TEMPLATED_BLOG_TITLES = {
    "press": "Le fil des communiqués {company}", "job": "Les offres d’emploi com & social media",
    "revue": "La veille hebdo de {person}", "agency": "Le blog de l’agence {company}",
    "republisher": "L’actu des agences et des annonceurs", "seo": "{company} Academy",
}

PLATFORM_NAMES = ["Instagram", "LinkedIn", "TikTok", "Facebook", "YouTube", "Pinterest",
                  "X", "Threads", "Snapchat", "Twitch"]
TOOLS = ["Hootsuite", "Buffer", "Agorapulse", "Swello", "Later", "Metricool", "Canva",
         "Iconosquare", "Sprout Social", "Planable", "Sendible", "Mention", "Talkwalker",
         "Brand24", "Digimind", "Notion", "Trello", "Brevo", "Mailchimp", "CapCut",
         "Meta Business Suite", "Sociallymap", "Visibrain", "Hubspot"]
FIRM_SUFFIXES = ["", " Groupe", " France", " Labs", " & Associés"]
FIRM_KINDS = ["agence de communication", "start-up de la foodtech", "marque de cosmétiques bio",
              "réseau de franchises", "éditeur de logiciels", "enseigne de prêt-à-porter",
              "club sportif professionnel", "groupe de presse régional", "mutuelle",
              "association nationale", "plateforme de e-commerce", "cabinet de conseil"]
JOB_ROLES = ["Community manager", "Social media manager", "Chargé de communication digitale",
             "Content manager", "Brand content manager", "Social media ads manager",
             "Modérateur de communauté", "Chef de projet social media", "Responsable influence",
             "Rédacteur web et réseaux sociaux", "Community manager senior",
             "Alternant community manager"]
CONTRACTS = {"CDI": "CDI", "CDD 6 mois": "CDD de 6 mois", "CDD 12 mois": "CDD de 12 mois",
             "Alternance": "alternance", "Stage 6 mois": "stage de 6 mois",
             "Freelance": "freelance"}  # as a title and as a sentence say it
TOOL_ADJECTIVES = ["complet", "puissant", "intuitif", "polyvalent", "abordable", "français",
                   "collaboratif", "léger", "incontournable", "récent"]
MANAGERS = ["la directrice de la communication", "au responsable marketing",
            "à la cheffe de projet digital", "au directeur général", "à la responsable de l’agence"]

JOB_INTROS = [
    "{firm}, {firmkind} basée à {jobcity}, recrute un(e) {job} en {contract} pour renforcer "
    "son équipe communication.",
    "Pour accompagner sa croissance, {firm}, {firmkind} implantée à {jobcity}, recherche son "
    "ou sa futur(e) {job} en {contract}.",
    "Vous avez envie de rejoindre une équipe dynamique et de donner de la voix à une marque "
    "engagée ? {firm} recrute un(e) {job} en {contract} à {jobcity}.",
    "Rejoignez {firm} à {jobcity} : nous cherchons un(e) {job} ({contract}).",
    "Poste de {job} à pourvoir en {contract} chez {firm}, {firmkind}.",
]
JOB_COMPANY = [
    "Créée en {year}, l’entreprise compte aujourd’hui {n} collaborateurs répartis entre "
    "{jobcity} et {city}.",
    "Notre mission : rendre la communication digitale accessible à toutes les entreprises, "
    "quelle que soit leur taille.",
    "Nous accompagnons plus de {n} clients en France et à l’international dans leur "
    "stratégie de présence en ligne.",
    "Depuis sa création, la société connaît une croissance de plus de {n} % par an.",
    "Nos valeurs : la bienveillance, l’exigence et le goût du travail bien fait.",
    "L’équipe est jeune, passionnée et toujours prête à relever de nouveaux défis.",
]
JOB_MISSIONS = [
    "Définir et mettre en œuvre la stratégie social media de la marque sur {platforms}",
    "Élaborer le calendrier éditorial et planifier les publications de la semaine",
    "Créer des contenus engageants : visuels, vidéos courtes, stories et carrousels",
    "Animer et fédérer la communauté au quotidien, modérer les commentaires",
    "Assurer une veille concurrentielle et identifier les nouvelles tendances",
    "Suivre et analyser les performances et présenter un reporting mensuel",
    "Piloter les campagnes sponsorisées sur {platforms} avec un budget de {n} k€ par an",
    "Identifier les influenceurs et gérer les partenariats avec les créateurs de contenu",
    "Participer à l’organisation des événements et les couvrir en direct sur {platform}",
    "Rédiger des articles pour le blog et la newsletter mensuelle",
    "Gérer la relation avec les agences et les prestataires externes",
    "Répondre aux messages privés et faire remonter les demandes au service client",
    "Mettre en place les outils de gestion et d’écoute sociale, dont {tool}",
    "Proposer des actions innovantes pour développer la notoriété de la marque",
    "Former les équipes internes aux bonnes pratiques des réseaux sociaux",
    "Gérer les situations de crise et rédiger les réponses sensibles avec la direction",
    "Tourner et monter des vidéos courtes pour {platform} avec les moyens du bord",
    "Coordonner les prises de parole des ambassadeurs et des salariés sur LinkedIn",
    "Organiser des jeux concours et des lives avec les partenaires de la marque",
    "Suivre la e-réputation de la marque et alerter en cas de bad buzz",
    "Concevoir les newsletters et analyser leurs taux d’ouverture",
    "Briefer les graphistes et les vidéastes, valider les livrables",
    "Tenir à jour la charte éditoriale et la charte de modération",
    "Préparer les bilans trimestriels des campagnes pour le comité de direction",
]
JOB_PROFILE = [
    "Issu(e) d’une formation de niveau Bac+{n} en communication, marketing digital ou "
    "équivalent, vous justifiez d’une première expérience réussie sur un poste similaire.",
    "Vous maîtrisez parfaitement les réseaux sociaux, leurs codes et leurs outils "
    "(Meta Business Suite, {tool}, Canva, Adobe Premiere).",
    "Doté(e) d’excellentes qualités rédactionnelles et d’une orthographe irréprochable, "
    "vous êtes créatif(ve), curieux(se) et force de proposition.",
    "Votre sens de l’organisation et votre réactivité seront des atouts indispensables "
    "pour réussir dans ce poste.",
    "Vous êtes à l’aise avec les chiffres et savez tirer des enseignements de vos "
    "statistiques.",
    "La maîtrise de l’anglais est un plus, tout comme des notions de graphisme et de "
    "montage vidéo.",
    "Vous aimez le travail en équipe et savez faire preuve de diplomatie face aux "
    "commentaires négatifs.",
    "Une première expérience en agence ou chez l’annonceur serait appréciée.",
    "Vous suivez de près l’actualité des plateformes et des créateurs de contenu.",
    "Le permis B est souhaité pour les déplacements ponctuels sur les événements.",
    "Vous savez adapter votre ton à chaque cible, du grand public aux professionnels.",
    "Une connaissance du secteur {firmkind} serait un vrai plus.",
]
JOB_PERKS = [
    "Tickets restaurant d’une valeur de {n} € par jour", "Mutuelle prise en charge à 100 %",
    "Télétravail jusqu’à {days} jours par semaine", "Prime annuelle sur objectifs",
    "Remboursement de 50 % du titre de transport", "Locaux lumineux au cœur de {jobcity}",
    "Budget formation de {n}00 € par an", "Horaires flexibles et semaine de quatre jours",
    "Afterworks et séminaire annuel", "Ordinateur portable et téléphone professionnels",
    "Treizième mois", "Forfait mobilités durables", "Salle de sport dans les locaux",
    "Participation et intéressement", "Deux jours de congés supplémentaires par an",
    "Carte cadeau à l’arrivée et parrainage rémunéré", "Crèche d’entreprise",
    "Accompagnement à la mobilité depuis {city}",
]
JOB_TERMS = [
    "Poste à pourvoir dès {month} {year}, basé à {jobcity}.",
    "Rémunération : entre {low} et {high} k€ brut annuel selon expérience.",
    "Processus de recrutement : un premier échange téléphonique avec {person}, puis un "
    "entretien avec l’équipe et un cas pratique à réaliser.",
    "Envoyez votre CV et quelques exemples de réalisations à {email} en indiquant la "
    "référence {ref}.",
]
JOB_EXTRA = [
    "Au sein d’une équipe de {n} personnes, vous travaillerez en étroite collaboration "
    "avec les équipes marketing, commerciales et produit.",
    "Vous serez également amené(e) à participer à la réflexion stratégique sur "
    "l’évolution de nos outils de communication.",
    "Une période d’intégration de {days} semaines vous permettra de découvrir nos "
    "métiers, nos outils et nos clients.",
    "Ce poste est fait pour vous si vous aimez le travail en équipe, les défis et les "
    "projets variés.",
]
JOB_BOARD_OUTRO = (
    "Vous recrutez ? Publiez vos offres sur notre site et touchez plus de {n} 000 "
    "candidats qualifiés chaque mois, à partir de {price} € l’annonce.")

REVUE_TITLES = ["Revue de presse de la semaine #{week}",
                "La revue de presse du CM – semaine {week}",
                "Veille social media #{week} : les articles à ne pas manquer",
                "Revue de presse #{week} – réseaux sociaux et community management"]
REVUE_TOPICS = ["les nouveautés d’Instagram", "l’IA générative", "la modération",
                "les chiffres du e-commerce", "le social selling sur LinkedIn",
                "les tendances TikTok", "l’influence responsable", "les newsletters",
                "la publicité en ligne", "la marque employeur", "les podcasts",
                "le service client sur les réseaux sociaux", "la vidéo verticale"]
REVUE_INTRO = [
    "Comme chaque vendredi, voici notre sélection des articles à ne pas manquer cette "
    "semaine sur les réseaux sociaux, le community management et le marketing digital.",
    "Au programme de ce numéro {week} : {topics}.",
    "Bonne lecture, et n’hésitez pas à nous suggérer vos propres trouvailles !",
]
REVUE_ITEM = [
    "Sur le blog de {company}, {person} revient sur un sujet qui fait débat depuis "
    "plusieurs semaines.",
    "Dans une étude publiée cette semaine, {company} analyse les pratiques de plus de "
    "{n} marques françaises.",
    "Notre coup de cœur de la semaine : un article clair et bien documenté, à garder "
    "dans vos favoris.",
    "Un retour d’expérience passionnant, avec des chiffres concrets et des conseils "
    "faciles à appliquer.",
    "À lire absolument si vous gérez une communauté sur {platform}.",
    "Les chiffres sont parlants et confirment une tendance que nous observions depuis "
    "quelques mois.",
    "L’auteur propose une méthode simple en {days} étapes pour passer à l’action.",
    "Un article à partager avec votre équipe et avec vos clients les plus sceptiques.",
]
REVUE_OUTRO = [
    "C’est tout pour cette semaine !",
    "Si cette revue de presse vous a plu, n’hésitez pas à la partager autour de vous.",
    "Vous avez repéré un article intéressant ? Envoyez-le-nous à {email}, il figurera "
    "peut-être dans le numéro {next}.",
    "Bon week-end et à vendredi prochain !",
]
REVUE_FIGURE = [
    "{n} % des community managers déclarent utiliser au moins un outil d’intelligence "
    "artificielle chaque semaine.",
    "{n} minutes : c’est le temps moyen passé chaque jour sur {platform} par les 18-24 ans.",
    "{n} % des marques françaises publient désormais au moins une vidéo courte par semaine.",
]

AGENCY_TITLES = ["{days} conseils pour {goal}", "Comment {goal} : notre méthode en {days} étapes",
                 "Pourquoi votre entreprise doit {goal} en {year}",
                 "Étude de cas : comment nous avons aidé {company} à {goal}",
                 "Réseaux sociaux : {days} erreurs qui coûtent cher aux PME",
                 "{Place} : {clause}", "Le guide complet pour {goal}"]
AGENCY_INTROS = [
    "Chez {agency}, agence de communication digitale basée à {agencycity}, nous "
    "accompagnons depuis {agencyyear} les PME, les associations et les collectivités dans "
    "leur présence sur les réseaux sociaux. Aujourd’hui, on vous explique comment {goal}.",
    "Bienvenue sur le blog de {agency} ! Chaque semaine, notre équipe partage ses conseils "
    "pour vous aider à {goal} et à développer votre visibilité en ligne.",
    "Vous êtes nombreux à nous poser la question lors de nos ateliers à {agencycity} : "
    "comment {goal} sans y passer des heures ? L’équipe de {agency} vous répond.",
]
AGENCY_OUTROS = [
    "Vous souhaitez être accompagné pour {goal} ? L’équipe de {agency} est à votre écoute : "
    "contactez-nous pour un premier diagnostic gratuit de votre présence en ligne.",
    "Besoin d’un regard extérieur sur votre stratégie ? {agency} propose des audits "
    "sur mesure et des formations à {agencycity} et à distance.",
]
# Sentences every marketing blog seems to share, with a slot or two that varies.
JARGON = [
    "Dans un monde où les réseaux sociaux occupent une place de plus en plus importante, "
    "il est essentiel pour les marques de {goal}.",
    "Aujourd’hui, plus de {n} % des internautes français utilisent au moins un réseau "
    "social chaque jour.",
    "Une stratégie social media efficace repose avant tout sur une bonne connaissance de "
    "votre cible.",
    "Il est donc indispensable de définir des objectifs clairs et mesurables avant de "
    "vous lancer sur {platform}.",
    "La régularité est la clé : mieux vaut publier moins souvent mais avec des contenus "
    "de qualité.",
    "N’oubliez pas que chaque réseau social a ses propres codes et son propre public.",
    "Le contenu vidéo génère en moyenne {days} fois plus d’engagement que les "
    "publications statiques.",
    "Pensez à analyser régulièrement vos statistiques afin d’ajuster votre stratégie en "
    "conséquence.",
    "L’engagement de votre communauté est un indicateur bien plus pertinent que le nombre "
    "d’abonnés.",
    "Un calendrier éditorial vous permettra d’anticiper vos publications et de gagner un "
    "temps précieux.",
    "Le community manager joue un rôle central dans la relation entre la marque et sa "
    "communauté.",
    "Répondre rapidement aux commentaires et aux messages privés renforce la confiance de "
    "vos clients.",
    "Les micro-influenceurs affichent souvent un taux d’engagement supérieur à celui des "
    "grands comptes.",
    "Enfin, n’ayez pas peur de tester de nouveaux formats pour surprendre votre audience.",
    "Le storytelling permet de créer un lien émotionnel fort entre votre marque et votre "
    "public.",
    "Selon une étude récente de {company}, {n} % des consommateurs font davantage "
    "confiance aux avis de leurs pairs qu’à la publicité.",
    "Chaque publication doit apporter de la valeur à votre audience, qu’elle soit "
    "informative, divertissante ou inspirante.",
    "Les algorithmes favorisent les contenus qui suscitent des interactions dans les "
    "premières heures après leur publication.",
    "Une charte de modération claire vous aidera à gérer sereinement les commentaires "
    "négatifs.",
    "Le choix des réseaux sociaux dépend avant tout de votre cible et de vos objectifs.",
    "Sur {platform}, les publications les plus performantes sont souvent les plus "
    "simples et les plus authentiques.",
    "Mesurer le retour sur investissement de vos actions sur les réseaux sociaux reste "
    "un défi pour de nombreuses entreprises.",
]
CTA = [
    "Abonnez-vous à notre newsletter pour recevoir chaque {weekday} nos derniers conseils "
    "et nos meilleures ressources.",
    "Vous avez un projet ou une question ? Contactez-nous, notre équipe vous répond sous "
    "{days} heures.",
    "N’hésitez pas à partager cet article avec votre réseau s’il vous a été utile.",
    "Et vous, quelles sont vos astuces pour {goal} ? Dites-le-nous en commentaire !",
    "Téléchargez gratuitement notre livre blanc pour aller plus loin sur le sujet.",
    "Suivez-nous sur {platform} pour ne rien manquer de nos prochaines publications.",
    "Cet article vous a plu ? Retrouvez tous nos guides pratiques dans la rubrique "
    "{category} du blog.",
]
SEO_TITLES = ["Les {days} meilleurs outils pour {goal} en {year}",
              "{tool} : avis, prix et alternatives en {year}",
              "Top {days} des outils de community management à tester en {year}",
              "Comment {goal} : le guide complet pour débutants",
              "{tool} ou {tool} : lequel choisir en {year} ?"]
SEO_INTRO = [
    "Vous cherchez un moyen simple et efficace de {goal} ? Vous êtes au bon endroit !",
    "Dans cet article, nous avons testé et comparé pour vous les meilleures solutions du "
    "marché en {year}.",
    "Gratuits ou payants, pour les débutants comme pour les experts, voici notre "
    "sélection complète.",
]
SEO_TOOL = [
    "Son interface intuitive le rend accessible aux débutants comme aux professionnels.",
    "La prise en main est rapide, même sans aucune compétence technique.",
    "Il propose une version gratuite, limitée à {days} comptes, puis des offres payantes "
    "à partir de {price} € par mois.",
    "Le support client, disponible en français, répond généralement en moins de {days} "
    "heures.",
    "Ses rapports détaillés permettent de suivre l’évolution de vos performances en un "
    "coup d’œil.",
    "Il s’intègre facilement avec la plupart des outils que vous utilisez déjà au "
    "quotidien.",
]
SEO_FAQ = [
    "Quel est le meilleur outil pour {goal} ? Tout dépend de vos besoins, de la taille de "
    "votre équipe et de votre budget.",
    "Existe-t-il des outils gratuits ? Oui, la plupart des solutions présentées ici "
    "proposent une version gratuite ou une période d’essai de {days} jours.",
    "Faut-il plusieurs outils ? Pour une petite structure, un seul outil bien choisi "
    "suffit dans la plupart des cas.",
]
SEO_OUTRO = [
    "Vous l’aurez compris, il existe de nombreuses solutions pour {goal}.",
    "Le plus important est de choisir un outil adapté à vos besoins et de l’utiliser "
    "régulièrement.",
]
PRESS_TITLES = ["{firm} annonce {news}", "{firm} lance {product}",
                "{firm} nomme {person} au poste de directeur de la communication",
                "{firm} dévoile les résultats de son baromètre {year} des réseaux sociaux",
                "{firm} lève {days} millions d’euros pour accélérer son développement",
                "{firm} ouvre une nouvelle agence à {city}"]
PRESS_NEWS = ["un partenariat stratégique avec {company}", "l’acquisition de {company}",
              "son arrivée sur le marché belge", "le lancement de sa fondation d’entreprise",
              "une croissance record de son chiffre d’affaires",
              "l’ouverture de son capital à ses salariés", "son entrée en Bourse",
              "un accord de distribution avec {company}", "sa certification B Corp"]
PRESS_PRODUCTS = ["une nouvelle application mobile", "une offre dédiée aux TPE",
                  "sa plateforme d’écoute sociale", "un programme de formation certifiant",
                  "une gamme de services pour les collectivités",
                  "un assistant de modération", "son baromètre de l’engagement",
                  "une offre de formation en ligne", "un label de communication responsable",
                  "un outil de planification des publications"]
PRESS_LEAD = (
    "{firmcity}, le {date} {year} – {firm}, {firmkind}, annonce aujourd’hui une nouvelle "
    "étape de son développement.")
PRESS_BANK = [
    "Cette annonce s’inscrit dans la stratégie de développement de {firm}, qui ambitionne "
    "de devenir un acteur de référence de son marché d’ici {year}.",
    "Avec cette nouvelle offre, {firm} confirme son engagement en faveur d’une "
    "communication plus responsable et plus proche de ses publics.",
    "Le lancement sera accompagné d’une campagne de communication nationale sur les "
    "réseaux sociaux, en radio et en affichage.",
    "Les premiers résultats, mesurés auprès d’un panel de {n} clients pilotes, dépassent "
    "largement les objectifs fixés.",
    "Cette solution sera disponible dès le {date} {year} pour l’ensemble des clients de "
    "{firm}.",
    "Forte de ce succès, l’entreprise prévoit de recruter {n} nouveaux collaborateurs au "
    "cours des douze prochains mois.",
    "Les détails de l’offre ainsi que les conditions tarifaires sont disponibles sur le "
    "site internet de {firm}.",
    "Ce partenariat permettra aux deux entreprises de mutualiser leurs expertises au "
    "service de leurs clients.",
]
PRESS_QUOTES = [
    "« Nous sommes très fiers de franchir cette nouvelle étape aux côtés de nos clients et "
    "de nos partenaires », déclare {person}, {role} de {firm}.",
    "« Cette annonce est l’aboutissement de plusieurs mois de travail de nos équipes », "
    "souligne {person}, {role} de {firm}.",
]
PRESS_ABOUT = (
    "Fondée en {firmyear} à {firmcity}, {firm} est une {firmkind} qui accompagne les "
    "entreprises et les institutions dans leur communication. Elle compte {firmstaff} "
    "collaborateurs et réalise un chiffre d’affaires de {firmrevenue} millions d’euros. "
    "Plus d’informations sur le site de {firm}.")
PRESS_CONTACT = "Contact presse : {person} – {email} – 01 {phone}"
# A republisher's words before a release, and small rewordings it makes inside.
REPUBLISH_INTROS = [
    "Nous relayons ci-dessous le communiqué de presse de {firm}, reçu le {date}.",
    "Communiqué transmis par le service de presse de {firm}. Son contenu n’engage pas la "
    "rédaction.",
    "L’information nous arrive de {firmcity} : {firm} fait une annonce que nous publions "
    "telle quelle.",
]
REPUBLISH_PREFIXES = ["Communiqué : ", "[Communiqué] ", "CP – ", "Communiqué de presse : "]
REWORDINGS = [("annonce aujourd’hui", "a annoncé ce jour"), ("l’ensemble des", "tous les"),
              ("au cours des", "dans les"), ("largement", "très nettement"),
              ("sur le site internet de", "en ligne sur le site de"),
              ("Cette annonce", "Cette nouvelle"), ("nouvelle étape", "étape décisive")]

Block = tuple[str, list[str]]  # ("p" | "h2" | "h3" | "ul" | "quote" | "html", texts)


class _Templater(_Writer):
    """A _Writer that also fills the templated banks' slots; `fixed` holds a post's own."""

    def __init__(self, rng: random.Random, fixed: dict[str, str] | None = None) -> None:
        super().__init__(rng)
        self.fixed = fixed or {}

    def slots(self) -> dict[str, Callable[[], str]]:
        rng = self.rng
        return {
            **super().slots(),
            "platform": lambda: rng.choice(PLATFORM_NAMES),
            "platforms": lambda: " et ".join(rng.sample(PLATFORM_NAMES, 2)),
            "tool": lambda: rng.choice(TOOLS), "days": lambda: str(rng.randint(2, 9)),
            "price": lambda: str(rng.choice([9, 12, 15, 19, 29, 39, 49, 79, 99, 149])),
            "date": lambda: f"{rng.randint(1, 28)} {rng.choice(MONTHS)}",
            "weekday": lambda: rng.choice(["lundi", "mardi", "jeudi", "vendredi"]),
            "category": lambda: rng.choice(CATEGORIES),
            "topics": lambda: "{}, {} et {}".format(*rng.sample(REVUE_TOPICS, 3)),
            "email": lambda: (f"{slugify(rng.choice(FIRST_NAMES))}."
                              f"{slugify(rng.choice(LAST_NAMES))}"
                              f"@{slugify(rng.choice(COMPANIES))}.fr"),
            "ref": lambda: f"{rng.choice(['CM', 'COM', 'DIG', 'MKT'])}-{rng.randint(100, 999)}",
            "phone": lambda: " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4)),
            **{key: (lambda value=value: value) for key, value in self.fixed.items()},
        }

    def pick(self, bank: list[str], k: int) -> list[str]:
        """`k` sentences of a bank, in the bank's order, their slots filled."""
        chosen = sorted(self.rng.sample(range(len(bank)), k))
        return [self.sentence_of(bank[i]) for i in chosen]

    def sentence_of(self, template: str) -> str:
        text = self.fill(template)
        return text[0].upper() + text[1:]

    def prose(self, k: int) -> list[str]:
        """`k` sentences of the post's own, as the prose style writes them."""
        return [self.sentence() for _ in range(k)]


def _firm_traits(name: str) -> dict[str, str]:
    """A company's own facts, the same in each of its releases (its "À propos" paragraph)."""
    rng = _rng("templated", "firm", name)
    return {"firm": name, "firmkind": rng.choice(FIRM_KINDS), "firmcity": rng.choice(CITIES),
            "firmyear": str(rng.randint(1985, 2022)), "firmstaff": str(rng.randint(12, 900)),
            "firmrevenue": str(rng.randint(2, 140))}


def _house_style(b: Blog) -> dict[str, str]:
    """An agency's name, city and founding year, and its intro and outro templates
    (a media or a hub writes the same way, but introduces its blog, not an agency)."""
    rng = _rng("templated", "house", b.index)
    agency = b.title.removeprefix("Le blog de l’agence ").split(" — ")[0]
    return {"agency": agency, "agencycity": rng.choice(CITIES),
            "agencyyear": str(rng.randint(2005, 2020)),
            "intro": rng.choice(AGENCY_INTROS if b.kind == "agency" else AGENCY_INTROS[1:2]),
            "outro": rng.choice(AGENCY_OUTROS)}


@dataclass(frozen=True)
class _Draft:
    """A templated post before its size is made up: head, the filler's blocks, tail."""

    title: str
    categories: tuple[str, ...]
    head: list[Block]
    tail: list[Block]
    filler: Callable[[], list[Block]]


def _job(w: _Templater, b: Blog, number: int) -> _Draft:
    rng = w.rng
    job = rng.choice(JOB_ROLES)
    w.fixed.update(_firm_traits(rng.choice(COMPANIES) + rng.choice(FIRM_SUFFIXES)))
    contract = rng.choice(sorted(CONTRACTS))
    w.fixed.update(job=job.lower(), contract=CONTRACTS[contract], jobcity=rng.choice(CITIES),
                   low=str(rng.randint(26, 38)))
    w.fixed["high"] = str(int(w.fixed["low"]) + rng.randint(3, 9))
    head: list[Block] = [
        ("p", [w.sentence_of(rng.choice(JOB_INTROS)), *w.prose(1)]),
        ("h2", [rng.choice(["Qui sommes-nous ?", "L’entreprise", "À propos de nous"])]),
        ("p", [*w.pick(JOB_COMPANY, 1), *w.prose(3)]),
        ("h2", ["Vos missions"]),
        ("p", [w.sentence_of(f"Rattaché(e) {rng.choice(MANAGERS)}, vous serez en charge de "
                             "l’animation et du développement de nos communautés sur "
                             "{platforms}."),
               *(["À ce titre, vos principales missions seront les suivantes :"]
                 if rng.random() < 0.5 else w.prose(1))]),
        ("ul", w.pick(JOB_MISSIONS, rng.randint(3, 5))),
        ("h2", ["Votre profil"]),
        ("p", [*w.pick(JOB_PROFILE, 2), *w.prose(2)]),
    ]
    tail: list[Block] = [
        ("h2", [rng.choice(["Ce que nous offrons", "Les avantages", "Pourquoi nous rejoindre ?"])]),
        ("ul", w.pick(JOB_PERKS, rng.randint(3, 5))),
        ("h2", ["Modalités"]),
        ("p", [*w.pick(JOB_TERMS, 2), *w.prose(1)]),
        ("p", [w.sentence_of(JOB_BOARD_OUTRO), *w.pick(CTA, 1)]),
    ]
    title = f"{job} H/F – {contract} – {w.fixed['jobcity']}"
    return _Draft(title, ("Emploi", "Recrutement"), head, tail,
                  lambda: [("p", [*w.pick(JOB_EXTRA, 1), *w.prose(rng.randint(3, 4))]),
                           *([("ul", w.prose(3))] if rng.random() < 0.4 else [])])


def _revue(w: _Templater, b: Blog, number: int) -> _Draft:
    rng = w.rng
    traits = _rng("templated", "revue", b.index)
    week = traits.randint(20, 250) + ENTRIES - number  # NEW_POST is the next issue
    w.fixed.update(week=str(week), next=str(week + 1))
    head: list[Block] = [("p", w.pick(REVUE_INTRO, 2))]
    tail: list[Block] = [
        ("h2", ["Le chiffre de la semaine"]),
        ("p", [*w.pick(REVUE_FIGURE, 1), *w.prose(1)]),
        ("p", [*w.pick(REVUE_OUTRO, 3), *w.pick(CTA, 1)]),
    ]

    def item() -> list[Block]:
        title = w.fill(rng.choice(TITLE_FORMS))
        href = f"https://www.{slugify(rng.choice(COMPANIES))}.example/{slugify(title)}/"
        return [("html", [f'<h3><a href="{href}">{escape(title, quote=False)}</a></h3>']),
                ("p", [*w.pick(REVUE_ITEM, 1), *w.prose(rng.randint(2, 3))])]

    return _Draft(w.fill(traits.choice(REVUE_TITLES)), ("Veille", "Revue de presse"),
                  head, tail, item)


def _agency(w: _Templater, b: Blog, number: int) -> _Draft:
    rng = w.rng
    house = _house_style(b)
    w.fixed.update({k: v for k, v in house.items() if k not in ("intro", "outro")})
    head: list[Block] = [("p", [w.sentence_of(house["intro"])]),
                         ("p", [*w.pick(JARGON, 2), *w.prose(1)])]
    tail: list[Block] = [("h2", ["En résumé"]), ("p", [*w.pick(JARGON, 1), *w.prose(1)]),
                         ("p", [w.sentence_of(house["outro"]), *w.pick(CTA, 1)])]

    def section() -> list[Block]:
        if rng.random() < 0.45:
            return [("ul", [*w.pick(JARGON, 1), *w.prose(rng.randint(2, 4))])]
        return [("h2", [w.goal().capitalize()]),
                ("p", [*w.pick(JARGON, 1), *w.prose(rng.randint(2, 3))])]

    title = w.fill(rng.choice(AGENCY_TITLES))
    return _Draft(title, tuple(rng.sample(CATEGORIES, 2)), head, tail, section)


def _seo(w: _Templater, b: Blog, number: int) -> _Draft:
    rng = w.rng
    w.fixed["goal"] = w.goal()  # one subject throughout, as such pieces keep it
    head: list[Block] = [("p", w.pick(SEO_INTRO, 2)), ("p", [*w.pick(JARGON, 2), *w.prose(1)])]
    tail: list[Block] = [("h2", ["FAQ"]), ("p", w.pick(SEO_FAQ, 2)), ("h2", ["Conclusion"]),
                         ("p", [*w.pick(SEO_OUTRO, 2), *w.pick(CTA, 1)])]
    tools = iter(rng.sample(TOOLS, len(TOOLS)))
    ranks = itertools.count(1)

    def tool() -> list[Block]:
        name = next(tools, "Excel")
        verdict = w.sentence()
        return [("h2", [f"{next(ranks)}. {name}"]),
                ("p", [f"{name} est un outil {rng.choice(TOOL_ADJECTIVES)} qui permet de "
                       f"{w.fixed['goal']}.", *w.pick(SEO_TOOL, 1), *w.prose(2)]),
                ("ul", [f"Points forts : {w.clause()}.", f"Points faibles : {w.clause()}."]),
                ("p", [f"Notre avis : {verdict[0].lower()}{verdict[1:]}"])]

    title = w.fill(rng.choice(SEO_TITLES))
    return _Draft(title, ("Outils", "Tutoriels"), head, tail, tool)


def _press(w: _Templater, b: Blog, number: int) -> _Draft:
    rng = w.rng
    w.fixed.update(_firm_traits(rng.choice(COMPANIES) + rng.choice(FIRM_SUFFIXES)))
    w.fixed.update(news=w.fill(rng.choice(PRESS_NEWS)), product=rng.choice(PRESS_PRODUCTS))
    head: list[Block] = [("p", [w.sentence_of(PRESS_LEAD), *w.prose(1)]),
                         ("p", [*w.pick(PRESS_BANK, 1), *w.prose(3)])]
    quote = (w.pick(PRESS_QUOTES, 1) if rng.random() < 0.5 else
             [w.fill(f"« {w.clause().capitalize()} », explique {{person}} de {{firm}}.")])
    tail: list[Block] = [("quote", quote),
                         ("h2", [f"À propos de {w.fixed['firm']}"]),
                         ("p", [w.sentence_of(PRESS_ABOUT)]),
                         ("p", [w.sentence_of(PRESS_CONTACT)])]

    def section() -> list[Block]:
        shape = rng.random()
        if shape < 0.25:
            return [("h2", [w.goal().capitalize()]), ("p", w.prose(rng.randint(2, 3)))]
        if shape < 0.45:
            return [("h2", ["Les chiffres clés"]), ("ul", w.prose(rng.randint(3, 4)))]
        return [("p", [*w.pick(PRESS_BANK, 1), *w.prose(rng.randint(3, 4))])]

    return _Draft(w.fill(rng.choice(PRESS_TITLES)), ("Communiqués",), head, tail, section)


DRAFTS: dict[str, Callable[[_Templater, Blog, int], _Draft]] = {
    "job": _job, "revue": _revue, "agency": _agency, "republisher": _agency, "relay": _agency,
    "seo": _seo,
    "press": _press,
}


def _html(blocks: list[Block], markup: _Markup | None = None) -> str:
    """Blocks as clean HTML; with `markup`, its links, bold and pictures in and between
    paragraphs."""
    parts = []
    for tag, texts in blocks:
        if tag == "p" and markup is not None:
            parts += markup.paragraph(texts)
        elif tag == "html":
            parts.append(texts[0])
        elif tag == "ul":
            parts.append("<ul>" + "".join(f"<li>{escape(t, quote=False)}</li>"
                                          for t in texts) + "</ul>")
        elif tag == "quote":
            parts.append(f"<blockquote><p>{escape(' '.join(texts), quote=False)}</p></blockquote>")
        else:
            parts.append(f"<{tag}>{escape(' '.join(texts), quote=False)}</{tag}>")
    return "".join(parts)


class _Markup:
    """The inline markup of a templated post's paragraphs, as the prose style has about as
    much (links on a few words, bold sentences, pictures): parsing and cleaning a
    feed cost by the tag, and the two styles' floors should be alike.

    Drawn from its own generator, as a feed's CMS adds it: a re-published post has the
    same text in other markup.
    """

    SIZE = 550  # bytes it adds to a post, about: the text is made shorter by as much

    def __init__(self, rng: random.Random, host: str, stamp: datetime) -> None:
        self.rng, self.host, self.stamp = rng, host, stamp

    def paragraph(self, texts: list[str]) -> list[str]:
        """A paragraph's HTML, and a picture after it now and then."""
        rng = self.rng
        parts = [escape(text, quote=False) for text in texts]
        mark_up(rng, parts, lambda words: [
            f"https://{self.host}/{slugify(' '.join(words[:6]))}/",
            f"https://www.example.org/ressource-{rng.randint(1, 999)}"], links=0.4, bold=0.3)
        html = ["<p>" + " ".join(parts) + "</p>"]
        if rng.random() < 0.12:
            src = (f"https://{self.host}/wp-content/uploads/{self.stamp.year}/"
                   f"{self.stamp.month:02d}/image-{rng.randint(1, 9999)}.jpg")
            html.append(f'<p><img src="{src}" alt="" width="1024" height="576" '
                        'loading="lazy"></p>')
        return html


def _templated_blocks(b: Blog, number: int) -> tuple[random.Random, _Draft, list[Block]]:
    """A templated post's generator, draft and blocks, made up to its size."""
    rng = _rng("templated", "post", b.index, number)
    draft = DRAFTS[b.kind](_Templater(rng), b, number)
    # Narrower than the prose range: a templated post overshoots it by a larger last block.
    size = rng.randint(2800, 4200) - _Markup.SIZE
    blocks, tail_size = list(draft.head), len(_html(draft.tail).encode())
    while len(_html(blocks).encode()) + tail_size < size:
        blocks += draft.filler()
    return rng, draft, blocks + draft.tail


def make_templated_post(b: Blog, number: int) -> Post:
    """Post `number` of a templated blog (not a copy), rebuilt from its own seed."""
    rng, draft, blocks = _templated_blocks(b, number)
    published = post_date(b, number)
    markup = _Markup(_rng("templated", "markup", b.index, number), b.host, published)
    return _post(b, number, f"https://{b.host}/?p={100_000 + number * 7 + 3}", draft.title,
                 rng.choice(b.authors), published, draft.categories, _html(blocks, markup))


def _post(b: Blog, number: int, guid: str, title: str, author: str, published: datetime,
          categories: tuple[str, ...], html: str) -> Post:
    """A Post with its excerpt and link made as make_post makes them."""
    words = re.sub(r"<[^>]+>", " ", html).split()
    excerpt = " ".join(words[:55]) + " […]" if words else ""
    slug = f"{slugify(title)}-{number if number >= 0 else 'n'}"
    return Post(feed=b.index, number=number, guid=guid, title=title,
                link=f"https://{b.host}/{published:%Y/%m}/{slug}/", author=author,
                published=published, categories=categories, html=html, excerpt=excerpt)


def republished_of(index: int, count: int, number: int) -> tuple[int, int] | None:
    """For a republisher's post, the (press feed, post) whose release it re-publishes."""
    if (count < len(KINDS) or KINDS[index % len(KINDS)] != "republisher" or number < 0
            or number % REPUBLISH_EVERY != REPUBLISH_OFFSET):
        return None
    rng = _rng("templated", "republish", index, number)
    source = rng.choice([i for i in range(count) if KINDS[i % len(KINDS)] == "press"])
    return source, rng.randint(0, 8)


def republish_post(b: Blog, number: int, source_feed: int, source_number: int) -> Post:
    """A press release as another feed re-publishes it, lightly edited: its own intro line,
    one sentence dropped and one reworded, a title prefix, its own link and date.

    The same article still: a correct dedup files it as a copy of the release.
    """
    source_blog = blog(source_feed, "templated")
    _, draft, blocks = _templated_blocks(source_blog, source_number)
    source = make_templated_post(source_blog, source_number)
    rng = _rng("templated", "edit", b.index, number)
    firm = re.sub(r"^À propos de ", "", next(t[0] for tag, t in blocks if tag == "h2"
                                               and t[0].startswith("À propos de ")))
    writer = _Templater(rng, _firm_traits(firm))
    edited = _edit(rng, blocks)
    published = source.published + timedelta(days=1)
    markup = _Markup(_rng("templated", "markup", b.index, number), b.host, published)
    html = _html([("p", [writer.sentence_of(rng.choice(REPUBLISH_INTROS))]), *edited], markup)
    return _post(b, number, f"https://{b.host}/?p={300_000 + number}",
                 rng.choice(REPUBLISH_PREFIXES) + draft.title, rng.choice(b.authors),
                 published, ("Communiqués", "Annonces"), html)


def _edit(rng: random.Random, blocks: list[Block]) -> list[Block]:
    """`blocks` with one sentence dropped and one reworded (or two dropped, when no
    rewording applies), in paragraphs of several sentences."""
    edited = [(tag, list(texts)) for tag, texts in blocks]
    places = [(i, j) for i, (tag, texts) in enumerate(edited) if tag == "p" and len(texts) > 1
              for j in range(len(texts))]
    (i, j), (k, m) = rng.sample(places, 2)
    sentence = edited[k][1][m]
    rewordings = [(old, new) for old, new in REWORDINGS if old in sentence]
    if rewordings:
        old, new = rng.choice(rewordings)
        edited[k][1][m] = sentence.replace(old, new, 1)
    else:
        edited[k][1][m] = ""
    edited[i][1][j] = ""
    kept = [(tag, [t for t in texts if t]) for tag, texts in edited]
    return [(tag, texts) for tag, texts in kept if texts]  # a paragraph of two may go


# --- how much the posts of a corpus overlap -------------------------------------------


def text_words(html_text: str) -> list[str]:
    """The words of a post's text as the dedup compares them: lower-case, accents
    folded, punctuation dropped."""
    text = unescape(re.sub(r"<[^>]+>", " ", html_text)).casefold()
    text = text.replace("œ", "oe").replace("æ", "ae")
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).split()


def shingles(html_text: str) -> set[int]:
    """Hashes of every run of five words of a post's text (of all of them, if shorter)."""
    words = text_words(html_text)
    return {hash(tuple(words[i:i + 5])) for i in range(max(len(words) - 4, 1))}


@dataclass(frozen=True)
class Overlap:
    """How much the posts of a generation-1 corpus share, from a sample of them."""

    sampled: int
    mean_sharing: float  # other posts sharing at least one five-word run, on average
    min_sharing: int
    recurring: float  # the share of a post's five-word runs found in another post, on average
    max_distinct: float  # the largest share of the smaller text two distinct articles have
    min_copy: float  # the smallest share of the smaller text a copy has with its source
    copies: int


def overlap(count: int, style: str, sample: int = 200) -> Overlap:
    """How many other posts share a five-word run with each of `sample` posts, and how
    much of their text distinct articles and copies share (every post generated once)."""
    meter = OverlapMeter(count, style, sample)
    for feed in range(count):
        for post in feed_posts(feed, count, 1, style):
            meter.add(post)
    return meter.result()


class OverlapMeter:
    """Compares every post of a corpus with a sample of them, shingle by shingle."""

    def __init__(self, count: int, style: str, sample: int) -> None:
        self.count, self.style = count, style
        rng = _rng("overlap", style, count)
        self.keys = rng.sample([(i, n) for i in range(count) for n in range(ENTRIES)],
                               min(sample, count * ENTRIES))
        self.sampled = [shingles(corpus_post(i, count, n, style).html) for i, n in self.keys]
        self.index: dict[int, list[int]] = {}
        for position, found in enumerate(self.sampled):
            for shingle in found:
                self.index.setdefault(shingle, []).append(position)
        self.articles = [_article(i, n, count, style) for i, n in self.keys]
        self.sharing = [0] * len(self.keys)
        self.recurring: list[set[int]] = [set() for _ in self.keys]
        self.max_distinct, self.min_copy, self.copies = 0.0, 1.0, 0

    def add(self, post: Post) -> None:
        """Count what `post` shares with each sampled post (and with its source, if a copy)."""
        key = (post.feed, post.number)
        found = shingles(post.html)
        shared: Counter[int] = Counter()
        for shingle in found:
            for position in self.index.get(shingle, ()):
                if self.keys[position] != key:
                    shared[position] += 1
                    self.recurring[position].add(shingle)
        article = _article(post.feed, post.number, self.count, self.style)
        for position, common in shared.items():
            self.sharing[position] += 1
            if self.articles[position] != article:
                smaller = min(len(found), len(self.sampled[position]))
                self.max_distinct = max(self.max_distinct, common / smaller)
        if article != key:
            self.copies += 1
            source = shingles(corpus_post(article[0], self.count, article[1], self.style).html)
            self.min_copy = min(self.min_copy,
                                len(found & source) / min(len(found), len(source)))

    def result(self) -> Overlap:
        recurring = [len(r) / len(s) for r, s in zip(self.recurring, self.sampled, strict=True)]
        return Overlap(len(self.keys), sum(self.sharing) / len(self.keys), min(self.sharing),
                       sum(recurring) / len(recurring), self.max_distinct,
                       self.min_copy if self.copies else 0.0, self.copies)


def _article(feed: int, number: int, count: int, style: str) -> tuple[int, int]:
    """The (feed, post) of the original a post is, or is a copy of."""
    return source_of(feed, count, number, style) or (feed, number)


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
