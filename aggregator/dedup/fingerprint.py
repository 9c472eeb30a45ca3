"""An entry's fingerprint: the hashes of its runs of words (shingles), the smallest of
them (its sketch), its canonical link, title and lead, a feed's boilerplate left out."""

from __future__ import annotations

import functools
import hashlib
import struct
from collections import Counter
from collections.abc import Sequence, Set

from aggregator.dedup.links import canonical_link
from aggregator.dedup.text import title_key
from aggregator.models import Fingerprint

SHINGLE_WORDS = 5
SKETCH_SIZE = 128  # hashes kept to verify a candidate (1 KB per entry)
LEAD_WORDS = 10
TAIL_WORDS = 6  # last words of a templated line: "… est apparu en premier sur <blog>."
SHORT_PARAGRAPH = 30  # words: longer paragraphs are text, never a template


def hash64(text: str) -> int:
    """A stable signed 64-bit hash (fits a SQL BIGINT)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pack_sketch(sketch: Sequence[int]) -> bytes:
    """A sketch as bytes for the database: 8 bytes a hash."""
    return struct.pack(f">{len(sketch)}q", *sketch)


def unpack_sketch(data: bytes | None) -> tuple[int, ...]:
    """The hashes of a packed sketch."""
    if not data:
        return ()
    return struct.unpack(f">{len(data) // 8}q", data)


def paragraph_hash(paragraph: str) -> int:
    """The key under which a feed's boilerplate paragraphs are remembered."""
    return hash64("p:" + paragraph)


def tail_hash(paragraph: str) -> int | None:
    """The key of a short paragraph's last words, under which templated lines recur.

    Credit lines name the entry they end ("L’article <titre> est apparu en premier
    sur <blog>."): no two are equal, but they all end alike.
    """
    tail = _tail(paragraph)
    return None if tail is None else _tail_key(tail)


def _tail_key(tail: str) -> int:
    return hash64("t:" + tail)


# find_boilerplate reads every paragraph's tail, then fingerprint those of each entry
# again: the document's last thousand are kept.
@functools.lru_cache(maxsize=1024)
def _tail(paragraph: str) -> str | None:
    # Split no further than a short paragraph's words: a longer one gives one more item.
    words = paragraph.split(maxsplit=SHORT_PARAGRAPH)
    if not TAIL_WORDS < len(words) <= SHORT_PARAGRAPH:
        return None
    return " ".join(words[-TAIL_WORDS:])


def find_boilerplate(documents: Sequence[Sequence[str]]) -> set[int]:
    """Paragraphs that recur in two or more entries of one feed: footers, signatures, forms.

    Short paragraphs that only end alike in two or more entries count too.
    """
    # Counted as text, each once per entry; only the few that recur are hashed.
    paragraphs_seen: Counter[str] = Counter()
    tails_seen: Counter[str] = Counter()
    for blocks in documents:
        paragraphs_seen.update(set(blocks))
        tails_seen.update({tail for tail in map(_tail, blocks) if tail is not None})
    return ({paragraph_hash(p) for p, count in paragraphs_seen.items() if count >= 2}
            | {_tail_key(tail) for tail, count in tails_seen.items() if count >= 2})


def _is_boilerplate(paragraph: str, boilerplate: Set[int]) -> bool:
    return paragraph_hash(paragraph) in boilerplate or tail_hash(paragraph) in boilerplate


# Each word hashed once per position it can take in a shingle; a shingle's hash is the
# exclusive or of its words' (simple tabulation hashing, which keeps the smallest
# hashes a fair sample of a text). Kept for the words met most recently: the same
# few thousand words make most of a language's text.
_WORD_CACHE: dict[str, bytes] = {}
WORD_CACHE_SIZE = 1 << 14
_HASH_BYTES = 8


def _word_digests(words: Sequence[str]) -> bytes:
    """Each word's hashes, one for each place in a shingle (8 bytes each), end to end."""
    cache = _WORD_CACHE
    try:
        return b"".join(map(cache.__getitem__, words))
    except KeyError:
        if len(cache) > WORD_CACHE_SIZE:
            cache.clear()
        for word in set(words).difference(cache):
            cache[word] = hashlib.blake2b(word.encode(), digest_size=_HASH_BYTES * SHINGLE_WORDS,
                                          person=b"shingle").digest()
        return b"".join(map(cache.__getitem__, words))


def shingle_hashes(words: Sequence[str]) -> set[int]:
    """The stable signed 64-bit hashes of every run of SHINGLE_WORDS words in `words`
    (of all of them, for a shorter text)."""
    if not words:
        return set()
    count = max(len(words) - SHINGLE_WORDS + 1, 1)
    # Place j of the run starting at word i takes word i + j's hash for place j. Each
    # place's hashes, end to end, are read as one large integer: the exclusive ors of
    # a whole text are then SHINGLE_WORDS operations in C, not one per shingle.
    # ("Q" only cuts the bytes in 8-byte groups; their order is kept, big-endian.)
    hashes = memoryview(_word_digests(words)).cast("Q")
    runs = 0
    for place in range(min(SHINGLE_WORDS, len(words))):
        runs ^= int.from_bytes(hashes[place::SHINGLE_WORDS][place:place + count], "big")
    return set(struct.unpack(f">{count}q", runs.to_bytes(_HASH_BYTES * count, "big")))


def fingerprint(title: str, link: str | None, blocks: Sequence[str],
                boilerplate: Set[int] = frozenset()) -> Fingerprint:
    """Fingerprint an entry from its title, link and text blocks, boilerplate left out."""
    # Most feeds repeat no paragraph: hashing each of theirs to find none would cost
    # a fifth of fingerprinting.
    kept = [p for p in blocks if not _is_boilerplate(p, boilerplate)] if boilerplate else blocks
    words = " ".join(kept).split()
    shingles = sorted(shingle_hashes(words))
    lead = hash64("lead:" + " ".join(words[:LEAD_WORDS])) if len(words) >= LEAD_WORDS else None
    return Fingerprint(
        link=canonical_link(link), title=title_key(title), size=len(shingles),
        sketch=tuple(shingles[:SKETCH_SIZE]), lead=lead, shingles=pack_sketch(shingles),
    )
