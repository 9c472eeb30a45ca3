"""Whole numbers and moments as a language writes them, from the few pieces of Babel's
locale data they need (group sign, minus sign, two date patterns, month abbreviations),
kept in the user's cache folder: loading Babel and a locale costs every `status` ~40 ms
(issue 21). Babel makes the pieces and stays the reference: any pattern field these
functions do not know sends the moment to Babel."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from aggregator.i18n import keep_in_cache

# The CLDR skeletons of a moment: the date with the month in letters, the hours 0 to 23.
DATE_SKELETON, TIME_SKELETON = "yMMMd", "Hm"
# A pattern's pieces: a quoted literal, a run of one field letter, or other literal text.
PATTERN_PIECE = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


@dataclass(frozen=True)
class Pieces:
    """What `whole_number` and `moment` need of a language's locale data."""

    group: str
    minus: str
    date_pattern: str
    time_pattern: str
    months: tuple[str, ...]  # abbreviated, as a date writes them: January first


def make_pieces(language: str) -> Pieces:
    """The pieces of `language`, from Babel's locale data."""
    from babel import Locale

    locale = Locale.parse(language)
    symbols = locale.number_symbols["latn"]
    return Pieces(symbols["group"], symbols["minusSign"],
                  locale.datetime_skeletons[DATE_SKELETON].pattern,
                  locale.datetime_skeletons[TIME_SKELETON].pattern,
                  tuple(locale.months["format"]["abbreviated"][m] for m in range(1, 13)))


def _stamp(language: str) -> str | None:
    """What names the installed Babel's data of `language`: its file's size and time, read
    without importing Babel (another Babel, other pieces); None if it cannot be found."""
    spec = find_spec("babel")
    if spec is None or spec.origin is None:
        return None
    try:
        data = (Path(spec.origin).parent / "locale-data" / f"{language}.dat").stat()
    except OSError:
        return None
    return f"{data.st_size}-{data.st_mtime_ns}"


def kept_pieces(language: str, folder: Path) -> Pieces:
    """The pieces of `language`, read from `folder` when a process made them from this
    Babel before; else made and kept there, if the folder can be written."""
    stamp = _stamp(language)
    if stamp is None:
        return make_pieces(language)
    kept = folder / f"formats-{language}-{stamp}.json"
    try:
        values = json.loads(kept.read_text("utf-8"))
        return Pieces(**{**values, "months": tuple(values["months"])})
    except (OSError, ValueError, TypeError, KeyError):
        pass
    pieces = make_pieces(language)
    keep_in_cache(kept, json.dumps(asdict(pieces), ensure_ascii=False).encode())
    return pieces


@cache
def pieces_of(language: str, folder: Path) -> Pieces:
    """`kept_pieces`, once a process."""
    return kept_pieces(language, folder)


def whole_number(value: int, pieces: Pieces) -> str:
    """An integer with its thousands grouped, as Babel's #,##0 writes it."""
    grouped = f"{abs(value):,}".replace(",", pieces.group)
    return f"{pieces.minus}{grouped}" if value < 0 else grouped


def _field(letters: str, local: datetime, pieces: Pieces) -> str | None:
    """One field of a pattern, or None for a field not known here."""
    if letters == "MMM":
        return pieces.months[local.month - 1]
    if letters == "y":
        return str(local.year)
    numbers = {"d": local.day, "M": local.month, "H": local.hour, "m": local.minute}
    if letters[0] in numbers and len(letters) <= 2:
        return str(numbers[letters[0]]).zfill(len(letters))
    return None


def formatted(pattern: str, local: datetime, pieces: Pieces) -> str | None:
    """`local` written by a CLDR `pattern`; None when it has a field not known here."""
    out = []
    for piece in PATTERN_PIECE.finditer(pattern):
        text = piece.group(0)
        if piece.group(1):
            field = _field(text, local, pieces)
            if field is None:
                return None
            out.append(field)
        else:
            out.append(text[1:-1].replace("''", "'") if text.startswith("'") else text)
    return "".join(out)
