"""An article page made ready for the extractor: decoded, parsed, its furniture taken out.

Pure: bytes or text in, an lxml tree out. Hostile pages cost a bounded amount: the text is
cut at `MAX_PAGE_CHARS`, libxml2 stops nesting at 256 levels, and bytes that are not text
give no tree at all.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import feedparser.encodings
import lxml.etree
import lxml.html

from aggregator.poll.clean import fix_images

# A long blog post with its comments is under 1 MB; a page ten times that is not an article.
MAX_PAGE_CHARS = 4_000_000
# Where a page says its encoding: <meta charset> or <meta http-equiv content="...charset=">.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
                           re.IGNORECASE)
# feedparser takes the mark off, so each names its byte order.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32le"),
         (codecs.BOM_UTF32_BE, "utf-32be"), (codecs.BOM_UTF16_LE, "utf-16le"),
         (codecs.BOM_UTF16_BE, "utf-16be"))
_XML_DECLARATION = re.compile(r"\A<\?xml[^>]*\?>\n?")
_C1_CONTROLS = re.compile("[\x80-\x9f]")
# A windows-1252 byte read as Latin-1 (as feedparser's charset step may) is a C1 control:
# each is made the character windows-1252 means by it. The 5 bytes windows-1252 leaves
# undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) stay as they are, as they do in feedparser.
_C1_AS_CP1252 = {point: char for point in range(0x80, 0xA0)
                 if (char := bytes([point]).decode("cp1252", "ignore"))}
# Control characters that no text page holds (tab, newlines and form feed aside).
_BINARY = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f]")

# The extractor folds every kind of white space into one plain space, and French writes a
# no-break space before : ; ! ? » and after «. Each is swapped for a printable sign of its
# own (ISO 9995's symbols for them) that it leaves alone, and put back afterwards.
NO_BREAK_SIGNS = {"\u00a0": "\u237d", "\u202f": "\u23b5"}
_NO_BREAK = re.compile(r"\u00a0|\u202f|&nbsp;|&#160;|&#x0*a0;|&#8239;|&#x0*202f;", re.IGNORECASE)
_NO_BREAK_OF = {"&nbsp;": "\u00a0", "&#160;": "\u00a0", "&#8239;": "\u202f"}

_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                               collect_ids=False, default_doctype=False)


def decode_page(page: bytes, content_type: str = "") -> str | None:
    """The text of a page, read as a feed's bytes are (feedparser's step): its declared
    charset (byte order mark, else HTTP's `content_type`, else <meta>) when its bytes are
    in it, else UTF-8, else windows-1252, and windows-1252's characters for the code
    points a Latin-1 label gives. None for bytes that are not text (an image, a PDF)."""
    declared = next((name for bom, name in _BOMS if page.startswith(bom)), None)
    if declared is None:
        declared = _known_encoding(feedparser.encodings.parse_content_type(content_type)[1])
    if declared is None and (meta := _META_CHARSET.search(page[:4096])):
        declared = _known_encoding(meta.group(1).decode("ascii"), in_page=True)
    # An XML type: feedparser then trusts the declared charset, else tries UTF-8 first.
    header = f"application/xml; charset={declared}" if declared else "application/xml"
    converted = feedparser.encodings.convert_to_utf8({"content-type": header}, page, {})
    # It puts an XML declaration in front of the text, which is not the page's.
    text = _XML_DECLARATION.sub("", converted.decode("utf-8", "replace"), count=1)
    if _C1_CONTROLS.search(text):  # rare: the per-character table is not worth it otherwise
        text = text.translate(_C1_AS_CP1252)
    # One control character in a thousand of the start is not a page mangled in transit.
    if len(_BINARY.findall(text, 0, 4096)) > min(len(text), 4096) // 1000 + 1:
        return None
    return text


def _known_encoding(name: str, in_page: bool = False) -> str | None:
    try:
        codec = codecs.lookup(name) if name else None
    except LookupError:
        return None
    # A page declaring UTF-16 inside itself was read as ASCII to find that out: it is not.
    if codec is None or (in_page and codec.name.startswith(("utf-16", "utf-32"))):
        return None
    return name


def can_protect_no_breaks(text: str) -> bool:
    """Whether `text` holds none of the signs protect_no_breaks swaps in (a page that does
    keeps them, and its no-break spaces are lost instead)."""
    return not any(sign in text for sign in NO_BREAK_SIGNS.values())


def protect_no_breaks(text: str) -> str:
    """`text` with its no-break spaces (characters or references) as signs the extractor
    keeps."""
    return _NO_BREAK.sub(_no_break_sign, text)


def _no_break_sign(match: re.Match[str]) -> str:
    found = match.group(0)
    character = _NO_BREAK_OF.get(found.lower(), found)
    if character.startswith("&"):  # hexadecimal: &#xa0; or &#x202f;
        character = chr(int(character[3:-1], 16))
    return NO_BREAK_SIGNS[character]


def restore_no_breaks(text: str) -> str:
    """The no-break spaces protect_no_breaks swapped out, back in place."""
    for space, sign in NO_BREAK_SIGNS.items():
        text = text.replace(sign, space)
    return text


def parse_page(text: str, protect: bool) -> Any | None:
    """The page's lxml tree, lazy images resolved and counting pixels gone (no-break spaces
    protected if `protect`), or None when libxml2 finds no document in it."""
    source = fix_images(text[:MAX_PAGE_CHARS])
    if protect:
        source = protect_no_breaks(source)
    try:
        return lxml.html.document_fromstring(source.encode("utf-8", "replace"), _PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None
