"""The keys an entry is filed under, and the bounded choice of the stored entries worth
comparing with a new one (docs/dedup.md says why the bound keeps copies reachable)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Set
from dataclasses import dataclass, field

from aggregator.dedup.fingerprint import hash64
from aggregator.models import Fingerprint

INDEX_KEYS = 16  # of them, the smallest ones that are not common indexed to find candidates
SKETCH_LOOKUP = 32  # of them, the smallest ones among which those INDEX_KEYS are chosen
# Entries filed under one index key at most: a full list marks a common key (a stock
# phrase, a generic title), and every lookup stays bounded however large the table grows.
POSTINGS_PER_KEY = 64
MAX_CANDIDATES = 16  # stored entries fully compared with one new entry, at most
STRONGEST_SHARE = 0.5  # of the strongest nominee's weight, that a nominee needs


def lookup_keys(found: Fingerprint) -> list[int]:
    """The keys to look up among the common ones before choosing an entry's index keys:
    its SKETCH_LOOKUP smallest hashes, link, title and lead."""
    return [*found.sketch[:SKETCH_LOOKUP], *_whole_entry_keys(found)]


def index_keys(found: Fingerprint, common: Set[int] = frozenset()) -> list[int]:
    """The index keys under which an entry is filed and looked up: its INDEX_KEYS smallest
    hashes that are not `common`, its link, title and lead.

    Passing over common keys (stock phrases) files a templated post under the few
    runs of words of its own, where its copies find it; a copy, sharing its text,
    passes over the same ones.
    """
    rare = [key for key in found.sketch[:SKETCH_LOOKUP] if key not in common]
    return [*rare[:INDEX_KEYS], *_whole_entry_keys(found)]


def _whole_entry_keys(found: Fingerprint) -> list[int]:
    keys = [hash64(f"{kind}:{value}") for kind, value in (("link", found.link),
                                                           ("title", found.title)) if value]
    return keys if found.lead is None else [*keys, found.lead]


@dataclass
class Postings:
    """The stored entries filed under some index keys: each rare key's list, and the
    keys whose list is full (POSTINGS_PER_KEY entries: a stock phrase or a generic
    title shared by many posts), whose entries are not even read: the store marks
    them in a table of their own."""

    lists: dict[int, list[int]] = field(default_factory=dict)
    common: set[int] = field(default_factory=set)
    filled: set[int] = field(default_factory=set)  # common since looked up: to mark

    def file(self, entry_id: int, keys: Sequence[int]) -> list[int]:
        """File an entry under `keys` but the common ones; the keys it was filed under.

        The cap keeps every lookup bounded however large the table grows.
        """
        filed = []
        for key in dict.fromkeys(keys):
            if key in self.common:
                continue
            ids = self.lists.setdefault(key, [])
            ids.append(entry_id)
            filed.append(key)
            if len(ids) >= POSTINGS_PER_KEY:
                self.common.add(key)
                self.filled.add(key)
                del self.lists[key]
        return filed


def rank_candidates(found: Fingerprint, postings: Postings, keys: Sequence[int] | None = None,
                    siblings: Set[int] = frozenset()) -> list[int]:
    """The stored entries worth comparing with `found`, most alike first, at most
    MAX_CANDIDATES of them (`keys`: index_keys(found, postings.common), when the
    caller has them already), `siblings` left out.

    Nominees (see _nominate) are ranked by the keys they share, each weighing 1 /
    the length of its list (a key shared by one entry weighs most); a shared link
    ranks first, since it decides alone. Those weighing under half the strongest
    nominee are left out.
    """
    keys = index_keys(found, postings.common) if keys is None else keys
    filed = [(key, ids) for key in dict.fromkeys(keys) if (ids := postings.lists.get(key))]
    if not filed:  # most new entries: nobody shares any of their keys
        return []
    nominated = _nominate(found, keys, filed)
    # Entries of the new one's own document: a template's siblings would fill the bound.
    nominated.difference_update(siblings)
    if len(nominated) <= 1:
        return list(nominated)
    score = dict.fromkeys(nominated, 0.0)
    for _, ids in filed:
        for entry_id in nominated.intersection(ids):
            score[entry_id] += 1 / len(ids)
    linked = set(postings.lists.get(hash64(f"link:{found.link}"), ())) if found.link else set()
    # Equal scores: the entry stored last. A copy comes days after its original, while
    # the entries sharing a phrase with it pile up over years.
    ranked = sorted(nominated, key=lambda i: (i not in linked, -score[i], -i))
    # Far weaker evidence than the strongest nominee's: phrases shared by chance.
    floor = STRONGEST_SHARE * max(score.values())
    return [i for i in ranked[:MAX_CANDIDATES] if i in linked or score[i] >= floor]


def _nominate(found: Fingerprint, keys: Sequence[int],
              filed: Sequence[tuple[int, Sequence[int]]]) -> set[int]:
    """The entries of the `filed` lists sharing with `found` its link, title or lead, or
    two of its sketch keys (its only one, for a text of a single shingle).

    The lists of common keys are not among them: a common key says little, and
    nominates nobody.
    """
    sketch_keys = set(found.sketch[:SKETCH_LOOKUP]).intersection(keys)
    nominated: set[int] = set()
    shared: Counter[int] = Counter()
    for key, ids in filed:
        if key in sketch_keys:
            shared.update(ids)
        else:
            nominated.update(ids)
    needed = min(2, len(sketch_keys))
    nominated.update(i for i, count in shared.items() if count >= needed)
    return nominated
