"""Readers of feeds.yaml's values: each takes what YAML gave and returns it typed, or raises
ValueError with a message for the user."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.i18n import N_

FILTER_FIELDS = ("title", "content", "author", "category")
LANGUAGES = ("fr", "en")

# Written for both Python and the JSON Schema's ECMA-262 regular expressions, so the
# letters list both cases instead of relying on a flag.
DURATION_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*([sSmMhHdDwW])?\s*$"
SIZE_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*([bB]|[kKmMgG][bB]|[kKmMgG][iI][bB])?\s*$"
CLOCK_PATTERN = r"^\s*([01]?\d|2[0-3])[:h]([0-5]\d)\s*$"

# The longest feed name: the store's column holds this many characters (PostgreSQL refuses
# more, and every command would fail on syncing the feeds).
NAME_LENGTH = 200
# Control (Cc), format (Cf: zero-width spaces, bidi overrides) and line or paragraph
# separators: in a name or a title they break the one-line outputs (logs, OPML, XML) or hide
# what it says. The zero-width joiners stay: emoji and several scripts are written with them.
# Lone surrogates (Cs, which YAML's "\ud800" escapes make) no file or database can encode.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}


@dataclass(frozen=True)
class FilterRule:
    """A keyword (case and accents ignored, whole words) or a regular expression."""

    pattern: str
    regex: bool = False
    fields: tuple[str, ...] = FILTER_FIELDS

    def describe(self, translate: Callable[[str], str] = str) -> str:
        """The rule as a person wrote it, for `feeds check --filters` (in English) and
        `alerts list` (`translate`: the i18n `_`, which says it in the user's language)."""
        if self.fields == FILTER_FIELDS:
            message = N_("regex %(pattern)r") if self.regex else N_("keyword %(pattern)r")
        else:
            message = (N_("regex %(pattern)r in %(fields)s") if self.regex
                       else N_("keyword %(pattern)r in %(fields)s"))
        return translate(message) % {"pattern": self.pattern, "fields": ", ".join(self.fields)}


@dataclass(frozen=True)
class Filters:
    """Include and exclude rules: an entry shows if it matches an include rule (when
    there are any) and no exclude rule."""

    include: tuple[FilterRule, ...] = ()
    exclude: tuple[FilterRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


def shown(value: object) -> str:
    """A value as a message quotes it: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_duration(value: object) -> timedelta:
    """`90`, `30s`, `30m`, `2h`, `1d`, `1w` to a timedelta (a bare number is seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(N_("expected a duration like 30m, 2h or 1d, got %(value)r")
                         % {"value": value})
    match = re.match(DURATION_PATTERN, str(value))
    if not match:
        raise ValueError(N_("expected a duration like 30m, 2h or 1d, got %(value)r")
                         % {"value": value})
    seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(N_("expected a positive duration, got %(value)r") % {"value": value})
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # beyond timedelta's 999,999,999 days, or infinite
        raise ValueError(N_("expected a duration like 30m, 2h or 1d, got %(value)s, far too long")
                         % {"value": shown(value)}) from None


def parse_seconds(value: object) -> float:
    """A duration as a number of seconds."""
    return parse_duration(value).total_seconds()


def parse_size(value: object) -> int:
    """`10MB`, `512KiB` or a number of bytes to a number of bytes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(N_("expected a size like 10MB, got %(value)r") % {"value": value})
    match = re.match(SIZE_PATTERN, str(value))
    if not match:
        raise ValueError(N_("expected a size like 10MB, got %(value)r") % {"value": value})
    size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(N_("expected a positive size, got %(value)r") % {"value": value})
    return size


def parse_url(value: object) -> str:
    """An http:// or https:// address, without surrounding spaces."""
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https") and parts.netloc:
            return value.strip()
    raise ValueError(N_("expected an http:// or https:// URL, got %(value)r") % {"value": value})


def parse_base_url(value: object) -> str:
    """An address that pages are joined to, so it ends with a slash."""
    url = parse_url(value)
    return url if url.endswith("/") else url + "/"


def parse_text(value: object) -> str:
    """A string with something in it, stripped, without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(N_("expected a non-empty string, got %(value)r") % {"value": value})
    text = value.strip()
    hidden = next((c for c in text
                   if unicodedata.category(c) in _HIDDEN and c not in _JOINERS), None)
    if hidden is not None:
        what = unicodedata.name(hidden, "a lone surrogate" if unicodedata.category(hidden) == "Cs"
                                else "a control character")
        raise ValueError(N_("contains the invisible character %(code)s (%(name)s): %(text)s") % {
            "code": f"U+{ord(hidden):04X}", "name": what, "text": shown(text)})
    return text


def parse_name(value: object) -> str:
    """A feed's name: text of at most NAME_LENGTH characters, on one line."""
    name = parse_text(value)
    if len(name) > NAME_LENGTH:
        raise ValueError(N_("expected at most %(most)d characters, got %(count)d")
                         % {"most": NAME_LENGTH, "count": len(name)})
    return name


def parse_timezone(value: object) -> str:
    """The name of an IANA time zone this machine knows."""
    name = parse_text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(N_("unknown time zone %(name)r (expected e.g. Europe/Paris)")
                         % {"name": name}) from None
    return name


def parse_language(value: object) -> str:
    """A language the pages are translated into."""
    name = parse_text(value)
    if name not in LANGUAGES:
        raise ValueError(N_("expected one of %(choices)s, got %(name)r") % {
            "choices": ", ".join(map(repr, LANGUAGES)), "name": name})
    return name


FULL_TEXT_MODES = ("auto", "always", "never")


def parse_full_text(value: object) -> str:
    """When an entry's article page is fetched: auto (a truncated entry), always or never."""
    name = parse_text(value)
    if name not in FULL_TEXT_MODES:
        raise ValueError(N_("expected one of %(choices)s, got %(name)r") % {
            "choices": ", ".join(map(repr, FULL_TEXT_MODES)), "name": name})
    return name


def parse_positive_int(value: object) -> int:
    """A whole number above zero (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(N_("expected a positive whole number, got %(value)r") % {"value": value})
    return value


def parse_bool(value: object) -> bool:
    """YAML's true or false, nothing that merely looks like one."""
    if not isinstance(value, bool):
        raise ValueError(N_("expected true or false, got %(value)r") % {"value": value})
    return value


def parse_tags(value: object) -> tuple[str, ...]:
    """A tag or a list of tags, stripped, each once, each a name (parse_name)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(N_("expected a list of tags, got %(value)r") % {"value": value})
    bad = [t for t in value if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(N_("every tag must be a non-empty string, got %(value)r")
                         % {"value": bad[0]})
    # Each checked as a name is: a tag names pages, folders and feeds.
    return tuple(dict.fromkeys(parse_name(tag) for tag in value))


def parse_clock(value: object) -> time:
    """`07:00` (or `7h00`): a local time of day."""
    match = re.match(CLOCK_PATTERN, str(value)) if isinstance(value, str | int) else None
    if not match:
        raise ValueError(N_("expected a time of day like 07:00, got %(value)r") % {"value": value})
    return time(int(match.group(1)), int(match.group(2)))


def parse_rule(value: object) -> FilterRule:
    """A keyword, or `{keyword|regex: ..., in: [fields]}`."""
    if isinstance(value, str) and value.strip():
        return FilterRule(value.strip())
    if not isinstance(value, dict):
        raise ValueError(N_("expected a keyword or {keyword|regex: ..., in: [...]}, got %(value)r")
                         % {"value": value})
    unknown = set(value) - {"keyword", "regex", "in"}
    kinds = [k for k in ("keyword", "regex") if k in value]
    if unknown or len(kinds) != 1:
        raise ValueError(N_("a rule is a keyword, or a mapping with one of `keyword` or "
                            "`regex` and optionally `in`, got %(value)r") % {"value": dict(value)})
    pattern = value[kinds[0]]
    if not isinstance(pattern, str) or not pattern.strip():
        empty = (N_("expected a non-empty keyword, got %(value)r") if kinds[0] == "keyword"
                 else N_("expected a non-empty regex, got %(value)r"))
        raise ValueError(empty % {"value": pattern})
    if kinds[0] == "regex":
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(N_("invalid regular expression %(value)r: %(error)s")
                             % {"value": pattern, "error": exc}) from None
    fields = value.get("in", list(FILTER_FIELDS))
    fields = [fields] if isinstance(fields, str) else fields
    if not isinstance(fields, list) or not fields or any(f not in FILTER_FIELDS for f in fields):
        raise ValueError(N_("`in` lists fields among %(fields)s, got %(value)r") % {
            "fields": ", ".join(FILTER_FIELDS), "value": fields})
    return FilterRule(pattern.strip(), regex=kinds[0] == "regex", fields=tuple(fields))


def parse_filters(value: object) -> Filters:
    """`{include: [rules], exclude: [rules]}`, either list optional."""
    if not isinstance(value, dict) or set(value) - {"include", "exclude"}:
        raise ValueError(N_("expected a mapping with `include` and/or `exclude`, got %(value)r")
                         % {"value": value})
    rules: dict[str, tuple[FilterRule, ...]] = {}
    for key in ("include", "exclude"):
        try:
            rules[key] = parse_rules(value.get(key) or [])
        except _NotAList:
            raise ValueError(N_("`%(key)s` is a list of rules, got %(value)r") % {
                "key": key, "value": value.get(key)}) from None
    return Filters(**rules)


class _NotAList(ValueError):
    """What parse_rules raises for a value that is no rule and no list of them."""


def parse_rules(value: object) -> tuple[FilterRule, ...]:
    """A rule or a list of rules (parse_rule), as filters' `include` and alerts' `match`."""
    items = [value] if isinstance(value, str | dict) else value
    if not isinstance(items, list):
        raise _NotAList(N_("expected a rule or a list of rules, got %(value)r")
                        % {"value": value})
    return tuple(parse_rule(item) for item in items)


def parse_texts(value: object) -> tuple[str, ...]:
    """A string or a list of strings, each stripped and non-empty (parse_text), each once."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(N_("expected a string or a list of strings, got %(value)r")
                         % {"value": value})
    return tuple(dict.fromkeys(parse_text(item) for item in items))
