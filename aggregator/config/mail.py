"""The e-mail keys of feeds.yaml: `settings.email` (the SMTP server) and the `newsletters:`
list, their tables, readers and the dataclasses they fill."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from aggregator.config.kinds import (
    BOOLEAN,
    CLOCK,
    DURATION,
    FILTERS,
    LANGUAGE,
    NAME,
    SECONDS,
    TAGS,
    TEXT,
    URL,
    Key,
    Kind,
)
from aggregator.config.parsers import Filters, parse_text, shown
from aggregator.i18n import N_

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
PERIODS = ("day", "week")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ADDRESS = r"^[^@\s<>]+@[^@\s<>]+$"


def _choice(choices: tuple[str, ...]) -> Kind[str]:
    def parse(value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise ValueError(N_("expected one of %(choices)s, got %(name)r") % {
            "choices": ", ".join(map(repr, choices)), "name": value})
    return Kind("choice", parse, {"enum": list(choices)})


def parse_address(value: object) -> str:
    """One mail address, bare or with a display name ("Veille CM <veille@example.org>")."""
    # Imported here: email's header code is ~10 ms of every command's start-up (issue 21),
    # for the feeds.yaml files that have newsletters.
    from email.headerregistry import Address
    from email.utils import parseaddr

    text = parse_text(value)
    name, spec = parseaddr(text)
    if not re.match(_ADDRESS, spec) or "\n" in text:
        raise ValueError(N_("expected a mail address like veille@example.org, got %(value)s")
                         % {"value": shown(value)})
    return str(Address(display_name=name, addr_spec=spec)) if name else spec


def parse_addresses(value: object) -> tuple[str, ...]:
    """An address or a list of them, each once."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(N_("expected a list of mail addresses, got %(value)s")
                         % {"value": shown(value)})
    return tuple(dict.fromkeys(parse_address(item) for item in items))


def parse_env_name(value: object) -> str:
    """The name of an environment variable (never its value)."""
    if isinstance(value, str) and re.match(_ENV_NAME, value.strip()):
        return value.strip()
    raise ValueError(N_("expected the name of an environment variable such as "
                        "AGGREGATOR_SMTP_PASSWORD (not the password), got %(value)s")
                     % {"value": shown(value)})


def _port(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    raise ValueError(N_("expected a port between 1 and 65535, got %(value)s")
                     % {"value": shown(value)})


ADDRESS = Kind("address", parse_address, {"type": "string", "pattern": r"@"})
ADDRESSES = Kind("addresses", parse_addresses, {"oneOf": [
    {"type": "string", "pattern": "@"},
    {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "@"}}]})
ENV_NAME = Kind("environment variable", parse_env_name, {"type": "string",
                                                         "pattern": _ENV_NAME})
PORT = Kind("port", _port, {"type": "integer", "minimum": 1, "maximum": 65535})


@dataclass(frozen=True)
class EmailSettings:
    """The SMTP server newsletters leave by; the password stays in the environment."""

    host: str
    sender: str
    port: int | None = None  # None: the usual one for `security`
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    unsubscribe: str | None = None
    timeout: float = 30.0
    retry_for: timedelta = timedelta(minutes=2)

    @property
    def server_port(self) -> int:
        """The port to connect to."""
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def sender_address(self) -> str:
        """The sender's bare address (the envelope's, and List-Unsubscribe's mailto:)."""
        from email.utils import getaddresses

        return getaddresses([self.sender])[0][1]


EMAIL_KEYS: tuple[Key, ...] = (
    Key("host", TEXT, None, "The SMTP server's name.", required=True),
    Key("port", PORT, None, "Its port; unset, 587 for starttls, 465 for ssl, 25 for none."),
    Key("security", _choice(SECURITIES), "starttls", "starttls, ssl or none."),
    Key("username", TEXT, None, "The login, when the server asks for one."),
    Key("password_env", ENV_NAME, None,
        "The environment variable that holds the password: never the password itself."),
    Key("from", ADDRESS, None, 'The sender, e.g. "Veille CM <veille@example.org>".',
        required=True),
    Key("unsubscribe", URL, None,
        "The List-Unsubscribe address; unset, a mail to the sender."),
    Key("timeout", SECONDS, "30s", "How long one exchange with the server may take.",
        limits=("1s", "10m")),
    Key("retry_for", DURATION, "2m",
        "How long temporary errors (4xx, connection refused) are retried.",
        limits=("1s", "1h")),
)


def build_email(values: dict[str, Any]) -> EmailSettings:
    """EmailSettings from the parsed values of EMAIL_KEYS."""
    values = dict(values)
    values["sender"] = values.pop("from")
    return EmailSettings(**values)


def _parse_table(keys: tuple[Key, ...], value: object) -> dict[str, Any]:
    """A mapping read with `keys`, its first problem raised (the loader locates each)."""
    if not isinstance(value, dict):
        raise ValueError(N_("expected a mapping, got %(value)s") % {"value": shown(value)})
    names = {key.name for key in keys}
    unknown = [name for name in value if name not in names]
    if unknown:
        raise ValueError(N_("unknown key %(key)s") % {"key": shown(unknown[0])})
    missing = [key.name for key in keys if key.required and key.name not in value]
    if missing:
        raise ValueError(N_("missing %(key)s") % {"key": missing[0]})
    return {key.name: key.parse(value[key.name]) for key in keys if key.name in value}


EMAIL = Kind("email", lambda value: build_email(_parse_table(EMAIL_KEYS, value)), {})


@dataclass(frozen=True)
class NewsletterConfig:
    """One newsletter: who gets it, how often, which articles; `name` is its identity."""

    name: str
    to: tuple[str, ...]
    every: str = "day"
    on: str = "monday"
    at: time | None = None  # None: settings.digest_time
    tags: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)
    skip_empty: bool = True
    language: str | None = None  # None: settings.language


NEWSLETTER_KEYS: tuple[Key, ...] = (
    Key("name", NAME, None, "The newsletter's identity, in commands and in List-Id.",
        required=True),
    Key("to", ADDRESSES, None, "The recipients: an address or a list.", required=True),
    Key("every", _choice(PERIODS), "day", "day: the day before; week: the seven days before."),
    Key("on", _choice(WEEKDAYS), "monday", "The day a weekly newsletter leaves."),
    Key("at", CLOCK, None, "The local time it leaves; unset, settings.digest_time."),
    Key("tags", TAGS, [], "Only the articles of blogs with one of these tags; unset, all."),
    Key("filters", FILTERS, {}, "Include and exclude rules, as feeds' filters."),
    Key("skip_empty", BOOLEAN, True, "true sends nothing for a period without articles."),
    Key("language", LANGUAGE, None, "fr or en; unset, settings.language."),
)
