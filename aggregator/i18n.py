r"""Interface translations: one gettext catalog for the pages and the command line.

Messages are written in English (the msgids); each other language has a catalog
`locale/<language>/LC_MESSAGES/messages.po`. No binary .mo file is kept in the
repository: the first process to need a catalog compiles it into the user's cache
folder, under a name that holds the .po's hash, and the next ones read that. The
command line calls `use()` once it knows the language (settings.language, else the
environment's locale); `_`, `ngettext`, `number` and `moment` then speak it. Log
lines keep their English messages (JSON logs stay stable) and the text formatter
translates them; a count in a log line is a `Plural`. To update the catalogs after
editing messages (from the repository root):

    pybabel extract -F babel.cfg --no-location --omit-header \
        -o aggregator/locale/messages.pot .
    pybabel update -i aggregator/locale/messages.pot \
        -d aggregator/locale --ignore-obsolete
"""

from __future__ import annotations

import gettext
import hashlib
import os
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language of the msgids: needs no catalog
LANGUAGES = ("fr", SOURCE_LANGUAGE)
# The environment variables that name the user's locale, in the order gettext reads them.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_language = SOURCE_LANGUAGE
# Set while a message is rendered for machines (the JSON log), in this thread only.
_override: ContextVar[str | None] = ContextVar("language_override", default=None)


def catalog_path(language: str) -> Path:
    """Where the .po catalog of `language` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    """The parsed .po catalog of `language`."""
    from babel.messages.pofile import read_po  # Babel's catalog code: only to load one

    with catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Our folder in the user's cache folder (XDG_CACHE_HOME, else ~/.cache)."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aggregator"


def keep_in_cache(path: Path, data: bytes) -> None:
    """Write `data` at `path` in our cache folder whole or not at all (a process reading it
    meanwhile finds the old file or the new), readable by the user alone (a kept
    feeds.yaml may hold chat tokens); a folder that cannot be written keeps nothing, and
    the caller makes the value again next time, as correct, only slower."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                       "wb") as file:
            file.write(data)
        partial.replace(path)
    except OSError:
        pass


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Where compiled catalogs (and the pieces of aggregator/formats.py) are kept."""
    return cache_root(environ) / "locale"


def compile_catalog(language: str) -> bytes:
    """The .mo form of the .po catalog of `language`."""
    from babel.messages.mofile import write_mo

    compiled = BytesIO()
    # Fuzzy entries are guesses by `pybabel update`: showing them would be wrong.
    write_mo(compiled, read_catalog(language), use_fuzzy=False)
    return compiled.getvalue()


def compiled_catalog(language: str, folder: Path) -> bytes:
    """The .mo form of `language`'s catalog, from `folder` when a process compiled this
    very .po before; else compiled (Babel's parser: ~70 ms, against ~1 ms to read the
    file) and kept there for the next processes, if the folder can be written."""
    source = catalog_path(language).read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    # The hash in the name: an edited catalog (or another checkout's) gets its own file.
    kept = folder / f"{DOMAIN}-{language}-{digest}.mo"
    try:
        return kept.read_bytes()
    except OSError:
        pass
    compiled = compile_catalog(language)
    keep_in_cache(kept, compiled)
    return compiled


@cache
def _compiled(language: str) -> bytes:
    return compiled_catalog(language, cache_folder())


@cache
def load_translations(language: str) -> gettext.NullTranslations:
    """The translations of the interface into `language` (identity for English)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.GNUTranslations(BytesIO(_compiled(language)))


def use(language: str) -> None:
    """Speak `language` (one of LANGUAGES) in this process's messages from now on."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    _language = language


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The language the environment's locale asks for: French when it is French, else
    English (the first of LOCALE_VARIABLES that is set decides, as for gettext)."""
    for variable in LOCALE_VARIABLES:
        if value := environ.get(variable):
            return "fr" if value.lower().startswith("fr") else SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def active_language() -> str:
    """The language messages are made in now."""
    return _override.get() or _language


@contextmanager
def in_english() -> Iterator[None]:
    """Make messages in English meanwhile, in this thread only (logs read by machines)."""
    token = _override.set(SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _override.reset(token)


def _(message: str) -> str:
    """`message` in the active language."""
    return load_translations(active_language()).gettext(message)


def N_(message: str) -> str:
    """`message` as it is: marks it for the catalog, to be translated with `_` later."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count `n`, in the active language."""
    return load_translations(active_language()).ngettext(singular, plural, n)


def number(value: float, decimals: int | None = None) -> str:
    """A number as the active language writes it (1,234.5 in English, 1 234,5 in French):
    with `decimals` digits after the point, or as many as it needs up to three."""
    if isinstance(value, int) and not decimals:  # counts: without loading Babel
        from aggregator.formats import pieces_of, whole_number

        return whole_number(value, pieces_of(active_language(), cache_folder()))
    from babel.numbers import format_decimal

    fraction = "###" if decimals is None else "0" * decimals
    pattern = f"#,##0.{fraction}" if fraction else "#,##0"
    return format_decimal(value, format=pattern, locale=active_language())


def moment(when: datetime, tz: ZoneInfo) -> str:
    """A date and time to the minute in `tz`, as the active language writes them, the
    month in letters and the hours 0 to 23 ("Nov 21, 2026 09:00", "21 nov. 2026 09:00")."""
    from aggregator.formats import DATE_SKELETON, TIME_SKELETON, formatted, pieces_of

    local, language = when.astimezone(tz), active_language()
    pieces = pieces_of(language, cache_folder())
    date = formatted(pieces.date_pattern, local, pieces)
    time = formatted(pieces.time_pattern, local, pieces)
    if date is not None and time is not None:
        return f"{date} {time}"
    from babel.dates import format_skeleton

    return (f"{format_skeleton(DATE_SKELETON, local, locale=language)} "
            f"{format_skeleton(TIME_SKELETON, local, locale=language)}")


def seconds(value: float, decimals: int | None = None) -> str:
    """A duration in seconds with its unit ("1.5 s", "1,5 s")."""
    return _("%(seconds)s s") % {"seconds": number(value, decimals)}


def counted(singular: str, plural: str, n: int, **values: object) -> str:
    """A count and its words in the form `n` takes, `n` written as the language writes
    numbers: the messages say it with %(n)s, and the other `values` by their names."""
    return ngettext(singular, plural, n) % {"n": number(n), **values}


class Later(ABC):
    """Words for a log line, made when the line is shown: in English as a string (what
    the JSON log shows), in the active language for the text formatter."""

    @abstractmethod
    def translated(self) -> str:
        """The words in the active language."""

    def __str__(self) -> str:
        with in_english():
            return self.translated()


@dataclass(frozen=True)
class Plural(Later):
    """A log message whose words depend on a count; the log call's args follow it."""

    singular: str
    plural: str
    n: int

    def translated(self) -> str:
        return ngettext(self.singular, self.plural, self.n)


@dataclass(frozen=True)
class Deferred(Later):
    """A log line's argument in words, made by `make` in the language of the moment."""

    make: Callable[[], str]

    def translated(self) -> str:
        return self.make()


def translate_log_message(message: object) -> str:
    """A log record's message in the active language: words made later, or a msgid."""
    if isinstance(message, Later):
        return message.translated()
    return _(message) if isinstance(message, str) else str(message)


# A %-conversion of a log message: its precision (for %.2f), its type.
CONVERSION = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.(\d+))?([diouxXeEfFgGcrs%])")


def translate_log_line(message: object, args: tuple[object, ...]
                       ) -> tuple[str, tuple[object, ...]]:
    """A log record's message and positional args in the active language: the message
    translated, words made later made now, and the numbers shown with %d or %f
    written as the language writes them (1 234,5 in French)."""
    text = translate_log_message(message)
    values = [a.translated() if isinstance(a, Later) else a for a in args]
    pieces, position, index = [], 0, 0
    for conversion in CONVERSION.finditer(text):
        if conversion.group(2) == "%":
            continue
        value = values[index] if index < len(values) else None
        kind = conversion.group(2)
        if (isinstance(value, int | float) and not isinstance(value, bool)
                and kind in "difF"):
            decimals = conversion.group(1)
            values[index] = number(value, int(decimals) if decimals else None)
            pieces += [text[position:conversion.start()], "%s"]
            position = conversion.end()
        index += 1
    return "".join(pieces) + text[position:], tuple(values)


# What the poll stage stores and logs (a feed's last error, the JSON log) is English:
# a French poll then an English `status` would otherwise show French, and scripts would
# read words that change with settings.language. translate_message turns such a text
# into the active language where it is shown, by matching it against the catalog's
# msgids: no second copy of each message (its msgid and values) is stored, and the
# errors stored by earlier versions, in English, are translated as well.
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([sdr])")
# Values that are counts or durations: written again as the language writes numbers.
NUMBER_NAMES = frozenset({"n", "count", "total", "seconds"})
ENGLISH_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.(\d+))?")


@dataclass(frozen=True)
class _Pattern:
    """A msgid as a regular expression: each placeholder a group, the rest literal."""

    literal: tuple[str, ...]  # the words between placeholders, first and last included
    ids: tuple[str, ...]  # the msgid, and its plural when it has one
    names: tuple[str | None, ...]  # each group's placeholder name (None: positional)
    kinds: str  # each group's conversion: s, d or r

    def match(self, text: str) -> re.Match[str] | None:
        """The placeholders' values in `text`, when `text` is this message."""
        # The literal ends first: compiling every msgid's regex cost status 40 ms,
        # and a text can only be a message that starts and ends as it does.
        first, last = self.literal[0], self.literal[-1]
        if not (text.startswith(first) and text.endswith(last)
                and len(text) > len(first) + len(last)):
            return None
        return _regex(self.literal).fullmatch(text)


@cache
def _regex(literal: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(.+?)".join(map(re.escape, literal)), re.DOTALL)


def _msgids(compiled: bytes) -> list[tuple[str, ...]]:
    """The original messages of a .mo file: each msgid with its plural, if any."""
    order = "<" if struct.unpack("<I", compiled[:4])[0] == 0x950412DE else ">"
    count, originals = struct.unpack(order + "2I", compiled[8:16])
    ids = []
    for index in range(count):
        length, offset = struct.unpack(order + "2I", compiled[originals + 8 * index:][:8])
        if length:  # the header's msgid is empty
            ids.append(tuple(compiled[offset:offset + length].decode("utf-8").split("\0")))
    return ids


@cache
def _patterns(language: str) -> tuple[_Pattern, ...]:
    """The catalog's msgids with placeholders and words of their own (not "%s: %s", which
    would match anything), each form of a plural apart, the longest first: a message
    that holds another one's words and more (`error: %(error)s`) is tried before it."""
    patterns = []
    for ids in _msgids(_compiled(language)):
        for form in ids:
            found = list(PLACEHOLDER.finditer(form))
            literal = PLACEHOLDER.split(form)[::3]  # the words between placeholders
            if found and re.search(r"[A-Za-z]", "".join(literal)):
                patterns.append((len(form), _Pattern(
                    tuple(literal), ids, tuple(m.group(1) for m in found),
                    "".join(m.group(2) for m in found))))
    return tuple(pattern for _length, pattern in sorted(patterns, key=lambda p: -p[0]))


def _value(text: str, name: str | None, kind: str) -> str:
    """A value captured from an English message, in the active language."""
    if kind == "r":
        return text  # a repr: the value's own text
    english = ENGLISH_NUMBER.fullmatch(text)
    if english and (kind == "d" or name in NUMBER_NAMES):
        return number(float(text.replace(",", "")), len(english.group(1) or ""))
    return translate_message(text)


def _count(pattern: _Pattern, match: re.Match[str]) -> int:
    """The count that chose a plural's form: its %(n)s, or its first %d."""
    for index, (name, kind) in enumerate(zip(pattern.names, pattern.kinds, strict=True)):
        if name == "n" or kind == "d":
            return int(match.group(index + 1).replace(",", ""))
    return 1


def translate_message(text: str) -> str:
    """An English message made from the catalog's msgids (a stored error, say) in the
    active language; what matches no msgid stays as it is (a server's own words)."""
    language = active_language()
    if language == SOURCE_LANGUAGE or not text:
        return text
    translations = load_translations(language)
    for pattern in _patterns(language):
        match = pattern.match(text)
        if match is None:
            continue
        values = [_value(value, name, kind) for value, name, kind
                  in zip(match.groups(), pattern.names, pattern.kinds, strict=True)]
        message = (translations.ngettext(pattern.ids[0], pattern.ids[1], _count(pattern, match))
                   if len(pattern.ids) == 2 else translations.gettext(pattern.ids[0]))
        # The values are text now: %d and %r show them as they are.
        message = PLACEHOLDER.sub(lambda m: m.group(0)[:-1] + "s", message)
        if pattern.names[0] is None:
            return message % tuple(values)
        return message % dict(zip(pattern.names, values, strict=True))
    return translations.gettext(text)
