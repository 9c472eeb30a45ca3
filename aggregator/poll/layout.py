"""Where a feed document's entries lie in its bytes, to parse only the new ones.

A changed feed usually holds one new entry among twenty: the entries its last
document held already are cut out before feedparser reads it (see
prepare.read_entries). Whether the document has relative links is looked at on
the bytes too, since a cut document may lose the xml:base they need.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.parsers import expat

# The HTML attributes feedparser resolves (its _RelativeURIResolver list).
_LINK_ATTRIBUTES = frozenset({b"href", b"src", b"cite", b"background", b"action", b"longdesc",
                              b"usemap", b"profile", b"classid", b"codebase", b"data",
                              b"poster"})
_LINK_NAMES = tuple(_LINK_ATTRIBUTES)
# An attribute value, quoted plainly or as an entity, that does not start with a scheme.
_VALUE_WITHOUT_SCHEME = re.compile(
    rb"(?i)=\s*+(?:\"|'|&quot;|&apos;|&#0*3[49];|&#x0*2[27];)?+\s*+(?![a-z][a-z0-9+.-]*:)")
_LAST_WORD = re.compile(rb"\w*\Z")
_NAME_SPAN = 64  # bytes looked at before an "=": a name and the spaces after it


def has_relative_links(content: bytes) -> bool:
    """Whether feedparser's pass that resolves relative links in HTML has work to do.

    That pass re-parses every entry's HTML with sgmllib: a third of the parse
    time of a typical feed, whose links are all absolute. A document that may
    not be ASCII-compatible (UTF-16, UTF-32), uses xml:base or carries base64
    content (whose links no pattern can see) always gets it.
    """
    if b"\0" in content[:4] or b"xml:base" in content or b"base64" in content:
        return True
    # Each "=" whose value has no scheme, then the name before it: a pattern that
    # starts with the names would try all twelve at every byte, ten times slower.
    for found in _VALUE_WITHOUT_SCHEME.finditer(content):
        start = found.start()
        before = content[max(0, start - _NAME_SPAN):start].rstrip()
        if not before and start >= _NAME_SPAN:
            return True  # a longer run of spaces than we look at: assume the worst
        # The search for the last word tries every place of `before`: most values
        # (type, rel, width...) end with no link attribute's name, seen at once.
        lowered = before.lower()
        if not lowered.endswith(_LINK_NAMES):
            continue
        name = _LAST_WORD.search(lowered)
        if name is not None and name.group() in _LINK_ATTRIBUTES:
            return True
    return False


_ATOM = "http://www.w3.org/2005/Atom"
# Where a document's entries sit, by its root element (in expat's "namespace name"
# spelling): the element holding them, and theirs. RSS 1.0 (items beside the
# channel, identified by rdf:about) and documents with a DTD are left to a full parse.
_ENTRY_PLACES = {"rss": ("channel", "item"), f"{_ATOM} feed": (f"{_ATOM} feed", f"{_ATOM} entry")}
# Feed-level dates, rewritten whenever an entry is added, and used for no entry.
_FEED_DATES = frozenset({"lastBuildDate", "pubDate", "http://purl.org/dc/elements/1.1/ date",
                         f"{_ATOM} updated"})


@dataclass(frozen=True)
class Layout:
    """Where a document's entries lie, as byte ranges in document order."""

    entries: tuple[tuple[int, int], ...]
    feed_dates: tuple[tuple[int, int], ...]  # see _FEED_DATES

    def outside_entries(self, content: bytes) -> list[bytes]:
        """The document's bytes but its entries and feed dates: what every entry's
        parse may depend on (namespaces, xml:base and lang, the site's link...)."""
        return _cut(content, sorted(self.entries + self.feed_dates))


class _NotPlain(Exception):
    """Raised inside the expat handlers: this document is not for find_layout."""


def find_layout(content: bytes) -> Layout | None:
    """The byte ranges of the <item>s of an RSS 2.0 channel or the <entry>s of an Atom
    feed, or None for any other document (malformed, with a DTD, RSS 1.0, JSON...).

    With them, the entries a feed's last document held already are cut out of the
    next one before it is parsed (see reduce_document). expat alone reads the
    document, calling Python at each element: a thirtieth of feedparser's parse.
    """
    reader = _LayoutReader(content)
    try:
        reader.parser.Parse(content, True)
    except Exception:  # _NotPlain, ExpatError, an unknown encoding...: feedparser's to read
        return None
    return Layout(tuple(reader.entries), tuple(reader.dates))


class _LayoutReader:
    """expat's handlers for find_layout: where each entry and each feed date ends."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.names: list[str] = []
        self.entries: list[tuple[int, int]] = []
        self.dates: list[tuple[int, int]] = []
        self.started = 0
        self.place = ("", "")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        # Entities a DTD declares could differ between what is kept and what is cut.
        self.parser.StartDoctypeDeclHandler = self.refuse

    def start(self, name: str, _attributes: object) -> None:
        names = self.names
        names.append(name)
        if len(names) == 1:
            self.place = _ENTRY_PLACES.get(name) or ("", "")
            if not self.place[0]:
                raise _NotPlain
        elif names[-2] == self.place[0] and len(names) <= 3:
            self.started = self.parser.CurrentByteIndex

    def end(self, name: str) -> None:
        names, place = self.names, self.place
        if len(names) > 1 and names[-2] == place[0] and len(names) <= 3 and (
                name == place[1] or name in _FEED_DATES):
            at = self.parser.CurrentByteIndex
            closing = self.content[at:self.content.find(b">", at) + 1]
            if closing[2:-1].rstrip().rpartition(b":")[2] != name.rpartition(" ")[2].encode():
                raise _NotPlain  # an empty element (or not 8-bit text): no end tag here
            found = self.entries if name == place[1] else self.dates
            found.append((self.started, at + len(closing)))
        names.pop()

    @staticmethod
    def refuse(*_arguments: object) -> None:
        raise _NotPlain


def reduce_document(content: bytes, layout: Layout, drop: Sequence[int]) -> bytes:
    """The document without the entries numbered `drop` (indexes into layout.entries)."""
    return b"".join(_cut(content, [layout.entries[i] for i in drop]))


def _cut(content: bytes, spans: Sequence[tuple[int, int]]) -> list[bytes]:
    """The pieces of `content` around `spans` (sorted, not overlapping)."""
    pieces, kept_from = [], 0
    for start, end in spans:
        pieces.append(content[kept_from:start])
        kept_from = end
    pieces.append(content[kept_from:])
    return pieces
