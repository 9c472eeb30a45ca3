"""One fetched body to storable entries: parse, clean, fingerprint.

This is what runs in the parse worker processes, so it imports neither
SQLAlchemy nor requests: each worker holds only what parsing needs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace

from aggregator.dedup import (
    distrust_shared_guids,
    entry_identity,
    find_boilerplate,
    fingerprint,
)
from aggregator.dedup.text import paragraphs_and_text
from aggregator.fulltext.truncation import truncation_reason
from aggregator.models import CleanEntry, Parsed, ParsedEntry, ParsedFeed
from aggregator.poll.clean import clean_entry, clean_link, clean_title, repair_text
from aggregator.poll.layout import Layout, find_layout, has_relative_links, reduce_document
from aggregator.poll.parse import (
    ParseError,
    parse_feed,
)

log = logging.getLogger(__name__)

# Part of every entry digest: a release that cleans or fingerprints differently
# bumps it, and stored entries are cleaned again at their feed's next change.
PREPARE_VERSION = "2"  # 2: values.py repairs, titles without bidi controls


@dataclass(frozen=True)
class Sorted:
    """A document's entries, each identity once: cleaned when new or changed, else named."""

    cleaned: list[CleanEntry]
    unchanged: list[str]
    digests: dict[str, str]  # {digest or key: identity}, to know them next time
    # Each entry's, in document order; None for an entry that could not be cleaned.
    identities: list[str | None] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each of those was skipped


def digest_entry(entry: ParsedEntry, base_url: str) -> str:
    """A short hash of everything cleaning an entry depends on."""
    text = repr((PREPARE_VERSION, base_url, entry)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=12).hexdigest()


def sort_entries(entries: Sequence[ParsedEntry], base_url: str,
                 known: Mapping[str, str]) -> Sorted:
    """Clean the entries `known` (the feed's last document) does not hold as they are.

    A changed feed usually has one new entry among twenty: cleaning the other
    nineteen again would cost more than parsing the document. The first entry
    of each identity is kept, as the feed's own repeats are noise.
    """
    found = Sorted([], [], {})
    seen: set[str] = set()
    for entry in distrust_shared_guids(entries):
        digest = digest_entry(entry, base_url)
        cleaned = None if digest in known else _clean_or_skip(entry, base_url, found)
        identity = cleaned.identity if cleaned else known.get(digest)
        found.identities.append(identity)
        if identity is None:
            continue
        if identity in seen:
            continue
        seen.add(identity)
        found.digests[digest] = identity
        if cleaned:
            found.cleaned.append(cleaned)
        else:
            found.unchanged.append(identity)
    return found


def _clean_or_skip(entry: ParsedEntry, base_url: str, found: Sorted) -> CleanEntry | None:
    """clean_entry, or None when it fails on this entry: the others are kept."""
    try:
        return clean_entry(entry, base_url)
    except Exception as exc:  # a cleaning bug on one hostile entry must cost only it
        log.exception("could not clean an entry of %s", base_url)
        found.skipped.append(f"an entry skipped ({entry.link or entry.guid}): {exc!r}"[:300])
        return None


# The response headers feedparser reads: they decide how every entry parses.
_PARSE_HEADERS = ("content-type", "content-location", "content-language")


def entry_keys(content: bytes, layout: Layout, headers: Mapping[str, str],
               url: str) -> list[str]:
    """A key for each entry of `layout`: a hash of its bytes and of everything else its
    parse and cleaning depend on (the rest of the document but the feed's dates, the
    headers feedparser reads, the address, PREPARE_VERSION)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    around = hashlib.blake2b(digest_size=12, person=b"entry-bytes")
    around.update(repr((PREPARE_VERSION, url, [lowered.get(h) for h in _PARSE_HEADERS]))
                  .encode("utf-8", "surrogatepass"))
    for piece in layout.outside_entries(content):
        around.update(piece)
    view = memoryview(content)
    keys = []
    for start, end in layout.entries:
        key = around.copy()
        key.update(view[start:end])
        keys.append(key.hexdigest())
    return keys


def read_entries(content: bytes, headers: Mapping[str, str], url: str,
                 known: Mapping[str, str]) -> tuple[ParsedFeed, Sorted]:
    """Parse a document and sort its entries into cleaned and already known.

    Entries whose bytes (see entry_keys) were in the last document are left out of
    the parse: a feed that changed has one new entry among twenty, and feedparser
    costs as much an entry as cleaning it.
    """
    layout = find_layout(content)
    keys = entry_keys(content, layout, headers, url) if layout else []
    seen = [i for i, key in enumerate(keys) if key in known]
    if layout and seen:
        parts = None
        with suppress(ParseError):  # the whole document decides, below
            feed = parse_feed(reduce_document(content, layout, seen), headers, url,
                              relative_links=has_relative_links(content))
            if len(feed.entries) == len(keys) - len(seen):
                parts = _sort_rest(feed, [known[keys[i]] for i in seen], url, known)
        if parts is not None:
            rest = iter(parts.identities)
            _remember(parts, ((key, known[key] if key in known else next(rest))
                              for key in keys))
            return feed, parts
    feed = parse_feed(content, headers, url)
    parts = sort_entries(feed.entries, feed.site_url or url, known)
    if len(keys) == len(feed.entries):  # else feedparser found entries elsewhere
        _remember(parts, zip(keys, parts.identities, strict=True))
    return feed, parts


def _remember(parts: Sorted, keys: Iterable[tuple[str, str | None]]) -> None:
    """Add the entries' byte keys to the digests, but those of entries skipped."""
    parts.digests.update((key, identity) for key, identity in keys if identity is not None)


def _sort_rest(feed: ParsedFeed, unchanged: list[str], url: str,
               known: Mapping[str, str]) -> Sorted | None:
    """sort_entries for the entries parsed beside `unchanged`, the identities of those
    left out; None when the whole document must be sorted again.

    That is when one of the parsed entries takes an identity left out, or carries the
    guid of one left out, or a guid where some left out have none: a guid one entry
    shares with another is not trusted (distrust_shared_guids), and that takes every
    entry of the document.
    """
    guids = {entry_identity(e.guid, None, "", "") for e in feed.entries if e.guid}
    if guids and (not guids.isdisjoint(unchanged)
                  or not all(i.startswith("id:") for i in unchanged)):
        return None
    parts = sort_entries(feed.entries, feed.site_url or url, known)
    if not set(parts.identities).isdisjoint(unchanged):
        return None
    left_out = list(dict.fromkeys(unchanged))
    # What the last document knew of the entries left out, their digests included.
    kept = set(left_out)
    digests = {key: identity for key, identity in known.items() if identity in kept}
    return Sorted(parts.cleaned, left_out + parts.unchanged, digests | parts.digests,
                  parts.identities, parts.skipped)


def parse_step(content: bytes, headers: Mapping[str, str], url: str,
               boilerplate: frozenset[int] = frozenset(),
               known: Mapping[str, str] | None = None) -> Parsed:
    """Parse, clean and fingerprint one body: runs in a worker process or inline.

    `boilerplate` is what earlier polls learnt of this feed's footers; this
    document's own repeated paragraphs are added to it. `known` is the feed's
    last document (Parsed.digests): its entries are not parsed or cleaned again.
    """
    try:
        feed, parts = read_entries(content, headers, url, known or {})
    except ParseError as exc:
        return Parsed(error=str(exc))
    read = [paragraphs_and_text(e.content or e.summary) for e in parts.cleaned]
    blocks = [entry_blocks for entry_blocks, _ in read]
    learned = find_boilerplate(blocks)
    known_boilerplate = boilerplate | learned
    cut = truncations([text for _, text in read])
    entries = tuple(
        replace(entry, fingerprint=fingerprint(entry.title, entry.link, text, known_boilerplate),
                truncated=reason)
        for entry, text, reason in zip(parts.cleaned, blocks, cut, strict=True)
    )
    # The raw entries stay behind: only what the store needs crosses the process boundary.
    title = clean_title(repair_text(feed.title), False) if feed.title else None
    warning = "; ".join(filter(None, (feed.warning, *parts.skipped)))
    summary = ParsedFeed(feed.version, title or None, clean_link(feed.site_url, url),
                         feed.language, (), warning or None, feed.ttl,
                         clean_link(feed.hub, url), clean_link(feed.self_url, url))
    return Parsed(summary, entries, boilerplate=frozenset(learned),
                  unchanged=tuple(parts.unchanged), digests=parts.digests)


def truncations(texts: Sequence[str]) -> list[str | None]:
    """Why each entry's text (plain_text of its content or summary) looks cut short (a
    teaser), or None: judged against the lengths of the document's other new entries
    (fulltext.truncation)."""
    lengths = [len(text) for text in texts]
    return [truncation_reason(text, lengths[:i] + lengths[i + 1:])
            for i, text in enumerate(texts)]


def safe_parse(content: bytes, headers: Mapping[str, str], url: str,
               boilerplate: frozenset[int] = frozenset(),
               known: Mapping[str, str] | None = None) -> Parsed:
    """parse_step, with any unexpected exception turned into an error value."""
    try:
        return parse_step(content, headers, url, boilerplate, known)
    except Exception as exc:  # feedparser or a sanitizer bug on one hostile document
        log.exception("unexpected error while parsing %s", url)
        return Parsed(error=f"internal error while parsing: {exc!r}")
