"""What a stored value may be: the caps on each field and the rules that repair a value
that breaks them, so that one hostile field costs that field, never its entry or feed.

Every string is valid Unicode without NUL (XML 1.0's characters: no lone surrogate,
no C0 control but tab and line breaks), every text a page shows is bounded, every
number from a server is range-checked, every date lies between MIN_DATE and a little
after the poll. docs/hostile-input.md lists the caps and what each repair does.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.xmlchars import XML_FORBIDDEN, strip_forbidden_chars

# Characters, except MAX_ENCLOSURES and MAX_CATEGORIES (items) and the numbers' units.
MAX_TITLE = 300  # an entry's or a feed's title; longer is cut, with an ellipsis
MAX_NAME = 200  # an author
MAX_CATEGORY = 100  # one category (tag) of an entry
MAX_CATEGORIES = 50  # categories kept per entry, the first ones
MAX_LINK = 2048  # a link, thumbnail, enclosure or site address; a longer one is dropped
MAX_LANGUAGE = 35  # a language tag (BCP 47's longest); a longer one is dropped
MAX_MEDIA_TYPE = 255  # an enclosure's media type; a longer one is dropped
MAX_ENCLOSURES = 20  # enclosures kept per entry, the first ones
MAX_CONTENT = 1_000_000  # an entry's content or summary, cut before it is sanitized
MAX_EXCERPT = 2000  # an excerpt: 60 words (EXCERPT_WORDS), unless they are absurdly long
MAX_ERROR = 500  # a poll's error as `status` shows it
MAX_VALIDATOR = 1024  # an ETag or Last-Modified sent back; a longer one is not kept
MAX_BYTES = 10**15  # an enclosure's length; beyond it the length is unknown
MIN_DATE = datetime(1970, 1, 1, tzinfo=UTC)  # an entry dated before is undated
MAX_AHEAD = timedelta(days=366)  # an entry dated further after its poll is undated

ELLIPSIS = "…"
# What an ellipsis replaces at the end of a cut text: "fin.…" reads as a typo.
ELIDED_PUNCTUATION = ",;:.!?…-–— "
# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a title
# they turn the text around it, the page's included.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# Invisible characters that join or break nothing a title needs: zero-width space,
# word joiner and invisible operators, BOM, Mongolian vowel separator.
_INVISIBLE = "\u200b\u2060-\u2064\ufeff\u180e"
_HIDDEN = re.compile(f"[{_BIDI_CONTROLS}{_INVISIBLE}]+")
# The joiners (ZWNJ, ZWJ) are kept one at a time between two visible characters
# (Persian words, emoji sequences); anywhere else they only hide emptiness.
_JOINERS = "\u200c\u200d"
_STRAY_JOINERS = re.compile(f"(?<![^\\s{_JOINERS}])[{_JOINERS}]+"
                            f"|[{_JOINERS}]+(?![^\\s{_JOINERS}])|[{_JOINERS}]{{2,}}")
_DISPLAY_SUSPECTS = re.compile(f"[{_BIDI_CONTROLS}{_INVISIBLE}{_JOINERS}]")
_DIGITS = re.compile("[0-9]+")


# `text` without the code points XML 1.0 forbids (NUL, controls, lone surrogates): no
# database, page or feed of ours can hold them all.
valid_text = strip_forbidden_chars


def display_text(text: str) -> str:
    """A title or name as shown: without bidi controls and zero-width runs."""
    if not _DISPLAY_SUSPECTS.search(text):  # nearly every title: one scan, nothing made
        return text
    return _STRAY_JOINERS.sub("", _HIDDEN.sub("", text))


def cap_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the ellipsis included, if longer: at a
    space when one lies in the last tenth, else inside the word (see `elide`)."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ", limit - limit // 10)
    return elide(cut[:space] if space > 0 else cut)


def elide(text: str) -> str:
    """`text` followed by an ellipsis, which takes the place of its last punctuation:
    "personnels…", not "personnels.…" nor "ceci :…"."""
    return text.rstrip(ELIDED_PUNCTUATION) + ELLIPSIS


def bounded_count(digits: str, maximum: int) -> int | None:
    """A count of ASCII digits as a number up to `maximum`; None when not digits.

    Any run of digits is a number to a server, so a longer one than `maximum` means
    "more than we care for": it is `maximum` (without converting thousands of digits).
    """
    if not _DIGITS.fullmatch(digits):
        return None
    if len(digits.lstrip("0")) > len(str(maximum)):
        return maximum
    return min(int(digits), maximum)


def byte_length(value: object) -> int | None:
    """An enclosure's length in bytes as a feed gives it (a number, or digits): a whole
    number within 0..MAX_BYTES, else unknown (None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_BYTES else None
    if isinstance(value, str):
        length = bounded_count(value.strip(), MAX_BYTES + 1)
        return length if length is not None and length <= MAX_BYTES else None
    return None


def plausible_date(moment: datetime | None, now: datetime) -> datetime | None:
    """`moment`, unless before MIN_DATE or more than MAX_AHEAD after `now`: then None.

    Year 1 or 9999 is a broken feed, not a date: treated as absent, the entry is
    filed when first seen, as an undated one is.
    """
    if moment is None or MIN_DATE <= moment <= now + MAX_AHEAD:
        return moment
    return None


def stored_text(value: str | None, limit: int) -> str | None:
    """A server's word kept as it is, when valid and within `limit`; else None.

    For what must be sent back unchanged (ETag, Last-Modified) or shown whole: a
    repaired copy would be another value.
    """
    if value is None or len(value) > limit or XML_FORBIDDEN.search(value):
        return None
    return value


class Repairs(Counter[tuple[str, str]]):
    """What repairing a document's values did: a count per (repair, field)."""

    def note(self, repair: str, field: str) -> None:
        """Count one repair of one value of `field`."""
        self[repair, field] += 1

    def describe(self) -> str | None:
        """The repairs in one line for the feed's log, None when there were none."""
        fields: dict[str, list[str]] = {}
        for (repair, field), count in sorted(self.items()):
            fields.setdefault(repair, []).append(f"{field} ×{count}")
        if not fields:
            return None
        return "values repaired (" + "; ".join(
            f"{repair}: {', '.join(names)}" for repair, names in fields.items()) + ")"


def repair_entry(entry: ParsedEntry, repairs: Repairs) -> ParsedEntry:
    """`entry` with every field valid and within its cap; `repairs` counts what changed."""
    noted = repairs.total()
    fixed: dict[str, Any] = dict(
        guid=_short(entry.guid, "id", None, repairs),
        link=_link(entry.link, "link", repairs),
        title=_short(entry.title, "title", MAX_TITLE, repairs) or "",
        author=_short(entry.author, "author", MAX_NAME, repairs),
        content=_long(entry.content, "content", repairs),
        summary=_long(entry.summary, "summary", repairs),
        language=_word(entry.language, "language", MAX_LANGUAGE, repairs),
        thumbnail=_link(entry.thumbnail, "thumbnail", repairs),
        enclosures=_enclosures(entry.enclosures, repairs),
        categories=_categories(entry.categories, repairs),
    )
    # Nearly every entry needs nothing: the same object, without copying it.
    return entry if repairs.total() == noted else replace(entry, **fixed)


def repair_feed(feed: ParsedFeed, repairs: Repairs) -> ParsedFeed:
    """The feed's own fields (not its entries) valid and within their caps."""
    return replace(
        feed,
        title=_short(feed.title, "feed title", MAX_TITLE, repairs),
        site_url=_link(feed.site_url, "site address", repairs),
        hub=_link(feed.hub, "hub address", repairs),
        self_url=_link(feed.self_url, "self address", repairs),
        language=_word(feed.language, "feed language", MAX_LANGUAGE, repairs),
    )


def _short(value: str | None, field: str, limit: int | None,
           repairs: Repairs) -> str | None:
    if value is None:
        return None
    valid = valid_text(value)
    if len(valid) != len(value):
        repairs.note("invalid characters removed", field)
    if limit is not None and len(valid) > limit:
        repairs.note(f"cut to {limit} characters", field)
        valid = cap_text(valid, limit)
    return valid or None


def _long(value: str | None, field: str, repairs: Repairs) -> str | None:
    # Its invalid characters go when it is sanitized (clean.sanitize_html): a scan of
    # a whole post here would double the cost of that step for every entry.
    if value is None or len(value) <= MAX_CONTENT:
        return value
    repairs.note(f"cut to {MAX_CONTENT} characters", field)
    return value[:MAX_CONTENT]


def _word(value: str | None, field: str, limit: int, repairs: Repairs) -> str | None:
    """A value useless when cut (an address, a language tag): dropped when too long."""
    valid = _short(value, field, None, repairs)
    if valid is not None and len(valid) > limit:
        repairs.note(f"dropped, longer than {limit} characters", field)
        return None
    return valid


def _link(value: str | None, field: str, repairs: Repairs) -> str | None:
    return _word(value, field, MAX_LINK, repairs)


def _enclosures(enclosures: tuple[Enclosure, ...], repairs: Repairs
                ) -> tuple[Enclosure, ...]:
    if len(enclosures) > MAX_ENCLOSURES:
        repairs.note(f"only the first {MAX_ENCLOSURES} kept", "enclosures")
    kept = []
    for enclosure in enclosures[:MAX_ENCLOSURES]:
        url = _link(enclosure.url, "enclosure", repairs)
        if url is not None:
            kind = _word(enclosure.type, "enclosure type", MAX_MEDIA_TYPE, repairs)
            kept.append(Enclosure(url, kind, enclosure.length))
    return tuple(kept)


def _categories(categories: tuple[str, ...], repairs: Repairs) -> tuple[str, ...]:
    if len(categories) > MAX_CATEGORIES:
        repairs.note(f"only the first {MAX_CATEGORIES} kept", "categories")
    kept = (_short(c, "category", MAX_CATEGORY, repairs) for c in categories[:MAX_CATEGORIES])
    return tuple(dict.fromkeys(c for c in kept if c))
