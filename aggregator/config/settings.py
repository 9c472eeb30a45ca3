"""The keys of feeds.yaml, one table each for `settings:` and for a feed, and the dataclasses
they fill. The loader, the JSON Schema, the README's table and the CLI's help all read these
tables; tests/test_settings.py keeps the dataclasses' fields and the rows one to one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from aggregator.config.kinds import (
    BASE_URL,
    BOOLEAN,
    CLOCK,
    COUNT,
    DURATION,
    FILTERS,
    FULL_TEXT,
    LANGUAGE,
    NAME,
    SECONDS,
    SIZE,
    TAGS,
    TEXT,
    TIMEZONE,
    URL,
    Key,
)
from aggregator.config.mail import EMAIL, EMAIL_KEYS, EmailSettings, build_email
from aggregator.config.parsers import Filters

# The limits are wide: they refuse what is surely a typo (a poll every 0 s, a 10**30-byte
# feed), which would otherwise fail far from feeds.yaml (in a date sum, in the database).
_INTERVAL = ("1s", "365d")


# In the order the loader reads them, which is the order of their problems in a report.
SETTINGS: tuple[Key, ...] = (
    Key("database", TEXT, "aggregator.db",
        "A SQLite file (relative to feeds.yaml) or a postgresql:// URL."),
    Key("output_dir", TEXT, "public",
        "Where the pages and feeds are written (relative to feeds.yaml)."),
    Key("timezone", TIMEZONE, "Europe/Paris", "The IANA time zone the days are cut in."),
    Key("title", TEXT, "Veille community management", "The title of the pages and feeds."),
    Key("base_url", BASE_URL, "http://127.0.0.1:8080/",
        "The public address of output_dir, used in the feeds' links."),
    Key("language", LANGUAGE, "fr", "The language of the pages: fr or en."),
    Key("poll_interval", DURATION, "1h",
        "How often a feed is polled, unless the feed sets its own poll_interval.",
        limits=_INTERVAL),
    Key("timeout", SECONDS, "30s",
        "How long one feed's download may take in all, slow servers included.",
        limits=("1s", "1h")),
    Key("max_size", SIZE, "10MB", "The largest feed downloaded, counted once inflated.",
        limits=("1KB", "1GiB")),
    Key("feed_entries", COUNT, 50, "How many entries the merged feed and tag feeds hold.",
        limits=(1, 10_000)),
    Key("concurrency", COUNT, 8, "How many feeds are downloaded at once.", limits=(1, 256)),
    Key("per_host", COUNT, 2, "How many requests go to one host at once.", limits=(1, 64)),
    Key("filters", FILTERS, {}, "Include and exclude rules for every feed's entries."),
    Key("digest_time", CLOCK, "07:00", "The local time of the daily render."),
    Key("retention", DURATION, None,
        "Entries older than this are pruned daily, except each feed's newest keep_per_feed; "
        "unset, all are kept.", limits=("1h", "36500d")),
    Key("keep_per_feed", COUNT, 50, "The newest entries of each feed that pruning keeps.",
        limits=(1, 1_000_000)),
    Key("claim_lease", DURATION, "5m",
        "How long a worker's claim on a feed holds: a worker that dies mid-poll leaves "
        "its feeds to the others after this long (see docs/scaling.md).",
        limits=("1s", "1d")),
    Key("allow_private_networks", BOOLEAN, False,
        "true lets a feed at a public address redirect (or a page link) to a loopback or "
        "private one; feeds listed at such addresses are fetched either way."),
    Key("alert_max_age", DURATION, "2d",
        "Alerts tell of new articles published within this long: a new blog's backlog or "
        "an old post found late sets none off.", limits=("1m", "365d")),
    Key("websub_hub", URL, None,
        "A WebSub hub: every feed we publish declares it, and it is told when one changes "
        "(see docs/websub.md)."),
    Key("websub_callback", BASE_URL, None,
        "The public address of `run --serve`: feeds that declare a WebSub hub are "
        "subscribed to, and their hub pushes new entries there."),
    Key("websub_poll_interval", DURATION, "6h",
        "How often a feed whose hub pushes to us is still polled, as a safety net.",
        limits=_INTERVAL),
    Key("full_text", FULL_TEXT, "auto",
        "When an entry's article page is fetched for its whole text: auto (when the entry "
        "looks truncated), always, or never; a feed may set its own full_text."),
    Key("email", EMAIL, None, "The SMTP server newsletters are sent through: host, port, "
        "security (starttls, ssl, none), username, password_env, from, unsubscribe, timeout, "
        "retry_for (see the README's e-mail section).", table=EMAIL_KEYS, build=build_email),
)

FEED_KEYS: tuple[Key, ...] = (
    Key("name", NAME, None, "Shown in the digest; the feed's identity (at most 200 "
        "characters, on one line).", required=True),
    Key("url", URL, None, "The RSS, Atom or JSON Feed address.", required=True),
    Key("tags", TAGS, [], "A tag or a list of tags the pages group the feed under."),
    Key("poll_interval", DURATION, None, "Overrides settings.poll_interval for this feed.",
        limits=_INTERVAL),
    Key("enabled", BOOLEAN, True, "false stops polling the feed and keeps its entries."),
    Key("filters", FILTERS, {}, "Include and exclude rules for this feed's entries."),
    Key("full_text", FULL_TEXT, None, "Overrides settings.full_text for this feed: auto, "
        "always or never."),
)


def _parsed_defaults(keys: tuple[Key, ...]) -> Mapping[str, Any]:
    return {key.name: None if key.default is None else key.parse(key.default)
            for key in keys}


# What each key is when feeds.yaml leaves it out, parsed once: every one is immutable, so the
# dataclasses' instances can share them.
SETTING_DEFAULTS = _parsed_defaults(SETTINGS)
FEED_DEFAULTS = _parsed_defaults(FEED_KEYS)


@dataclass(frozen=True)
class Settings:
    """The `settings:` mapping, with paths resolved against the config file."""

    database: str  # a SQLAlchemy URL: the loader resolves its default and relative paths
    output_dir: Path
    timezone: str = SETTING_DEFAULTS["timezone"]
    title: str = SETTING_DEFAULTS["title"]
    base_url: str = SETTING_DEFAULTS["base_url"]
    language: str = SETTING_DEFAULTS["language"]
    poll_interval: timedelta = SETTING_DEFAULTS["poll_interval"]
    timeout: float = SETTING_DEFAULTS["timeout"]
    max_size: int = SETTING_DEFAULTS["max_size"]
    feed_entries: int = SETTING_DEFAULTS["feed_entries"]
    concurrency: int = SETTING_DEFAULTS["concurrency"]
    per_host: int = SETTING_DEFAULTS["per_host"]
    filters: Filters = SETTING_DEFAULTS["filters"]
    digest_time: time = SETTING_DEFAULTS["digest_time"]
    retention: timedelta | None = SETTING_DEFAULTS["retention"]
    keep_per_feed: int = SETTING_DEFAULTS["keep_per_feed"]
    claim_lease: timedelta = SETTING_DEFAULTS["claim_lease"]
    allow_private_networks: bool = SETTING_DEFAULTS["allow_private_networks"]
    alert_max_age: timedelta = SETTING_DEFAULTS["alert_max_age"]
    websub_hub: str | None = SETTING_DEFAULTS["websub_hub"]
    websub_callback: str | None = SETTING_DEFAULTS["websub_callback"]
    websub_poll_interval: timedelta = SETTING_DEFAULTS["websub_poll_interval"]
    full_text: str = SETTING_DEFAULTS["full_text"]
    email: EmailSettings | None = SETTING_DEFAULTS["email"]


@dataclass(frozen=True)
class FeedConfig:
    """One feed as the user listed it; `name` is its identity."""

    name: str
    url: str
    tags: tuple[str, ...] = FEED_DEFAULTS["tags"]
    poll_interval: timedelta | None = FEED_DEFAULTS["poll_interval"]
    enabled: bool = FEED_DEFAULTS["enabled"]
    filters: Filters = FEED_DEFAULTS["filters"]
    full_text: str | None = FEED_DEFAULTS["full_text"]

    def fingerprint(self) -> str:
        """A hash of the whole entry: when the user edits it, a retired feed gets another try."""
        interval = self.poll_interval.total_seconds() if self.poll_interval else ""
        text = "\x1f".join([self.name, self.url, ",".join(self.tags), str(interval),
                            str(self.enabled)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SettingHelp:
    """A setting as the help shows it; `default` as feeds.yaml would write it, None if unset."""

    name: str
    default: str | None
    help: str


def settings_help() -> tuple[SettingHelp, ...]:
    """Every setting's name, default and help, in the table's order."""
    return tuple(SettingHelp(k.name, _as_written(k.default), k.help) for k in SETTINGS)


def _as_written(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)
