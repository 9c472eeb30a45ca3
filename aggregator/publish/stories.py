"""Stories covered by several blogs ("À la une"): pure functions, articles in, groups out.

Two articles tell the same story when their weighted terms (TF-IDF over title and
text, French stop words and the trade's jargon left out, light stemming, names
counted double) are close, they share several distinctive terms, and at least one
name (a platform, a person, a product). Groups are merged only when every pair of
their members is so linked (complete linkage): a chain of loose likenesses never
makes a story. A wrong group costs more than a missed one, so the bar is high.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

# A story is the day's or the two days' before.
WINDOW_DAYS = 3
MAX_STORIES = 6
# Set on tests/data/stories: its different-story pairs reach a cosine of 0.36 at most,
# its same-story pairs 0.42 at least, sharing 8 terms or more.
MIN_SIMILARITY = 0.4
MIN_SHARED = 6
# A quiet window counts as this many articles for word rarity: in three articles a
# word of two of them is not common, and same-story pairs would share only "common" ones.
MIN_CORPUS = 40
TITLE_WEIGHT = 2.0
NAME_WEIGHT = 2.0


def fold(word: str) -> str:
    """A word lowercased without accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light French stem of a folded word: plurals and feminine endings off."""
    for ending in ("ements", "ement", "ations", "ation", "euses", "euse", "eurs", "eur",
                   "ives", "ive", "ifs", "if", "ees", "ee", "es", "s", "x", "e"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _words(text: str) -> list[str]:
    return text.split()


# French words (folded) that say nothing of a subject.
_STOP = frozenset(_words("""
a ai aie aient ainsi alors apres au aucun aucune aupres aussi autre autres aux avait
avaient avant avec avez avoir avons bien car ce ceci cela celle celles celui cependant
certain certaines certains ces cet cette ceux chaque chez comme comment contre dans de
deja depuis des desormais deux dont donc du elle elles en encore entre est et etaient
etait ete etre eux fait faire fois font hors ici il ils jamais je jusqu jusque la le
les leur leurs lors lorsque lui mais meme memes moins mon ne ni non nos notre nous on
ont ou par parce pas peu peut peuvent plus plusieurs pour pourquoi pourra pourront
quand que quel quelle quelles quels qui quoi sa sans se selon ses si sien son sont sous
soit sur ta tant te tes toujours tous tout toute toutes tres trop tu un une unes uns
vers via voici voila vont vos votre vous chez cote faut sera seront serait etc the and
for with this that from aura auront avait ayant dire dit donne doit doivent afin mardi
lundi mercredi jeudi vendredi samedi dimanche semaine mois annee jour jours hier
aujourd hui demain nouveau nouvelle nouveaux nouvelles premier premiere vraiment tient
tenir
"""))
# Words every community-management post uses: alike on them proves nothing.
_JARGON = frozenset(stem(word) for word in _words("""
reseau reseaux social sociaux media medias communaute community manager managers
engagement algorithme algorithmes contenu contenus strategie strategies marque marques
abonne abonnes audience audiences publication publications plateforme plateformes
utilisateur utilisateurs compte comptes post posts visibilite portee interaction
interactions conseil conseils outil outils creation createur createurs createurs
entreprise entreprises client clients format formats video videos equipe equipes
question questions exemple exemples cas resultat resultats objectif objectifs temps
article articles message messages ligne lignes donnee donnees chiffre chiffres annonce
annonces nombre public faire mettre prendre partager partage veille lance lancer
lancement propose proposer service services etats unis page pages
"""))
_GAP_WORD = re.compile(r"(\W*)(\w+)")
_SENTENCE_ENDS = frozenset(".!?:")


@dataclass(frozen=True, slots=True)
class Article:
    """One article as the story finder sees it: copies already merged into it."""

    id: int
    blog: str
    title: str
    link: str | None
    text: str
    dated: datetime


@dataclass(frozen=True, slots=True)
class Story:
    """Articles of different blogs about one subject, oldest first, under a title."""

    title: str
    articles: tuple[Article, ...]


def window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The times a day page's stories are taken from: that day and the two before."""
    start = datetime.combine(day - timedelta(days=WINDOW_DAYS - 1), time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def top_stories(articles: Iterable[Article], start: datetime, end: datetime) -> list[Story]:
    """The stories of the articles filed within [start, end), told by two blogs or more,
    the most covered first (then the latest)."""
    shown = [a for a in articles if start <= a.dated < end]
    vectors, names = _vectors(shown)
    links = _links(shown, vectors, names)
    stories = [_story(group, shown, links) for group in _complete_groups(len(shown), links)]
    stories.sort(key=lambda s: (-len(s.articles), -max(a.dated for a in s.articles)
                                .timestamp()))
    return stories[:MAX_STORIES]


def says_nothing(word: str) -> bool:
    """Whether a word says nothing of a subject: short, a number, a French stop word or
    a word every community-management post uses (by its stem)."""
    folded = fold(word)
    return (len(folded) < 3 or folded in _STOP or folded.isdigit()
            or stem(folded) in _JARGON)


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> tuple[str, bool] | None:
    """A word as written: its stem, and whether it is a name wherever it stands (mixed
    case, digits); None when it says nothing. Cached: a day's words are mostly the same
    few thousand, and folding and stemming them was most of the finding's time."""
    if says_nothing(word):
        return None
    return (stem(fold(word)),
            any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word))


def terms(text: str) -> tuple[Counter[str], set[str]]:
    """The stems of a text's meaningful words with their counts, and those of its names:
    words capitalized mid-sentence or in mixed case (TikTok, LinkedIn) or with digits."""
    keys: list[str] = []
    names: set[str] = set()
    # Each word with what parts it from the previous one: only that gap can end a
    # sentence; it is empty only before a text's first character.
    for gap, word in _GAP_WORD.findall(text):
        known = _word(word)
        if known is None:
            continue
        key, name = known
        keys.append(key)
        if name or (word[0].isupper() and gap
                    and gap.rstrip()[-1:] not in _SENTENCE_ENDS):
            names.add(key)
    return Counter(keys), names


def _vectors(articles: Sequence[Article]) -> tuple[list[dict[str, float]], list[set[str]]]:
    """Each article's unit TF-IDF vector (title and names weighed more) and names.

    A word written as a name anywhere in the window is one everywhere: "Pinterest"
    opens a sentence in one article and is mid-sentence in another."""
    counted = []
    every_name: set[str] = set()
    for article in articles:
        body, names = terms(article.text)
        title, title_names = terms(article.title)
        for key, n in title.items():
            body[key] += int(n * TITLE_WEIGHT)
        counted.append(body)
        every_name |= names | title_names
    seen = Counter(key for body in counted for key in body)
    total = max(len(counted), MIN_CORPUS)
    rarity = {key: math.log((total + 1) / (n + 1)) + 1 for key, n in seen.items()}
    vectors = []
    for body in counted:
        vector = {key: (1 + math.log(n)) * rarity[key]
                  * (NAME_WEIGHT if key in every_name else 1.0) for key, n in body.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({key: v / norm for key, v in vector.items()})
    return vectors, [body.keys() & every_name for body in counted]


def _links(articles: Sequence[Article], vectors: Sequence[dict[str, float]],
           names: Sequence[set[str]]) -> dict[tuple[int, int], float]:
    """The similarity of each strongly alike pair of articles of different blogs, by
    their indexes; only pairs sharing a name are compared.

    A name in many of the window's articles (a platform on a busy day) tells none apart
    and would make pairs by the million: same-story pairs share rarer ones. Even so a
    busy day has hundreds of thousands of pairs: their shared terms and likeness are
    counted in arrays, one article against all its partners at once, and only the few
    pairs that come near the bar are measured again term by term, as the bar is set."""
    common = max(MIN_CORPUS // 2, len(articles) // 10)
    by_name: dict[str, list[int]] = {}
    for index, keys in enumerate(names):
        for key in keys:
            by_name.setdefault(key, []).append(index)
    sharing = {key: np.array(indexes) for key, indexes in by_name.items()
               if len(indexes) <= common}
    rows = _Rows(articles, vectors)
    links = {}
    for i, keys in enumerate(names):
        partners = [sharing[key] for key in keys if key in sharing]
        if not partners:
            continue
        for j in rows.near(i, partners):
            shared = vectors[i].keys() & vectors[j].keys()
            similarity = sum(vectors[i][key] * vectors[j][key] for key in shared)
            if similarity >= MIN_SIMILARITY and len(shared) >= MIN_SHARED:
                links[i, j] = links[j, i] = similarity
    return links


class _Rows:
    """The articles' unit vectors as one sparse matrix (terms and weights row after row),
    to weigh an article against many others in a few array operations."""

    # Array sums add in another order than Python's: a pair this close to the bar is
    # measured again rather than lost to a rounding.
    SLACK = 1e-9

    def __init__(self, articles: Sequence[Article], vectors: Sequence[dict[str, float]]
                 ) -> None:
        numbers: dict[str, int] = {}
        self.terms = np.array([numbers.setdefault(key, len(numbers))
                               for vector in vectors for key in vector], dtype=np.intp)
        self.weights = np.array([w for vector in vectors for w in vector.values()])
        self.starts = np.cumsum([0] + [len(vector) for vector in vectors])
        blogs: dict[str, int] = {}
        self.blogs = np.array([blogs.setdefault(a.blog, len(blogs)) for a in articles])
        self.dense = np.zeros(len(numbers))  # one article's vector, spread out
        self.marked = np.zeros(len(articles), dtype=bool)

    def near(self, i: int, partners: list[npt.NDArray[np.intp]]) -> list[int]:
        """Those of the `partners` (indexes) after `i`, of other blogs, that share
        MIN_SHARED terms with it and come near MIN_SIMILARITY."""
        for indexes in partners:  # a mark per article: cheaper than sorting them out
            self.marked[indexes] = True
        others = np.flatnonzero(self.marked[i + 1:]) + (i + 1)
        for indexes in partners:
            self.marked[indexes] = False
        others = others[self.blogs[others] != self.blogs[i]]
        begins, ends = self.starts[others], self.starts[others + 1]
        others, begins, ends = others[ends > begins], begins[ends > begins], ends[ends > begins]
        if not others.size:
            return []
        lengths = ends - begins
        firsts = np.cumsum(lengths) - lengths  # where each partner's terms start
        at = np.arange(int(lengths.sum())) + np.repeat(begins - firsts, lengths)
        own = slice(self.starts[i], self.starts[i + 1])
        self.dense[self.terms[own]] = self.weights[own]
        mine = self.dense[self.terms[at]]  # i's weight of each partner's terms, or 0
        self.dense[self.terms[own]] = 0.0
        shared = np.add.reduceat(mine > 0, firsts)
        likeness = np.add.reduceat(mine * self.weights[at], firsts)
        near = (shared >= MIN_SHARED) & (likeness >= MIN_SIMILARITY - self.SLACK)
        return [int(j) for j in others[near]]


def _complete_groups(size: int, links: dict[tuple[int, int], float]) -> list[list[int]]:
    """Groups of two articles or more (by index) whose every pair is linked, strongest
    links first: two groups merge only when each member of one is linked to each of the
    other."""
    group_of = {i: [i] for i in range(size)}
    for (i, j), _ in sorted(links.items(), key=lambda item: -item[1]):
        a, b = group_of[i], group_of[j]
        if a is b or any((x, y) not in links for x in a for y in b):
            continue
        a.extend(b)
        for member in b:
            group_of[member] = a
    return list({id(g): sorted(g) for g in group_of.values() if len(g) > 1}.values())


def _story(group: list[int], articles: Sequence[Article],
           links: dict[tuple[int, int], float]) -> Story:
    """A group as a story, oldest article first, titled by its most central article
    (the earliest on a tie)."""
    members = sorted(group, key=lambda i: (articles[i].dated, articles[i].id))
    centre = max(members, key=lambda i: (sum(links[i, j] for j in members if j != i),
                                         -members.index(i)))
    return Story(articles[centre].title, tuple(articles[i] for i in members))
