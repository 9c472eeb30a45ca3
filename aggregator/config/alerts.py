"""The `alerts:` list of feeds.yaml: its keys, the dataclass they fill, and the check that
Apprise knows each address an alert notifies."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aggregator.config.kinds import NAME, RULES, TEXTS, Key, Kind
from aggregator.config.parsers import FilterRule, Filters, parse_rules, shown
from aggregator.i18n import N_


def parse_match(value: object) -> tuple[FilterRule, ...]:
    """At least one rule: an alert that matches nothing is surely a mistake."""
    rules = parse_rules(value)
    if not rules:
        raise ValueError(N_("expected at least one rule, got %(value)r") % {"value": value})
    return rules


MATCH = Kind("rules", parse_match, RULES.schema, needs=RULES.needs)

ALERT_KEYS: tuple[Key, ...] = (
    Key("name", NAME, None, "The alert's name, in its messages and in `alerts test NAME`.",
        required=True),
    Key("match", MATCH, None, "Rules as in filters: an article matching any of them alerts.",
        required=True),
    Key("exclude", RULES, [], "Rules as in filters: an article matching one of them does not."),
    Key("notify", TEXTS, None, "Apprise addresses (slack://, mmost://, msteams://, json://...) "
        "that each get one message per poll listing the new matching articles.",
        required=True),
)


@dataclass(frozen=True)
class AlertConfig:
    """One alert as the user listed it: which new articles it tells of, and to whom."""

    name: str
    match: tuple[FilterRule, ...]
    exclude: tuple[FilterRule, ...] = ()
    notify: tuple[str, ...] = ()

    @property
    def rules(self) -> Filters:
        """The alert's rules as filters judge them: match includes, exclude excludes."""
        return Filters(include=self.match, exclude=self.exclude)


def alert_values(values: dict[str, Any]) -> AlertConfig | None:
    """The alert the parsed `values` make, or None when a required key failed."""
    if any(key.name not in values for key in ALERT_KEYS if key.required):
        return None
    return AlertConfig(**values)


def check_address(url: str) -> str | None:
    """Why Apprise cannot notify `url` (a message for the user), or None when it can."""
    # Imported here: Apprise and its plugins take a third of a second, which only files
    # with alerts pay.
    import apprise

    with apprise.LogCapture(  # type: ignore[no-untyped-call]
            level=logging.WARNING, fmt="%(message)s") as captured:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is not None:
        return None
    said = captured.getvalue().strip().splitlines()
    reason = f" ({said[0].strip()})" if said else ""
    return (N_("Apprise does not know the address %(url)s%(reason)s; the addresses of "
               "each service: https://github.com/caronc/apprise/wiki")
            % {"url": shown(url), "reason": reason})
