"""Load and validate feeds.yaml into frozen dataclasses; errors name file, line and key."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.config.alerts import ALERT_KEYS, AlertConfig, alert_values, check_address
from aggregator.config.kinds import Key
from aggregator.config.mail import NEWSLETTER_KEYS, EmailSettings, NewsletterConfig
from aggregator.config.parsers import FilterRule, Filters, parse_duration, parse_size
from aggregator.config.settings import (
    FEED_KEYS,
    SETTING_DEFAULTS,
    SETTINGS,
    FeedConfig,
    Settings,
)
from aggregator.i18n import N_, _, translate_message

# What the other modules import from here, including the types and parsers that moved to
# settings.py and parsers.py.
__all__ = [
    "TICK_SECONDS", "AlertConfig", "Config", "ConfigError", "EmailSettings", "FeedConfig",
    "FilterRule", "Filters", "NewsletterConfig",
    "Problem", "Settings", "load_config", "parse_duration", "parse_size",
    "resolve_database_url",
]

# Seconds between the daemon's looks for due feeds and for an edited feeds.yaml.
TICK_SECONDS = 60


@dataclass(frozen=True)
class Config:
    """The whole feeds.yaml."""

    path: Path
    settings: Settings
    feeds: tuple[FeedConfig, ...]
    alerts: tuple[AlertConfig, ...] = ()
    newsletters: tuple[NewsletterConfig, ...] = ()

    def feed(self, name: str) -> FeedConfig | None:
        """The feed called `name`, if the file lists one."""
        return next((f for f in self.feeds if f.name == name), None)

    def alert(self, name: str) -> AlertConfig | None:
        """The alert called `name`, if the file lists one."""
        return next((a for a in self.alerts if a.name == name), None)

    def newsletter(self, name: str) -> NewsletterConfig | None:
        """The newsletter called `name`, if the file lists one."""
        return next((n for n in self.newsletters if n.name == name), None)


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

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """All problems, one `file:line:column: key: message` line each, in the active
        language: the messages are kept in English (the config loads before the language is
        known, and the daemon logs them in JSON too), translated here."""
        lines = []
        for p in self.problems:
            message = translate_message(p.message)
            if p.key:
                message = _("%(key)s: %(problem)s") % {"key": p.key, "problem": message}
            # The place as compilers write it, in every language: editors jump to it.
            lines.append(f"{self.path}:{p.line}:{p.column}: {message}")
        return "\n".join(lines)


_TOP_KEYS = ("settings", "feeds", "alerts", "newsletters")
# The YAML tree as the round-trip loader makes it: its mappings are dicts (CommentedMap,
# which knows where each key is) and its lists lists (CommentedSeq). The checks ask for
# dict and list, so that only the parse imports ruamel (~12 ms) and a kept configuration
# (config/kept.py) needs none of it.
YamlMap = dict[Any, Any]


class _Checker:
    """Collects problems with their positions while walking the YAML tree."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, node: Any, key: Any, path: str, message: str) -> None:
        line, column = _position(node, key)
        self.problems.append(Problem(line, column, path, message))

    def unknown_keys(self, node: YamlMap, allowed: Collection[str], prefix: str) -> None:
        for key in node:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), list(allowed), n=1)
                message = (N_("unknown key (did you mean `%(key)s`?)") % {"key": hint[0]}
                           if hint else N_("unknown key"))
                self.add(node, key, f"{prefix}{key}", message)

    def values(self, node: YamlMap, keys: tuple[Key, ...], prefix: str) -> dict[str, Any]:
        """The keys of `node` the table knows, parsed; unknown keys are reported, not read."""
        self.unknown_keys(node, [key.name for key in keys], prefix)
        out: dict[str, Any] = {}
        for key in keys:
            if key.build and isinstance(node.get(key.name), dict):
                out[key.name] = self.table(node, key, prefix)
            elif key.name in node:
                try:
                    out[key.name] = key.parse(node[key.name])
                except ValueError as exc:
                    self.add(node, key.name, f"{prefix}{key.name}", str(exc))
        return {name: value for name, value in out.items() if value is not None}

    def table(self, node: YamlMap, key: Key, prefix: str) -> Any:
        """A mapping key (settings.email) built from its own keys, each problem located."""
        inner, path = node[key.name], f"{prefix}{key.name}."
        values = self.values(inner, key.table, path)
        missing = [k.name for k in key.table if k.required and k.name not in inner]
        for name in missing:
            self.add(node, key.name, f"{path}{name}", N_("missing (required)"))
        if missing or len(values) < sum(k.name in inner for k in key.table) or key.build is None:
            return None
        return key.build(values)


def _position(node: Any, key: Any) -> tuple[int, int]:
    """1-based line and column of `key` inside `node` (a mapping key or a list index)."""
    try:
        place = node.lc  # CommentedMap's and CommentedSeq's; a plain {} has none
        if isinstance(node, dict) and key is not None:
            line, col = place.key(key)
        elif isinstance(node, list) and key is not None:
            line, col = place.item(key)
        else:
            line, col = place.line, place.col
        return int(line) + 1, int(col) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1, 1


def load_config(path: Path | str) -> Config:
    """Read and validate feeds.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, [Problem(1, 1, "", N_("file not found"))]) from None
    except OSError as exc:
        message = N_("cannot read the file: %(reason)s") % {"reason": exc.strerror or exc}
        raise ConfigError(path, [Problem(1, 1, "", message)]) from None
    return config_from_bytes(path, data)


def config_from_bytes(path: Path, data: bytes) -> Config:
    """Validate `data`, the bytes of the feeds.yaml at `path`; raise ConfigError listing
    every problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _place(data[:exc.start].decode("utf-8"), exc.start)
        message = (N_("not UTF-8: byte %(byte)s (save the file as UTF-8)")
                   % {"byte": f"0x{data[exc.start]:02x}"})
        raise ConfigError(path, [Problem(line, col, "", message)]) from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = N_("YAML syntax error: %(error)s") % {"error": exc.problem or exc.context}
        raise ConfigError(path, [Problem(line, col, "", message)]) from None
    except ReaderError as exc:  # a character YAML refuses anywhere: a raw control character
        line, col = _place(text, exc.position)
        message = (N_("the character %(code)s is not allowed in YAML (remove it)")
                   % {"code": f"U+{exc.character:04X}"})
        raise ConfigError(path, [Problem(line, col, "", message)]) from None
    return _validate(path, document)


def _place(text: str, position: int) -> tuple[int, int]:
    """The 1-based line and column of character `position` of `text`."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _validate(path: Path, document: Any) -> Config:
    checker = _Checker()
    if not isinstance(document, dict):
        checker.add(document, None, "", N_("expected a mapping with `settings:` and `feeds:`"))
        raise ConfigError(path, checker.problems)
    checker.unknown_keys(document, _TOP_KEYS, "")
    settings = _validate_settings(path, document, checker)
    feeds = _validate_feeds(document, checker)
    alerts = _validate_alerts(document, checker)
    newsletters = _validate_newsletters(document, checker)
    if checker.problems:
        raise ConfigError(path, checker.problems)
    return Config(path=path, settings=settings, feeds=tuple(feeds), alerts=tuple(alerts),
                  newsletters=tuple(newsletters))


def _validate_settings(path: Path, document: YamlMap, checker: _Checker) -> Settings:
    node = document.get("settings")
    if node is None:
        node = {}
    if not isinstance(node, dict):
        checker.add(document, "settings", "settings", N_("expected a mapping of settings"))
        node = {}
    values = checker.values(node, SETTINGS, "settings.")
    base = path.resolve().parent
    database = values.get("database", SETTING_DEFAULTS["database"])
    values["database"] = resolve_database_url(database, base)
    values["output_dir"] = base / values.get("output_dir", SETTING_DEFAULTS["output_dir"])
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


def _listed(document: YamlMap, checker: _Checker, section: str, keys: tuple[Key, ...],
            not_a_list: str, not_a_mapping: str
            ) -> Iterator[tuple[int, YamlMap, dict[str, Any], str]]:
    """The items of the top-level list `section` (feeds, alerts, newsletters), each with its
    values read by `keys`, its required keys checked and its prefix (`feeds[3].`); an item
    that is not a mapping, or a section that is not a list, is reported and skipped."""
    node = document.get(section)
    if node is None:
        return
    if not isinstance(node, list):
        checker.add(document, section, section, not_a_list)
        return
    for index, item in enumerate(node):
        prefix = f"{section}[{index}]."
        if not isinstance(item, dict):
            checker.add(node, index, f"{section}[{index}]", not_a_mapping)
            continue
        values = checker.values(item, keys, prefix)
        for required in (key.name for key in keys if key.required):
            if required not in item:
                checker.add(node, index, f"{prefix}{required}", N_("missing (required)"))
        yield index, item, values, prefix


def _validate_feeds(document: YamlMap, checker: _Checker) -> list[FeedConfig]:
    feeds: list[FeedConfig] = []
    seen_names: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    for index, item, values, prefix in _listed(
            document, checker, "feeds", FEED_KEYS,
            N_("expected a list of feeds (`- name: ...`)"),
            N_("expected a mapping with name and url")):
        if "name" not in values or "url" not in values:
            continue
        _check_unique(checker, item, "name", values["name"], seen_names, index, prefix)
        _check_unique(checker, item, "url", values["url"], seen_urls, index, prefix)
        feeds.append(FeedConfig(**values))
    return feeds


def _check_unique(
    checker: _Checker, item: YamlMap, key: str, value: str,
    seen: dict[str, int], index: int, prefix: str, section: str = "feeds",
) -> None:
    folded = value.casefold().rstrip("/")
    if folded in seen:
        checker.add(item, key, f"{prefix}{key}", N_("duplicate of %(key)s")
                    % {"key": f"{section}[{seen[folded]}].{key}"})
    else:
        seen[folded] = index


def _validate_alerts(document: YamlMap, checker: _Checker) -> list[AlertConfig]:
    alerts: list[AlertConfig] = []
    seen: dict[str, int] = {}
    for index, item, values, prefix in _listed(
            document, checker, "alerts", ALERT_KEYS,
            N_("expected a list of alerts (`- name: ...`)"),
            N_("expected a mapping with name, match and notify")):
        if "notify" in values:
            _check_addresses(checker, item, prefix)
        if "name" in values:
            _check_unique(checker, item, "name", values["name"], seen, index, prefix, "alerts")
        alert = alert_values(values)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _check_addresses(checker: _Checker, item: YamlMap, prefix: str) -> None:
    """Each address of an alert's `notify`, reported where it is written when Apprise
    does not know it."""
    node = item["notify"]
    places = list(enumerate(node)) if isinstance(node, list) else [(None, node)]
    for index, url in places:
        problem = check_address(str(url).strip())
        if problem is None:
            continue
        if index is None:
            checker.add(item, "notify", f"{prefix}notify", problem)
        else:
            checker.add(node, index, f"{prefix}notify[{index}]", problem)


def _validate_newsletters(document: YamlMap, checker: _Checker) -> list[NewsletterConfig]:
    letters: list[NewsletterConfig] = []
    seen: dict[str, int] = {}
    for index, item, values, prefix in _listed(
            document, checker, "newsletters", NEWSLETTER_KEYS,
            N_("expected a list of newsletters (`- name: ...`)"),
            N_("expected a mapping with name and to")):
        if "name" not in values or "to" not in values:
            continue
        _check_unique(checker, item, "name", values["name"], seen, index, prefix, "newsletters")
        letters.append(NewsletterConfig(**values))
    if letters and "email" not in (document.get("settings") or {}):
        checker.add(document, "newsletters", "settings.email",
                    N_("missing: newsletters are sent through the server it names"))
    return letters
