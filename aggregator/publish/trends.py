"""The week's trends: the French key phrases whose use rose most over the last 7 days
against the 4 weeks before, counted in articles (YAKE finds each article's phrases,
kept in the store for the next renders); and the reads of the "À la une" section,
stories and trends, through the store, the trends' within a bound however many
articles the five weeks hold (docs/architecture.md, "The week's trends")."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import zip_longest
from typing import Any

from aggregator.publish.digest import local_time
from aggregator.publish.pages import DayEntries
from aggregator.publish.stories import (
    WINDOW_DAYS,
    Article,
    Story,
    fold,
    says_nothing,
    top_stories,
    window,
)

WEEK = timedelta(days=7)
BEFORE = 4 * WEEK
MAX_TRENDS = 8
# Phrases YAKE keeps per article: the few that say what it is about.
PHRASES = 10
MAX_WORDS = 2
# A trend is a phrase of at least this many of the week's articles...
MIN_COUNT = 2
# ...from at least this many blogs: one blog's series is not a trend...
MIN_BLOGS = 2
# ...used at least this many times as often as in an average week before (plus one).
MIN_RISE = 2.0
# A render reads at most this many of a day's articles, a fixed sample of the day's
# (see rank): a day of 10,000 costs what a day of DAY_SAMPLE does...
DAY_SAMPLE = 500
# ...and finds the phrases of at most this many articles that have none kept (YAKE,
# 1 to 4.5 ms each): the others are left out of the counts until a later render.
NEW_PHRASES = 1_000
# The version of key_phrases, in each kept phrases' digest: raised when it finds other
# phrases in the same text, it has every article's found again (NEW_PHRASES a render).
FINDER = 1
# YAKE leaves a sentence's last dot or a quote on a phrase's ends.
_EDGES = ".,;:!?…«»\"'’ \u00a0\u202f"


@dataclass(frozen=True, slots=True)
class Trend:
    """A key phrase and how many of the week's articles use it."""

    phrase: str
    count: int


@dataclass(frozen=True, slots=True)
class Counted:
    """An article's key phrases, its blog and when it was filed, and how many of its
    day's articles it stands for: 1, or more where the day was sampled."""

    blog: str
    phrases: frozenset[str]
    dated: datetime
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Text:
    """An article's title and excerpt, its blog and when it was filed."""

    blog: str
    text: str
    dated: datetime


def period(now: datetime) -> tuple[datetime, datetime]:
    """The times whose articles are counted: the week before `now` and the 4 before it."""
    return now - WEEK - BEFORE, now


# "l’étiquette" is "étiquette": the article before a word is not part of the phrase.
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’]")


def key_phrases(text: str) -> frozenset[str]:
    """The key phrases of one article's text, lowercased (the store keeps them: see
    FrontPage)."""
    phrases = (_ELISION.sub("", phrase.lower()).strip(_EDGES)
               for phrase, _ in _extractor().extract_keywords(text))
    # A phrase of words that say nothing of a subject ("faire", "community manager") is
    # in every week's posts: the trends would be the trade's vocabulary.
    return frozenset(p for p in phrases if p and not all(says_nothing(w) for w in p.split()))


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import yake  # loaded only when trends are shown: it takes a while

    # No deduplication of near phrases by YAKE (half its time): trends() merges
    # phrases that share a word.
    return yake.KeywordExtractor(lan="fr", n=MAX_WORDS, top=PHRASES, dedup_lim=1.0)


def trends(texts: Iterable[Text], now: datetime) -> list[Trend]:
    """The trends of articles' texts at `now` (see rising)."""
    return rising((Counted(t.blog, key_phrases(t.text), t.dated) for t in texts), now)


def rising(articles: Iterable[Counted], now: datetime) -> list[Trend]:
    """The phrases whose share of the last week's articles rose most against the 4
    weeks before (a phrase new this week rises most), at most MAX_TRENDS, each with
    its count this week; phrases inside a better one are left out. Counts are of
    articles weighed by what they stand for; MIN_COUNT is of the articles seen."""
    recent: defaultdict[str, float] = defaultdict(float)
    past: defaultdict[str, float] = defaultdict(float)
    seen: defaultdict[str, int] = defaultdict(int)
    blogs: dict[str, set[str]] = {}
    start = now - WEEK
    for article in articles:
        if start <= article.dated < now:
            for phrase in article.phrases:
                recent[phrase] += article.weight
                seen[phrase] += 1
                blogs.setdefault(phrase, set()).add(article.blog)
        elif start - BEFORE <= article.dated < start:
            for phrase in article.phrases:
                past[phrase] += article.weight
    rise = {phrase: n / (past[phrase] * WEEK / BEFORE + 1) for phrase, n in recent.items()
            if seen[phrase] >= MIN_COUNT and len(blogs[phrase]) >= MIN_BLOGS}
    risen = sorted((p for p, r in rise.items() if r >= MIN_RISE),
                   key=lambda p: (-rise[p], -recent[p], p))
    chosen: list[str] = []
    for phrase in risen:
        if not any(_overlap(phrase, other) for other in chosen):
            chosen.append(phrase)
    return [Trend(phrase, round(recent[phrase])) for phrase in chosen[:MAX_TRENDS]]


def rank(entry_id: int) -> bytes:
    """A fixed pseudo-random order of articles: a day's sample is its DAY_SAMPLE first
    in it, whatever their subjects, and mostly the same one as the day grows, so
    that their kept phrases serve again."""
    return hashlib.blake2b(entry_id.to_bytes(8, "big"), digest_size=8,
                           person=b"trends").digest()


def sample(days: Sequence[Sequence[int]]) -> list[list[int]]:
    """Each day's articles first by rank, at most DAY_SAMPLE of them."""
    return [sorted(ids, key=rank)[:DAY_SAMPLE] for ids in days]


def spread(days: Sequence[Sequence[int]]) -> list[int]:
    """Every day's first article, then every day's second...: cut anywhere (at
    NEW_PHRASES), the articles before the cut are spread evenly over the days."""
    return [i for column in zip_longest(*days) for i in column if i is not None]


def text_digest(text: str) -> int:
    """A signed 64-bit digest of an article's text and of FINDER: its kept phrases
    serve while both are the same."""
    return int.from_bytes(hashlib.blake2b(f"{FINDER}\n{text}".encode(), digest_size=8)
                          .digest(), "big", signed=True)


def _overlap(one: str, other: str) -> bool:
    """Whether two phrases share a word (accents aside): "reels" and "onglet reels",
    "digital markets" and "markets act" are one trend."""
    return bool(set(fold(one).split()) & set(fold(other).split()))


class FrontPage:
    """What "À la une" reads through the store, filters applied: a day's stories and
    the week's trends. Day pages are rendered newest first: the listings of the last
    few days asked are kept, so each day is listed once however many pages show it."""

    def __init__(self, day_entries: DayEntries) -> None:
        self.day_entries = day_entries
        self._listings: dict[date, tuple[int, ...]] = {}
        # The latest day's stories head both its page and the index: grouped once.
        self._stories: dict[date, list[Story]] = {}

    def stories(self, day: date) -> list[Story]:
        """The stories of `day` and the two days before it."""
        if day not in self._stories:
            self._stories[day] = self._group(day)
        return self._stories[day]

    def _group(self, day: date) -> list[Story]:
        days = [day - timedelta(days=n) for n in range(WINDOW_DAYS)]
        self._listings = {d: self._ids(d) for d in days}  # the older ones are done with
        texts = self.day_entries.store.entry_texts(
            [i for d in days for i in self._listings[d]])
        articles = [Article(t.id, t.blog.title, t.title, t.link, t.excerpt, t.dated)
                    for t in texts]
        return top_stories(articles, *window(day, self.day_entries.tz))

    def trends(self, now: datetime) -> list[Trend]:
        """The week's trends at `now`, from the articles of the last five weeks only,
        at most DAY_SAMPLE a day, at most NEW_PHRASES of them without kept phrases."""
        first, last = (local_time(moment, self.day_entries.tz).date()
                       for moment in period(now))
        days = [self._ids(first + timedelta(days=n)) for n in range((last - first).days + 1)]
        return rising(self._counted(days), now)

    def _counted(self, days: Sequence[Sequence[int]]) -> Iterator[Counted]:
        """The sampled articles of `days` that have phrases, each weighed by the share
        of its day's articles it stands for: a sampled day weighs what it holds."""
        chosen = sample(days)
        texts = {t.id: t for t in self.day_entries.store.entry_texts(
            [i for day in chosen for i in day])}
        phrases = self._phrases({i: f"{t.title}. {t.excerpt}" for i, t in texts.items()},
                                spread(chosen))
        for ids, day in zip(days, chosen, strict=True):
            known = [texts[i] for i in day if i in phrases]
            for text in known:
                yield Counted(text.blog.title, phrases[text.id], text.dated,
                              len(ids) / len(known))

    def _phrases(self, words: dict[int, str], order: list[int]
                 ) -> dict[int, frozenset[str]]:
        """The phrases of the articles of `words` (id: text) kept for that text, and
        those of at most NEW_PHRASES others, found in `order` and kept."""
        store = self.day_entries.store
        digests = {i: text_digest(text) for i, text in words.items()}
        found = {i: phrases for i, (digest, phrases) in store.entry_phrases(list(words)).items()
                 if digests.get(i) == digest}
        new = [(i, digests[i], key_phrases(words[i]))
               for i in [i for i in order if i in words and i not in found][:NEW_PHRASES]]
        store.keep_entry_phrases(new)
        return found | {i: phrases for i, _, phrases in new}

    def _ids(self, day: date) -> tuple[int, ...]:
        if day not in self._listings:
            listing = self.day_entries.get(day)
            return listing.ids if listing else ()
        return self._listings[day]
