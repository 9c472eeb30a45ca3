"""The kinds of values feeds.yaml holds: each pairs its parser with its JSON Schema, so what
editors accept and what the loader accepts are described side by side."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aggregator.config.parsers import (
    CLOCK_PATTERN,
    DURATION_PATTERN,
    FILTER_FIELDS,
    FULL_TEXT_MODES,
    LANGUAGES,
    NAME_LENGTH,
    SIZE_PATTERN,
    parse_base_url,
    parse_bool,
    parse_clock,
    parse_duration,
    parse_filters,
    parse_full_text,
    parse_language,
    parse_name,
    parse_positive_int,
    parse_rule,
    parse_rules,
    parse_seconds,
    parse_size,
    parse_tags,
    parse_text,
    parse_texts,
    parse_timezone,
    parse_url,
    shown,
)
from aggregator.i18n import N_

T = TypeVar("T")
Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Kind(Generic[T]):
    """How a value is read (a parser raising ValueError) and described (JSON Schema)."""

    name: str
    parse: Callable[[object], T]
    schema: Schema
    shared: bool = False  # described once under the schema's $defs, by name
    needs: tuple[Kind[Any], ...] = ()  # the shared kinds its schema refers to

    def reference(self) -> Schema:
        """What a property of this kind says: a reference when shared, else its schema."""
        return {"$ref": f"#/$defs/{self.name}"} if self.shared else self.schema


_TEXT: Schema = {"type": "string", "pattern": r"\S"}
_URL: Schema = {"type": "string", "pattern": r"^\s*https?://[^/\s]+"}
_DURATION: Schema = {
    "description": "A number of seconds, or 30s, 30m, 2h, 1d, 1w.",
    "oneOf": [{"type": "number", "exclusiveMinimum": 0},
              {"type": "string", "pattern": DURATION_PATTERN}],
}
_FIELDS: Schema = {"enum": list(FILTER_FIELDS)}

TEXT = Kind("text", parse_text, _TEXT)
NAME = Kind("name", parse_name, {
    "type": "string", "maxLength": NAME_LENGTH,
    # Something visible, and none of the controls and separators parse_name refuses (the
    # format characters it refuses too cannot all be listed in an ECMA-262 class).
    "allOf": [{"pattern": r"\S"},
              {"pattern": r"^[^\u0000-\u001F\u007F-\u009F\u2028\u2029]*$"}],
})
TIMEZONE = Kind("time zone", parse_timezone, _TEXT)
LANGUAGE = Kind("language", parse_language, {"enum": list(LANGUAGES)})
FULL_TEXT = Kind("full text", parse_full_text, {"enum": list(FULL_TEXT_MODES)})
URL = Kind("url", parse_url, _URL, shared=True)
BASE_URL = Kind("url", parse_base_url, _URL, shared=True)
DURATION = Kind("duration", parse_duration, _DURATION, shared=True)
SECONDS = Kind("duration", parse_seconds, _DURATION, shared=True)
SIZE = Kind("size", parse_size, {
    "description": "A number of bytes, or 512KB, 10MB, 1GiB.",
    "oneOf": [{"type": "integer", "exclusiveMinimum": 0},
              {"type": "string", "pattern": SIZE_PATTERN}],
}, shared=True)
COUNT = Kind("positive", parse_positive_int, {"type": "integer", "exclusiveMinimum": 0},
             shared=True)
CLOCK = Kind("time of day", parse_clock, {"type": "string", "pattern": CLOCK_PATTERN})
BOOLEAN = Kind("boolean", parse_bool, {"type": "boolean"})
TAGS = Kind("tags", parse_tags, {"oneOf": [_TEXT, {"type": "array", "items": _TEXT}]})
RULE = Kind("rule", parse_rule, {"oneOf": [_TEXT, {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "keyword": _TEXT,
        "regex": _TEXT,
        "in": {"oneOf": [_FIELDS, {"type": "array", "minItems": 1, "items": _FIELDS}]},
    },
    "oneOf": [{"required": ["keyword"]}, {"required": ["regex"]}],
}]}, shared=True)
_RULES: Schema = {"oneOf": [RULE.reference(), {"type": "array", "items": RULE.reference()}]}
FILTERS = Kind("filters", parse_filters, {
    "type": "object",
    "additionalProperties": False,
    "description": "Include and exclude rules: keywords (whole words, case and accents aside) "
                   "or regular expressions.",
    "properties": {"include": _RULES, "exclude": _RULES},
}, shared=True, needs=(RULE,))
RULES = Kind("rules", parse_rules, _RULES, needs=(RULE,))
TEXTS = Kind("texts", parse_texts, {"oneOf": [_TEXT, {"type": "array", "minItems": 1,
                                                     "items": _TEXT}]})


@dataclass(frozen=True)
class Key:
    """One key of feeds.yaml: what it holds, its default as feeds.yaml would write it (None:
    unset), what it does, and the least and most it may be, written the same way."""

    name: str
    kind: Kind[Any]
    default: object
    help: str
    required: bool = False
    limits: tuple[object, object] | None = None
    # A mapping of keys of its own (settings.email): the loader checks each where it is
    # written, and `build` makes the value from theirs.
    table: tuple[Key, ...] = ()
    build: Callable[[dict[str, Any]], Any] | None = None

    def parse(self, value: object) -> Any:
        """`value` as the key's kind reads it, within its limits; ValueError otherwise."""
        parsed = self.kind.parse(value)
        if self.limits is not None:
            least, most = (self.kind.parse(limit) for limit in self.limits)
            if not least <= parsed <= most:
                raise ValueError(N_("expected between %(least)s and %(most)s, got %(value)s")
                                 % {"least": self.limits[0], "most": self.limits[1],
                                    "value": shown(value)})
        return parsed
