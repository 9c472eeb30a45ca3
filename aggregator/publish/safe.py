"""Stored values checked before a feed publishes them: plain text that no reader runs as
markup, and language tags, media types and addresses that are what they claim to be
(dropped when they are not, as a feed without them is still valid)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# RSS 2.0 never says whether a <title> is text or HTML, and readers differ: many show it
# as HTML. JSON Feed says plain text, yet readers that show RSS titles as HTML often do
# the same for JSON. Entity-encoding "<" in the text (double escaping) would show
# "&lt;" in every reader that takes the text as text; so instead plain-text fields lose
# what an HTML reader would take for markup: whole tags are removed ("<b>Nouveau</b>"
# reads "Nouveau") and any other "<" that would open one gets a space after it. A "<"
# that opens nothing ("a < b", "<3") stays. Atom says type="text", which readers
# follow: its text is published exactly.
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
_OPENER = re.compile(r"<(?=[A-Za-z/!?])")


def plain_text(text: str) -> str:
    """`text` as neither a text nor an HTML reader can take for markup."""
    stripped, removed = _TAG.subn("", text)
    if removed:  # a tag between two words leaves two spaces
        stripped = " ".join(stripped.split())
    # After the tags: removing "<b>" from "<scr<b>ipt>" leaves "<script>" to break.
    return _OPENER.sub("< ", stripped)


# RFC 5646 (BCP 47), section 2.1: a well-formed language tag, a private-use one, or one
# of the grandfathered tags. Well-formed, not registered: "fr-FR", "zh-Hant-TW",
# "de-CH-1996", "en-US-x-twain" pass, "français", "fr_FR" and "en-" do not.
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language, extended language
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo"
    "|i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish"
    "|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE = re.compile(f"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED}",
                       re.IGNORECASE | re.ASCII)


def language_tag(value: str | None) -> str | None:
    """`value` when it is a well-formed BCP 47 language tag, else None."""
    return value if value and _LANGUAGE.fullmatch(value) else None


# RFC 6838 section 4.2: type "/" subtype, each a restricted name; then RFC 2045's
# parameters (`audio/mp4; codecs="mp4a.40.2"`).
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(
    rf"{_NAME}/{_NAME}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|\"[^\"\\\x00-\x1f]*\"))*",
    re.ASCII)


def media_type(value: str | None) -> str | None:
    """`value` when it is a media type (`type/subtype`, parameters allowed), else None."""
    return value if value and _MEDIA_TYPE.fullmatch(value) else None


# No white space or control character anywhere in an address: an IRI has none.
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def web_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) address with a host, else None."""
    if not value or _NOT_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.hostname else None
