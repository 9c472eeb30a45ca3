"""Load and validate feeds.yaml into frozen dataclasses; errors name file, line and key."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

DEFAULT_CONFIG = "feeds.yaml"
# Seconds between the daemon's looks for due feeds and for an edited feeds.yaml.
TICK_SECONDS = 60


FILTER_FIELDS = ("title", "content", "author", "category")


@dataclass(frozen=True)
class FilterRule:
    """A keyword (case and accents ignored, whole words) or a regular expression."""

    pattern: str
    regex: bool = False
    fields: tuple[str, ...] = FILTER_FIELDS

    def describe(self) -> str:
        """The rule as a person wrote it, for `feeds check --filters`."""
        kind = "regex" if self.regex else "keyword"
        where = "" if self.fields == FILTER_FIELDS else f" in {', '.join(self.fields)}"
        return f"{kind} {self.pattern!r}{where}"


@dataclass(frozen=True)
class Filters:
    """Include and exclude rules: an entry shows if it matches an include rule (when
    there are any) and no exclude rule."""

    include: tuple[FilterRule, ...] = ()
    exclude: tuple[FilterRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


@dataclass(frozen=True)
class FeedConfig:
    """One feed as the user listed it; `name` is its identity."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    poll_interval: timedelta | None = None
    enabled: bool = True
    filters: Filters = Filters()

    def fingerprint(self) -> str:
        """A hash of the whole entry: when the user edits it, a retired feed gets another try."""
        interval = self.poll_interval.total_seconds() if self.poll_interval else ""
        text = "\x1f".join([self.name, self.url, ",".join(self.tags), str(interval),
                            str(self.enabled)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Settings:
    """The `settings:` mapping, with paths resolved against the config file."""

    database: str
    output_dir: Path
    timezone: str = "Europe/Paris"
    title: str = "Veille community management"
    base_url: str = "http://127.0.0.1:8080/"
    language: str = "fr"
    poll_interval: timedelta = timedelta(hours=1)
    timeout: float = 30.0
    max_size: int = 10_000_000
    feed_entries: int = 50
    concurrency: int = 8
    per_host: int = 2
    filters: Filters = Filters()
    digest_time: time = time(7, 0)
    retention: timedelta | None = None  # None: keep everything
    keep_per_feed: int = 50  # newest entries of each feed that pruning never removes
    # How long a worker's claim on a feed holds: a worker that dies mid-poll
    # leaves its feeds to the others after this long (see docs/scaling.md).
    claim_lease: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Config:
    """The whole feeds.yaml."""

    path: Path
    settings: Settings
    feeds: tuple[FeedConfig, ...]

    def feed(self, name: str) -> FeedConfig | None:
        """The feed called `name`, if the file lists one."""
        return next((f for f in self.feeds if f.name == name), None)


@dataclass(frozen=True)
class Problem:
    """One mistake in the file, located."""

    line: int
    column: int
    key: str
    message: str


class ConfigError(Exception):
    """feeds.yaml could not be used; carries every problem found, not only the first."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(self.describe())

    def describe(self) -> str:
        """All problems, one `file:line:column: key: message` line each."""
        return "\n".join(
            f"{self.path}:{p.line}:{p.column}: {p.key}: {p.message}" if p.key
            else f"{self.path}:{p.line}:{p.column}: {p.message}"
            for p in self.problems
        )


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}


def parse_duration(value: object) -> timedelta:
    """`90`, `30s`, `30m`, `2h`, `1d`, `1w` to a timedelta (a bare number is seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a duration like 30m, 2h or 1d, got {value!r}")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration like 30m, 2h or 1d, got {value!r}")
    seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"expected a positive duration, got {value!r}")
    return timedelta(seconds=seconds)


def parse_size(value: object) -> int:
    """`10MB`, `512KiB` or a number of bytes to a number of bytes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a size like 10MB, got {value!r}")
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size like 10MB, got {value!r}")
    size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(f"expected a positive size, got {value!r}")
    return size


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _parse_url(value: object) -> str:
    if not isinstance(value, str) or not _is_http_url(value.strip()):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.strip()


def _parse_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _parse_timezone(value: object) -> str:
    name = _parse_text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected e.g. Europe/Paris)") from None
    return name


def _parse_language(value: object) -> str:
    name = _parse_text(value)
    if name not in ("fr", "en"):
        raise ValueError(f"expected 'fr' or 'en', got {name!r}")
    return name


def _parse_positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive whole number, got {value!r}")
    return value


def _parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _parse_tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"expected a list of tags, got {value!r}")
    bad = [t for t in value if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"every tag must be a non-empty string, got {bad[0]!r}")
    return tuple(dict.fromkeys(t.strip() for t in value))


def _parse_clock(value: object) -> time:
    """`07:00`: a local time of day."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"expected a time of day like 07:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_rule(value: object) -> FilterRule:
    if isinstance(value, str) and value.strip():
        return FilterRule(value.strip())
    if not isinstance(value, dict):
        raise ValueError(f"expected a keyword or {{keyword|regex: ..., in: [...]}}, got {value!r}")
    unknown = set(value) - {"keyword", "regex", "in"}
    kinds = [k for k in ("keyword", "regex") if k in value]
    if unknown or len(kinds) != 1:
        raise ValueError("a rule is a keyword, or a mapping with one of `keyword` or "
                         f"`regex` and optionally `in`, got {dict(value)!r}")
    pattern = value[kinds[0]]
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError(f"expected a non-empty {kinds[0]}, got {pattern!r}")
    if kinds[0] == "regex":
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    fields = value.get("in", list(FILTER_FIELDS))
    fields = [fields] if isinstance(fields, str) else fields
    if not isinstance(fields, list) or not fields or any(f not in FILTER_FIELDS for f in fields):
        raise ValueError(f"`in` lists fields among {', '.join(FILTER_FIELDS)}, got {fields!r}")
    return FilterRule(pattern.strip(), regex=kinds[0] == "regex", fields=tuple(fields))


def _parse_filters(value: object) -> Filters:
    if not isinstance(value, dict) or set(value) - {"include", "exclude"}:
        raise ValueError(f"expected a mapping with `include` and/or `exclude`, got {value!r}")
    rules: dict[str, tuple[FilterRule, ...]] = {}
    for key in ("include", "exclude"):
        items = value.get(key) or []
        items = [items] if isinstance(items, str | dict) else items
        if not isinstance(items, list):
            raise ValueError(f"`{key}` is a list of rules, got {items!r}")
        rules[key] = tuple(_parse_rule(item) for item in items)
    return Filters(**rules)


_SETTINGS: dict[str, Callable[[object], Any]] = {
    "database": _parse_text,
    "output_dir": _parse_text,
    "timezone": _parse_timezone,
    "title": _parse_text,
    "base_url": _parse_url,
    "language": _parse_language,
    "poll_interval": parse_duration,
    "timeout": lambda v: parse_duration(v).total_seconds(),
    "max_size": parse_size,
    "feed_entries": _parse_positive_int,
    "concurrency": _parse_positive_int,
    "per_host": _parse_positive_int,
    "filters": _parse_filters,
    "digest_time": _parse_clock,
    "retention": parse_duration,
    "keep_per_feed": _parse_positive_int,
    "claim_lease": parse_duration,
}
_FEED_KEYS: dict[str, Callable[[object], Any]] = {
    "name": _parse_text,
    "url": _parse_url,
    "tags": _parse_tags,
    "poll_interval": parse_duration,
    "enabled": _parse_bool,
    "filters": _parse_filters,
}
_TOP_KEYS = ("settings", "feeds")


class _Checker:
    """Collects problems with their positions while walking the YAML tree."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, node: Any, key: Any, path: str, message: str) -> None:
        line, column = _position(node, key)
        self.problems.append(Problem(line, column, path, message))

    def unknown_keys(self, node: CommentedMap, allowed: Any, prefix: str) -> None:
        for key in node:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), list(allowed), n=1)
                suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
                self.add(node, key, f"{prefix}{key}", f"unknown key{suggestion}")

    def values(
        self, node: CommentedMap, parsers: dict[str, Callable[[object], Any]], prefix: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, parse in parsers.items():
            if key in node:
                try:
                    out[key] = parse(node[key])
                except ValueError as exc:
                    self.add(node, key, f"{prefix}{key}", str(exc))
        return out


def _position(node: Any, key: Any) -> tuple[int, int]:
    """1-based line and column of `key` inside `node` (a mapping key or a list index)."""
    try:
        if isinstance(node, CommentedMap) and key is not None:
            line, col = node.lc.key(key)
        elif isinstance(node, CommentedSeq) and key is not None:
            line, col = node.lc.item(key)
        else:
            line, col = node.lc.line, node.lc.col
        return int(line) + 1, int(col) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1, 1


def load_config(path: Path | str) -> Config:
    """Read and validate feeds.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, [Problem(1, 1, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [Problem(1, 1, "", f"cannot read the file: {exc}")]) from None
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise ConfigError(path, [Problem(line, col, "", message)]) from None
    return _validate(path, document)


def _validate(path: Path, document: Any) -> Config:
    checker = _Checker()
    if not isinstance(document, CommentedMap):
        checker.add(document, None, "", "expected a mapping with `settings:` and `feeds:`")
        raise ConfigError(path, checker.problems)
    checker.unknown_keys(document, _TOP_KEYS, "")
    settings = _validate_settings(path, document, checker)
    feeds = _validate_feeds(document, checker)
    if checker.problems:
        raise ConfigError(path, checker.problems)
    return Config(path=path, settings=settings, feeds=tuple(feeds))


def _validate_settings(path: Path, document: CommentedMap, checker: _Checker) -> Settings:
    node = document.get("settings")
    if node is None:
        node = CommentedMap()
    if not isinstance(node, CommentedMap):
        checker.add(document, "settings", "settings", "expected a mapping of settings")
        node = CommentedMap()
    checker.unknown_keys(node, _SETTINGS, "settings.")
    values = checker.values(node, _SETTINGS, "settings.")
    base = path.resolve().parent
    values["database"] = resolve_database_url(values.get("database", "aggregator.db"), base)
    values["output_dir"] = base / values.get("output_dir", "public")
    if "base_url" in values and not values["base_url"].endswith("/"):
        values["base_url"] += "/"
    return Settings(**values)


def resolve_database_url(value: str, base: Path) -> str:
    """A SQLAlchemy URL from `settings.database`: a URL as given, a path as SQLite."""
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; SQLAlchemy defaults to psycopg2.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
            relative = value.removeprefix("sqlite:///")
            if relative and relative != ":memory:":
                return f"sqlite:///{base / relative}"
        return value
    return f"sqlite:///{base / value}"


def _validate_feeds(document: CommentedMap, checker: _Checker) -> list[FeedConfig]:
    node = document.get("feeds")
    if node is None:
        return []
    if not isinstance(node, CommentedSeq):
        checker.add(document, "feeds", "feeds", "expected a list of feeds (`- name: ...`)")
        return []
    feeds: list[FeedConfig] = []
    seen_names: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    for index, item in enumerate(node):
        prefix = f"feeds[{index}]."
        if not isinstance(item, CommentedMap):
            checker.add(node, index, f"feeds[{index}]", "expected a mapping with name and url")
            continue
        checker.unknown_keys(item, _FEED_KEYS, prefix)
        values = checker.values(item, _FEED_KEYS, prefix)
        for required in ("name", "url"):
            if required not in item:
                checker.add(node, index, f"{prefix}{required}", "missing (required)")
        if "name" not in values or "url" not in values:
            continue
        _check_unique(checker, item, "name", values["name"], seen_names, index, prefix)
        _check_unique(checker, item, "url", values["url"], seen_urls, index, prefix)
        feeds.append(FeedConfig(**values))
    return feeds


def _check_unique(
    checker: _Checker, item: CommentedMap, key: str, value: str,
    seen: dict[str, int], index: int, prefix: str,
) -> None:
    folded = value.casefold().rstrip("/")
    if folded in seen:
        checker.add(item, key, f"{prefix}{key}", f"duplicate of feeds[{seen[folded]}].{key}")
    else:
        seen[folded] = index
