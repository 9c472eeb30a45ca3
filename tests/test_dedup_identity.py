"""Identity keys within a feed, link normalization, signatures and shared guids."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from aggregator.dedup.identity import (
    distrust_shared_guids,
    entry_identity,
    entry_signature,
    normalize_link,
)
from aggregator.models import ParsedEntry


def parsed(guid: str | None, link: str | None, title: str = "t") -> ParsedEntry:
    return ParsedEntry(guid=guid, link=link, title=title, title_is_html=False, author=None,
                       published=None, updated=None, content=None, summary=None)


# --- identity -------------------------------------------------------------------------


def test_identity_prefers_the_guid() -> None:
    key = entry_identity("https://mon-metier-web.example/?p=242",
                         "https://mon-metier-web.example/autre/", "Titre", "Corps")
    assert key == "id:https://mon-metier-web.example/?p=242"


def test_identity_falls_back_to_the_normalized_link() -> None:
    key = entry_identity(None, "HTTPS://Mon-Metier-Web.EXAMPLE/2012/04/Billet/#comments",
                         "Titre", "Corps")
    assert key == "link:https://mon-metier-web.example/2012/04/Billet/"


def test_identity_falls_back_to_a_hash_of_title_and_content() -> None:
    expected = hashlib.sha256(b"Titre\x1fCorps").hexdigest()
    assert entry_identity(None, None, "Titre", "Corps") == "hash:" + expected


def test_empty_guid_and_link_count_as_missing() -> None:
    assert entry_identity("", "", "Titre", "Corps").startswith("hash:")


def test_hash_identity_depends_on_title_and_content() -> None:
    base = entry_identity(None, None, "Titre", "Corps")
    assert entry_identity(None, None, "Titre", "Autre corps") != base
    assert entry_identity(None, None, "Autre titre", "Corps") != base
    # the separator keeps "ab"+"c" apart from "a"+"bc"
    assert entry_identity(None, None, "ab", "c") != entry_identity(None, None, "a", "bc")


def test_identity_is_stable_across_calls() -> None:
    args = (None, None, "Vis ma vie de CM", "<p>Je fais un drôle de métier.</p>")
    assert entry_identity(*args) == entry_identity(*args)
    assert entry_identity("g", None, "a", "b") == entry_identity("g", None, "c", "d")


def test_long_guid_is_hashed_to_a_bounded_length() -> None:
    guid = "tag:blogger.com,1999:" + "x" * 2000
    key = entry_identity(guid, None, "t", "c")
    digest = hashlib.sha256(("id:" + guid).encode()).hexdigest()
    assert key == "id:sha256:" + digest
    assert len(key) <= 500


def test_long_guids_stay_distinct() -> None:
    a = entry_identity("x" * 600 + "a", None, "t", "c")
    b = entry_identity("x" * 600 + "b", None, "t", "c")
    assert a != b


def test_guid_at_the_limit_is_kept_verbatim() -> None:
    guid = "g" * (500 - len("id:"))
    assert entry_identity(guid, None, "t", "c") == "id:" + guid


def test_long_link_is_hashed_to_a_bounded_length() -> None:
    link = "https://blog.example/" + "a" * 1000
    key = entry_identity(None, link, "t", "c")
    assert len(key) <= 500
    assert key.endswith(hashlib.sha256(("link:" + link).encode()).hexdigest())


def test_long_link_key_keeps_its_link_prefix() -> None:
    key = entry_identity(None, "https://blog.example/" + "a" * 1000, "t", "c")
    assert key.startswith("link:sha256:")


# --- normalize_link -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("HTTPS://Blog.EXAMPLE/Billet", "https://blog.example/Billet"),
        ("https://blog.example/a#comments", "https://blog.example/a"),
        ("https://blog.example", "https://blog.example/"),
        ("https://blog.example/?p=242", "https://blog.example/?p=242"),
        ("  https://blog.example/a  ", "https://blog.example/a"),
        ("https://blog.example/A/B", "https://blog.example/A/B"),
    ],
)
def test_normalize_link(link: str, expected: str) -> None:
    assert normalize_link(link) == expected


# --- signature ------------------------------------------------------------------------


def test_signature_is_stable() -> None:
    args = ("Titre", "https://b.example/", "Laure", "<p>c</p>", "s", ["https://b.example/a.mp3"])
    assert entry_signature(*args) == entry_signature(*args)
    assert len(entry_signature(*args)) == 64


@pytest.mark.parametrize("field", range(6))
def test_signature_changes_with_every_field(field: int) -> None:
    args: list[object] = ["Titre", "https://b.example/", "Laure", "<p>c</p>", "s",
                          ["https://b.example/a.mp3"]]
    changed = list(args)
    changed[field] = ["https://b.example/b.mp3"] if field == 5 else "autre"
    assert entry_signature(*changed) != entry_signature(*args)  # type: ignore[arg-type]


# --- distrust_shared_guids ------------------------------------------------------------


def test_shared_guid_falls_back_to_links() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", "https://b.example/2")]
    result = distrust_shared_guids(entries)
    assert [e.guid for e in result] == [None, None]
    assert [e.link for e in result] == ["https://b.example/1", "https://b.example/2"]


def test_shared_guid_entries_get_distinct_identities() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", "https://b.example/2")]
    keys = {entry_identity(e.guid, e.link, e.title, "") for e in distrust_shared_guids(entries)}
    assert keys == {"link:https://b.example/1", "link:https://b.example/2"}


def test_unique_guids_are_trusted() -> None:
    entries = [parsed("g1", "https://b.example/1"), parsed("g2", "https://b.example/2")]
    assert distrust_shared_guids(entries) == entries


def test_guid_repeated_with_the_same_link_is_trusted() -> None:
    entries = [parsed("g1", "https://b.example/1"), parsed("g1", "https://b.example/1")]
    assert [e.guid for e in distrust_shared_guids(entries)] == ["g1", "g1"]


def test_only_the_shared_guid_is_dropped() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("own", "https://b.example/2"),
               parsed("same", "https://b.example/3")]
    assert [e.guid for e in distrust_shared_guids(entries)] == [None, "own", None]


def test_shared_guid_without_a_link_is_kept() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", None)]
    assert [e.guid for e in distrust_shared_guids(entries)] == [None, "same"]


def test_distrust_keeps_other_fields() -> None:
    entry = parsed("same", "https://b.example/1", title="Titre")
    other = replace(entry, link="https://b.example/2")
    assert distrust_shared_guids([entry, other])[0] == replace(entry, guid=None)
