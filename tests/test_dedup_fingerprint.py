"""Fingerprints: shingle hashes, the sketch, boilerplate, and hashes as the database keeps them."""

from __future__ import annotations

import hashlib
import random

import pytest

from aggregator.dedup.fingerprint import (
    SKETCH_SIZE,
    find_boilerplate,
    fingerprint,
    hash64,
    pack_sketch,
    paragraph_hash,
    shingle_hashes,
    tail_hash,
    unpack_sketch,
)
from tests.test_dedup_rule import ARTICLE

# --- boilerplate ----------------------------------------------------------------------


FOOTER = "rendez vous sur hellocoton"
CREDIT_2017 = "l article bonne annee est apparu en premier sur isabelle le numerique a coeur"
CREDIT_REVUE = ("l article revue de presse de la semaine est apparu en premier sur isabelle le "
                "numerique a coeur")


def test_find_boilerplate_keeps_paragraphs_repeated_in_two_entries() -> None:
    documents = [["un billet", FOOTER], ["un autre billet", FOOTER, FOOTER], ["un troisieme"]]
    assert find_boilerplate(documents) == {paragraph_hash(FOOTER)}


def test_a_paragraph_repeated_within_one_entry_only_is_not_boilerplate() -> None:
    assert find_boilerplate([["un billet", FOOTER, FOOTER], ["un autre billet"]]) == set()


def test_find_boilerplate_keeps_credit_lines_that_only_end_alike() -> None:
    documents = [["bonne annee 2017", CREDIT_2017], ["trois billets a lire", CREDIT_REVUE]]
    assert find_boilerplate(documents) == {hash64("t:sur isabelle le numerique a coeur")}
    assert tail_hash(CREDIT_2017) == tail_hash(CREDIT_REVUE) is not None


@pytest.mark.parametrize(
    ("paragraph", "has_tail"),
    [
        ("merci de me lire et partager", False),  # six words: the whole line, already a key
        ("merci de me lire et de partager", True),
        (" ".join(["mot"] * 30), True),
        (" ".join(["mot"] * 31), False),  # a long paragraph is text, never a template
    ],
)
def test_tail_hash_is_for_short_paragraphs(paragraph: str, has_tail: bool) -> None:
    assert (tail_hash(paragraph) is not None) == has_tail


# --- fingerprint ----------------------------------------------------------------------


def test_fingerprint_shingles_five_word_runs() -> None:
    found = fingerprint("Titre", None, ["un deux trois quatre", "cinq six sept"])
    runs = ["un deux trois quatre cinq", "deux trois quatre cinq six",
            "trois quatre cinq six sept"]
    assert found.shingle_set == set().union(*(shingle_hashes(r.split()) for r in runs))
    assert found.size == 3
    assert found.sketch == tuple(sorted(found.shingle_set))
    assert found.lead is None  # fewer than ten words


def test_a_shingle_hash_depends_on_its_words_and_their_order_only() -> None:
    words = ["le", "community", "manager", "anime", "la", "page"]
    assert shingle_hashes(words) == shingle_hashes(words[:5]) | shingle_hashes(words[1:])
    assert shingle_hashes(words[:5]) != shingle_hashes([words[1], words[0], *words[2:5]])
    assert len(shingle_hashes(["a"] * 5) | shingle_hashes(["b"] * 5)) == 2
    assert shingle_hashes(words[:2]) != shingle_hashes(words[1::-1])  # a short text


def test_shingle_hashes_are_stable() -> None:
    # Stored fingerprints hold these values: a change of the hash needs a migration
    # that fingerprints the stored entries again (as 0009 did).
    assert shingle_hashes(["le", "community", "manager", "anime", "la"]) == {2489089104846860971}
    assert shingle_hashes(["un", "deux"]) == {-1181955667606498583}


def test_shingle_hashes_are_the_exclusive_or_of_word_hashes_by_place() -> None:
    """What shingle_hashes computes over whole texts at once, written one run at a time."""
    def place_hash(word: str, place: int) -> int:
        digest = hashlib.blake2b(word.encode(), digest_size=40, person=b"shingle").digest()
        return int.from_bytes(digest[8 * place:8 * place + 8], "big", signed=True)

    def one_by_one(words: list[str]) -> set[int]:
        runs = [words[i:i + 5] for i in range(max(len(words) - 4, 1))] if words else []
        found = set()
        for run in runs:
            value = 0
            for place, word in enumerate(run):
                value ^= place_hash(word, place)
            found.add(value)
        return found

    rng = random.Random(11)
    vocabulary = ["le", "la", "cm", "réseau", "modération", "x", "2026", "été"]
    for length in [*range(12), 40, 333]:
        words = [rng.choice(vocabulary) for _ in range(length)]
        assert shingle_hashes(words) == one_by_one(words), words


def test_shingle_hashes_spread_over_the_whole_range() -> None:
    # A sketch keeps the smallest hashes: they must be a fair sample of the text's runs.
    words = [f"mot{n % 300}" for n in random.Random(7).sample(range(10**6), 20_000)]
    hashes = shingle_hashes(words)
    assert len(hashes) == len(words) - 4  # 19,996 different runs, no collision
    negative = sum(h < 0 for h in hashes) / len(hashes)
    assert 0.48 < negative < 0.52
    quarter = sum(h < -2**62 for h in hashes) / len(hashes)
    assert 0.23 < quarter < 0.27


def test_fingerprint_lead_link_and_title() -> None:
    words = [f"mot{i}" for i in range(12)]
    found = fingerprint("Bonne année ! - Hellocoton",
                        "https://www.blog.example/a/?utm_source=x", [" ".join(words)])
    assert found.lead == hash64("lead:" + " ".join(words[:10]))
    assert found.link == "blog.example/a"
    assert found.title == "bonne annee"


def test_the_sketch_keeps_the_smallest_hashes_only() -> None:
    found = fingerprint("Titre", None, [" ".join(f"mot{i}" for i in range(200))])
    assert found.size == len(found.shingle_set) == 196
    assert len(found.sketch) == SKETCH_SIZE == 128
    assert found.sketch == tuple(sorted(found.shingle_set)[:SKETCH_SIZE])
    assert max(found.sketch) < min(found.shingle_set - set(found.sketch))


def test_fingerprint_leaves_boilerplate_out() -> None:
    blocks = ["bonne annee 2017 a toutes et a tous", CREDIT_2017, FOOTER]
    known = {paragraph_hash(FOOTER), tail_hash(CREDIT_REVUE)}
    assert fingerprint("t", None, blocks, known).shingles == fingerprint(
        "t", None, blocks[:1]).shingles != b""


# --- sketches and hashes in the database ---------------------------------------------


def test_pack_and_unpack_sketch_round_trip() -> None:
    sketch = (-(2**63), -1, 0, 1, 2**63 - 1)
    packed = pack_sketch(sketch)
    assert len(packed) == 8 * len(sketch)
    assert packed[8:16] == b"\xff" * 8 and packed[24:32] == b"\x00" * 7 + b"\x01"
    assert unpack_sketch(packed) == sketch
    assert unpack_sketch(None) == unpack_sketch(b"") == ()
    real = fingerprint("t", None, ARTICLE).sketch
    assert unpack_sketch(pack_sketch(real)) == real


def test_hash64_is_stable() -> None:
    # Stored keys and sketches depend on it: it must never change.
    assert hash64("") == -1970711489451281740
    assert hash64("p:rendez vous sur hellocoton") == 6592667824980492046
