"""Index keys, the postings lists and their cap, and the bounded ranking of candidates."""

from __future__ import annotations

import random
from dataclasses import replace

from aggregator.dedup.fingerprint import hash64
from aggregator.dedup.index import (
    INDEX_KEYS,
    MAX_CANDIDATES,
    POSTINGS_PER_KEY,
    SKETCH_LOOKUP,
    Postings,
    index_keys,
    lookup_keys,
    rank_candidates,
)
from aggregator.models import Fingerprint


def test_index_keys_are_the_smallest_hashes_link_title_and_lead() -> None:
    found = Fingerprint(link="blog.example/a", title="bonne annee", size=20,
                        sketch=tuple(range(20)), lead=7)
    assert index_keys(found) == [*range(INDEX_KEYS), hash64("link:blog.example/a"),
                                 hash64("title:bonne annee"), 7]
    bare = Fingerprint(link=None, title="", size=1, sketch=(5,), lead=None)
    assert index_keys(bare) == [5]


def test_index_keys_pass_over_common_keys() -> None:
    found = Fingerprint(link=None, title="", size=50, sketch=tuple(range(50)), lead=None)
    assert lookup_keys(found) == list(range(SKETCH_LOOKUP))
    assert index_keys(found, {0, 2, 4}) == [1, 3, *range(5, 19)]
    # Of the SKETCH_LOOKUP smallest only: a text of stock phrases keeps fewer keys.
    assert index_keys(found, set(range(SKETCH_LOOKUP - 3))) == [29, 30, 31]


def test_a_copy_finds_an_original_filed_past_its_common_keys() -> None:
    # The original's 16 smallest hashes were stock phrases, common when it was stored:
    # it was filed under the next 16, where its copy, passing over the same, finds it.
    original = Fingerprint(link=None, title="", size=90, sketch=tuple(range(90)), lead=None)
    copy = replace(original, link="relais.example/1")
    postings = Postings(common=set(range(INDEX_KEYS)))
    postings.file(1, index_keys(original, postings.common))
    assert rank_candidates(copy, postings) == [1]


def test_candidates_share_two_sketch_keys_or_a_link_title_or_lead() -> None:
    found = Fingerprint(link="blog.example/a", title="bonne annee", size=20,
                        sketch=tuple(range(20)), lead=-7)
    postings = Postings({
        0: [1, 2, 3],  # 1 shares only this key with `found`: a phrase, not a copy
        1: [2, 3], 2: [2],  # 2 and 3 share two keys
        hash64("link:blog.example/a"): [5], hash64("title:bonne annee"): [6],
        -7: [8],  # the lead
        99: [9],  # not a key of `found`
        16: [10], 17: [10],  # beyond the INDEX_KEYS smallest hashes: never looked up
    })
    # The shared link first; then by weight: 2 shares three keys (1/3 + 1/2 + 1), 8
    # and 6 a key with nobody else (equal: the one stored last first). 3 shares two
    # (1/3 + 1/2): under half of 2's weight, it is left out.
    assert rank_candidates(found, postings) == [5, 2, 8, 6]
    assert rank_candidates(found, postings, siblings={2, 6}) == [5, 8, 3]
    assert rank_candidates(found, Postings()) == []
    # A text of a single shingle has one sketch key: sharing it is enough.
    single = Fingerprint(link=None, title="", size=1, sketch=(0,), lead=None)
    assert rank_candidates(single, postings) == [3, 2, 1]


def test_a_common_key_nominates_nobody() -> None:
    found = Fingerprint(link=None, title="revue de presse", size=40,
                        sketch=tuple(range(40)), lead=None)
    # A generic title and two stock phrases are common; 100 and 101 share them and one
    # rare key each: not nominated. 7 shares two rare keys.
    postings = Postings({2: [100, 7], 3: [7, 101]},
                        common={hash64("title:revue de presse"), 0, 1})
    assert rank_candidates(found, postings) == [7]


def test_a_list_is_common_once_full() -> None:
    postings = Postings()
    for entry_id in range(POSTINGS_PER_KEY - 1):
        assert postings.file(entry_id, [1, 2, 2]) == [1, 2]
    assert postings.file(99, [1, 3]) == [1, 3]  # the last place: 1 is now full
    assert postings.file(100, [1, 3]) == [3]
    assert postings.common == {1} and 1 not in postings.lists
    assert postings.lists[3] == [99, 100]


def test_candidates_are_bounded_and_the_most_alike_come_first() -> None:
    found = Fingerprint(link=None, title="", size=60, sketch=tuple(range(60)), lead=None)
    rng = random.Random(18)
    # 500 stored entries, each sharing two or three sketch keys (common phrases);
    # entry 1 shares eight of them, as a copy does.
    lists: dict[int, list[int]] = {}
    for entry_id in range(2, 502):
        for key in rng.sample(range(INDEX_KEYS), rng.randint(2, 3)):
            lists.setdefault(key, []).append(entry_id)
    # Every list as crowded as it can be without being full.
    ranked = rank_candidates(found, Postings({
        key: ids[-(POSTINGS_PER_KEY - 2):] + ([1] if key < 8 else [])
        for key, ids in lists.items()}))
    assert ranked[0] == 1
    assert len(ranked) <= MAX_CANDIDATES
    # However many share as much: MAX_CANDIDATES, the last stored first.
    crowd = Postings({key: list(range(100, 160)) for key in range(INDEX_KEYS)})
    assert rank_candidates(found, crowd) == list(range(159, 159 - MAX_CANDIDATES, -1))
