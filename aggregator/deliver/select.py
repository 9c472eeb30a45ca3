"""Which articles a newsletter carries: the period's articles, as its day pages show them
(feeds.yaml's filters applied), then the newsletter's own tags and filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from aggregator.config.load import Config, Filters, NewsletterConfig
from aggregator.deliver.compose import CardCache, chosen_tags, find_stories
from aggregator.deliver.periods import Period
from aggregator.models import StoredEntry
from aggregator.publish.digest import day_bounds
from aggregator.publish.filters import EntryFilter, entry_fields, matches
from aggregator.publish.pages import list_day
from aggregator.publish.stories import Story
from aggregator.store import Store

Days = Sequence[tuple[date, Sequence[StoredEntry]]]


class PeriodArticles:
    """The articles of each period asked, read once and shared by every newsletter that
    covers it (a hundred newsletters of one morning read the day once)."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.rules = EntryFilter(config.settings.filters, config.feeds)
        self.tz = ZoneInfo(config.settings.timezone)
        self._days: dict[date, list[StoredEntry]] = {}
        self._stories: dict[str, list[Story]] = {}
        self.cards: CardCache = {}  # the articles' cards, made once for all newsletters
        self._fields: dict[int, Mapping[str, str]] = {}

    def get(self, period: Period) -> list[tuple[date, list[StoredEntry]]]:
        """Each day of `period` with its articles, in the order its page shows them."""
        return [(day, self._day(day)) for day in period.days]

    def stories(self, period: Period) -> list[Story]:
        """The period's stories told by several blogs, found once for all its newsletters."""
        if period.key not in self._stories:
            self._stories[period.key] = find_stories(period, self.get(period), self.tz)
        return self._stories[period.key]

    def _day(self, day: date) -> list[StoredEntry]:
        if day not in self._days:
            listing = list_day(self.store, self.rules, day_bounds(day, self.tz))
            self._days[day] = (list(self.store.entries_by_ids(listing.ids).values())
                               if listing else [])
        return self._days[day]

    def pick(self, newsletter: NewsletterConfig, days: Days
             ) -> list[tuple[date, list[StoredEntry]]]:
        """`days` with only the articles `newsletter` takes; each entry's text folded once."""
        return [(day, [e for e in entries if self.takes(newsletter, e)]) for day, entries in days]

    def takes(self, newsletter: NewsletterConfig, entry: StoredEntry) -> bool:
        """Whether the newsletter carries the article: one of its tags, and its filters."""
        if not has_tag(entry, newsletter.tags):
            return False
        if not newsletter.filters:
            return True
        key = id(entry)
        if key not in self._fields:
            self._fields[key] = entry_fields(entry)
        return passes(self._fields[key], newsletter.filters)


def has_tag(entry: StoredEntry, tags: Sequence[str]) -> bool:
    """Whether the entry's blog has one of `tags` (case and accents aside); all pass without."""
    return not tags or bool(chosen_tags(entry.tags, tuple(tags)))


def passes(fields: Mapping[str, str], filters: Filters) -> bool:
    """No exclude rule matches, and an include rule does when there are some."""
    if any(matches(rule, fields) for rule in filters.exclude):
        return False
    return not filters.include or any(matches(rule, fields) for rule in filters.include)
