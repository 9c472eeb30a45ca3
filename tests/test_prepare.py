"""One body to storable entries: what is cleaned again and what is known already."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import aggregator.prepare
from aggregator.models import ParsedEntry
from aggregator.prepare import digest_entry, parse_step, sort_entries
from tests.conftest import DATA

URL = "https://blog-metier.example/feed/"


def _entry(guid: str | None, title: str, link: str | None = None) -> ParsedEntry:
    return ParsedEntry(guid=guid, link=link, title=title, title_is_html=False, author=None,
                       published=None, updated=None, content=f"<p>{title}</p>", summary=None)


def test_sort_entries_keeps_the_first_of_each_identity() -> None:
    entries = [_entry("a", "premier"), _entry("b", "b"), _entry("a", "second"),
               _entry("c", "c"), _entry("b", "b2")]
    found = sort_entries(entries, URL, {})
    assert [(e.identity, e.title) for e in found.cleaned] == [
        ("id:a", "premier"), ("id:b", "b"), ("id:c", "c")]
    assert found.unchanged == [] and sorted(found.digests.values()) == ["id:a", "id:b", "id:c"]


def test_known_entries_are_named_not_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    first = sort_entries([_entry("a", "a"), _entry("b", "b")], URL, {})
    cleaned: list[str] = []
    real = aggregator.prepare.clean_entry

    def counting(entry: ParsedEntry, base_url: str | None) -> Any:
        cleaned.append(entry.title)
        return real(entry, base_url)

    monkeypatch.setattr(aggregator.prepare, "clean_entry", counting)
    again = sort_entries([_entry("n", "nouveau"), _entry("a", "a"), _entry("b", "b modifié")],
                         URL, first.digests)
    assert cleaned == ["nouveau", "b modifié"]
    assert [e.identity for e in again.cleaned] == ["id:n", "id:b"]
    assert again.unchanged == ["id:a"]
    assert sorted(again.digests.values()) == ["id:a", "id:b", "id:n"]


def test_a_known_entry_repeated_in_the_document_counts_once() -> None:
    first = sort_entries([_entry("a", "a")], URL, {})
    again = sort_entries([_entry("a", "a"), _entry("a", "a")], URL, first.digests)
    assert again.unchanged == ["id:a"] and again.cleaned == []


def test_the_digest_covers_what_cleaning_depends_on(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _entry("a", "a", "/billet")
    base = digest_entry(entry, URL)
    assert digest_entry(entry, URL) == base
    assert digest_entry(entry, "https://ailleurs.example/") != base  # links resolve elsewhere
    assert digest_entry(replace(entry, summary="résumé"), URL) != base
    assert digest_entry(replace(entry, categories=("cm",)), URL) != base
    monkeypatch.setattr(aggregator.prepare, "PREPARE_VERSION", "next")
    assert digest_entry(entry, URL) != base  # a release that cleans differently


def test_parse_step_with_the_last_document_cleans_only_what_changed() -> None:
    first = parse_step((DATA / "blog-metier.rss").read_bytes(), {}, URL)
    assert len(first.entries) == 4 and first.unchanged == ()
    second = parse_step((DATA / "blog-metier-v2.rss").read_bytes(), {}, URL,
                        known=first.digests)
    # One new post, one retitled: cleaned and fingerprinted; the other three named.
    assert sorted(e.title for e in second.entries) == [
        "Pourquoi je suis Community Manager ? (mis à jour)",
        "Vos réponses : « Je m’y retrouve totalement ! »"]
    assert all(e.fingerprint for e in second.entries)
    assert len(second.unchanged) == 3
    assert set(second.unchanged) | {e.identity for e in second.entries} == set(
        second.digests.values())
    whole = parse_step((DATA / "blog-metier-v2.rss").read_bytes(), {}, URL)
    assert {e.identity: e for e in whole.entries if e.identity not in second.unchanged} == {
        e.identity: e for e in second.entries}
