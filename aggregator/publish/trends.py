"""The week's trends: the French key phrases whose use rose most over the last 7 days
against the 4 weeks before, counted in articles (YAKE finds each article's phrases);
and the reads of the "À la une" section, stories and trends, through the store."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
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
# YAKE leaves a sentence's last dot or a quote on a phrase's ends.
_EDGES = ".,;:!?…«»\"'’ \u00a0\u202f"


@dataclass(frozen=True, slots=True)
class Trend:
    """A key phrase and how many of the week's articles use it."""

    phrase: str
    count: int


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


@lru_cache(maxsize=20_000)
def key_phrases(text: str) -> frozenset[str]:
    """The key phrases of one article's text, lowercased; cached, since the same
    articles are counted again at each render of the day."""
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
    """The phrases whose share of the last week's articles rose most against the 4
    weeks before (a phrase new this week rises most), at most MAX_TRENDS, each with
    its count this week; phrases inside a better one are left out."""
    recent: Counter[str] = Counter()
    past: Counter[str] = Counter()
    blogs: dict[str, set[str]] = {}
    start = now - WEEK
    for text in texts:
        phrases = key_phrases(text.text)
        if start <= text.dated < now:
            recent.update(phrases)
            for phrase in phrases:
                blogs.setdefault(phrase, set()).add(text.blog)
        elif start - BEFORE <= text.dated < start:
            past.update(phrases)
    rise = {phrase: n / (past[phrase] * WEEK / BEFORE + 1) for phrase, n in recent.items()
            if n >= MIN_COUNT and len(blogs[phrase]) >= MIN_BLOGS}
    rising = sorted((p for p, r in rise.items() if r >= MIN_RISE),
                    key=lambda p: (-rise[p], -recent[p], p))
    chosen: list[str] = []
    for phrase in rising:
        if not any(_overlap(phrase, other) for other in chosen):
            chosen.append(phrase)
    return [Trend(phrase, recent[phrase]) for phrase in chosen[:MAX_TRENDS]]


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
        """The week's trends at `now`, from the articles of the last five weeks only."""
        first, last = (local_time(moment, self.day_entries.tz).date()
                       for moment in period(now))
        ids = [i for n in range((last - first).days + 1)
               for i in self._ids(first + timedelta(days=n))]
        return trends((Text(t.blog.title, f"{t.title}. {t.excerpt}", t.dated)
                       for t in self.day_entries.store.entry_texts(ids)), now)

    def _ids(self, day: date) -> tuple[int, ...]:
        if day not in self._listings:
            listing = self.day_entries.get(day)
            return listing.ids if listing else ()
        return self._listings[day]
