"""Pure functions that decide when two entries are the same one.

- `identity`: within one feed, the key of an entry (guid, link or hash), its signature
  (when to update the stored copy), and guids shared by several links distrusted;
- `links`: across feeds, a link reduced to the page it identifies (`canonical_link`);
- `text`: text folded for comparison, HTML split in normalized blocks, title keys;
- `fingerprint`: shingle hashes, the sketch, a feed's boilerplate, `hash64` and the
  packing of sketches for the database;
- `index`: the keys an entry is filed under and the bounded ranking of candidates;
- `rule`: the same-article rule and the template rule (`same_article`, `filled_twice`).

The names below are those the other stages import.
"""

from __future__ import annotations

from aggregator.dedup.fingerprint import (
    find_boilerplate,
    fingerprint,
    hash64,
    pack_sketch,
    unpack_sketch,
)
from aggregator.dedup.identity import distrust_shared_guids, entry_identity, entry_signature
from aggregator.dedup.index import (
    INDEX_KEYS,
    MAX_CANDIDATES,
    POSTINGS_PER_KEY,
    Postings,
    index_keys,
    lookup_keys,
    rank_candidates,
)
from aggregator.dedup.links import canonical_link
from aggregator.dedup.rule import Texts, needs_shingles, same_article
from aggregator.dedup.text import normalize_text, paragraphs, words_of

__all__ = [
    "INDEX_KEYS",
    "MAX_CANDIDATES",
    "POSTINGS_PER_KEY",
    "Postings",
    "Texts",
    "canonical_link",
    "distrust_shared_guids",
    "entry_identity",
    "entry_signature",
    "find_boilerplate",
    "fingerprint",
    "hash64",
    "index_keys",
    "lookup_keys",
    "needs_shingles",
    "normalize_text",
    "pack_sketch",
    "paragraphs",
    "rank_candidates",
    "same_article",
    "unpack_sketch",
    "words_of",
]
