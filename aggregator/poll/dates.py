"""Dates written the French way, as some French blogs put them in their feeds.

Registered with feedparser (see parse.py), so `published_parsed` and friends
understand `jeu., 09 juin 2016 08:30:00 +0200`, `jeudi 12 décembre 2013 10:00`,
`12 déc. 2013` and day-first `09/06/2016`. A date with no offset is read in
Paris time: these are French blogs.
"""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

FRENCH_TIME = ZoneInfo("Europe/Paris")

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "mar": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7,
    "aout": 8, "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}
_DAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim)"
_TIME = r"(?:\s*(?:a|à|,)?\s*(\d{1,2})\s*[:h]\s*(\d{2})?(?:\s*[:m]\s*(\d{2}))?)?"
# GMT, UTC or Z alone mean UTC; an offset may follow them.
_ZONE = r"(?:\s*(gmt|utc|z)?\s*([+-]\d{2}:?\d{2})?)?"
_WORDY = re.compile(
    rf"^\s*(?:{_DAYS}\.?,?\s+)?(\d{{1,2}})(?:er)?\s+([a-z]+)\.?\s+(\d{{4}}){_TIME}{_ZONE}\s*$"
)
_NUMERIC = re.compile(rf"^\s*(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}){_TIME}{_ZONE}\s*$")
# 2020/1/10: year first with slashes, which feedparser misreads as year-month-day-ish.
_YEAR_FIRST = re.compile(rf"^\s*(\d{{4}})/(\d{{1,2}})/(\d{{1,2}}){_TIME}{_ZONE}\s*$")


def _fold(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():  # most dates, every one of an ISO or RFC 822 feed: no accents
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_french_date(text: str) -> datetime | None:
    """A French-written date as an aware datetime, or None if it is not one."""
    folded = _fold(text)
    wordy = _WORDY.match(folded)
    if wordy:
        day, month_name, year, *rest = wordy.groups()
        if month_name not in _MONTHS:
            return None
        return _build(int(year), _MONTHS[month_name], int(day), rest)
    numeric = _NUMERIC.match(folded)
    if numeric:  # day first, as written in France: 09/06/2016 is the ninth of June
        day, month, year, *rest = numeric.groups()
        return _build(int(year), int(month), int(day), rest)
    year_first = _YEAR_FIRST.match(folded)
    if year_first:
        year, month, day, *rest = year_first.groups()
        return _build(int(year), int(month), int(day), rest)
    return None


def _build(year: int, month: int, day: int, rest: list[str | None]) -> datetime | None:
    hour, minute, second, utc, offset = rest
    try:
        naive = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if offset:
        sign = -1 if offset.startswith("-") else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return naive.replace(tzinfo=timezone(sign * delta))
    if utc:
        return naive.replace(tzinfo=UTC)
    return naive.replace(tzinfo=FRENCH_TIME)


def feedparser_handler(text: str) -> time.struct_time | None:
    """The date handler feedparser calls: a UTC struct_time, or None to let others try."""
    parsed = parse_french_date(text)
    return parsed.utctimetuple() if parsed else None
