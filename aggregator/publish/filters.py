"""Include and exclude rules on entries: pure decisions, applied when pages are rendered.

Rules live in feeds.yaml (globally under `settings.filters`, per feed under
`filters`); excluded entries stay stored, so changing a rule and running
`render` again is enough.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from aggregator.config.load import FeedConfig, FilterRule, Filters
from aggregator.dedup import normalize_text
from aggregator.i18n import N_
from aggregator.models import StoredEntry


@dataclass(frozen=True)
class Verdict:
    """Whether an entry is shown, and which rule decided when it is not."""

    shown: bool
    reason: str = ""


SHOWN = Verdict(True)


def entry_fields(entry: StoredEntry) -> dict[str, str]:
    """The text of each field rules look at."""
    # Imported here: poll.clean loads nh3 and ftfy, which the polling process leaves to the
    # parse workers and `status` needs only with rules.
    from aggregator.poll.clean import html_to_text

    return {
        "title": entry.title,
        "content": html_to_text(entry.content or entry.summary),
        "author": entry.author or "",
        "category": " · ".join(entry.categories),
    }


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def matches(rule: FilterRule, fields: Mapping[str, str]) -> bool:
    """Whether `rule` finds its keyword (whole words, case and accents aside) or regex."""
    if rule.regex:
        return any(_compiled(rule.pattern).search(fields[f]) for f in rule.fields)
    wanted = f" {normalize_text(rule.pattern)} "
    return any(wanted in f" {normalize_text(fields[f])} " for f in rule.fields)


def judge(entry: StoredEntry, *rule_sets: Filters) -> Verdict:
    """Shown unless an exclude rule matches, or include rules exist and none matches."""
    if not any(rule_sets):
        return SHOWN
    fields = entry_fields(entry)
    for rules in rule_sets:
        for rule in rules.exclude:
            if matches(rule, fields):
                # Stored and logged in English; shown through i18n.translate_message.
                return Verdict(False, N_("excluded by %(rule)s") % {"rule": rule.describe()})
    includes = [rule for rules in rule_sets for rule in rules.include]
    if includes and not any(matches(rule, fields) for rule in includes):
        return Verdict(False, N_("matches no include rule"))
    return SHOWN


class EntryFilter:
    """The rules of a whole feeds.yaml, ready to judge entries of any of its feeds."""

    def __init__(self, global_rules: Filters, feeds: Sequence[FeedConfig]) -> None:
        self.global_rules = global_rules
        self.by_feed = {feed.name: feed.filters for feed in feeds}

    def __bool__(self) -> bool:
        return bool(self.global_rules) or any(self.by_feed.values())

    def judge(self, entry: StoredEntry) -> Verdict:
        """The verdict on one entry, under the global rules and its feed's."""
        return judge(entry, self.global_rules, self.by_feed.get(entry.feed_name, Filters()))

    def shown(self, entries: list[StoredEntry]) -> list[StoredEntry]:
        """The entries no rule keeps out."""
        if not self:
            return entries
        return [entry for entry in entries if self.judge(entry).shown]
