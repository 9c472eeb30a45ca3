"""One body to storable entries: what is cleaned again and what is known already."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

import aggregator.poll.prepare
from aggregator.models import ParsedEntry
from aggregator.poll.prepare import digest_entry, parse_step, sort_entries
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
    real = aggregator.poll.prepare.clean_entry

    def counting(entry: ParsedEntry, base_url: str | None) -> Any:
        cleaned.append(entry.title)
        return real(entry, base_url)

    monkeypatch.setattr(aggregator.poll.prepare, "clean_entry", counting)
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
    monkeypatch.setattr(aggregator.poll.prepare, "PREPARE_VERSION", "next")
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


# --- entries whose bytes are known are not parsed again ---------------------------------

def _rss(*items: str, channel: str = "<title>Blog</title>", date: str = "Mon, 02 Nov 2026"
         ) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}'
            f"<lastBuildDate>{date} 10:00:00 +0000</lastBuildDate>"
            + "".join(items) + "</channel></rss>").encode()


def _item(guid: str | None, link: str, title: str) -> str:
    guid_element = f'<guid isPermaLink="false">{guid}</guid>' if guid else ""
    return (f"<item><title>{title}</title><link>{link}</link>{guid_element}"
            f"<description>&lt;p&gt;Le billet « {title} » en entier.&lt;/p&gt;</description>"
            "</item>")


def _parsing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of entries each parse_feed call of parse_step returns."""
    counts: list[int] = []
    real = aggregator.poll.prepare.parse_feed

    def counting(*args: Any, **kwargs: Any) -> Any:
        feed = real(*args, **kwargs)
        counts.append(len(feed.entries))
        return feed

    monkeypatch.setattr(aggregator.poll.prepare, "parse_feed", counting)
    return counts


def test_only_entries_with_new_bytes_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [_item(f"g{n}", f"https://blog.example/{n}", f"Billet {n}") for n in range(5)]
    first = parse_step(_rss(*items), {}, URL)
    parsed = _parsing(monkeypatch)
    newer = _item("g5", "https://blog.example/5", "Billet 5")
    second = parse_step(_rss(newer, *items, date="Tue, 03 Nov 2026"), {}, URL,
                        known=first.digests)
    assert parsed == [1]  # the new entry alone; the feed's date is no entry's
    assert [e.identity for e in second.entries] == ["id:g5"]
    assert second.unchanged == tuple(f"id:g{n}" for n in range(5))
    assert sorted(Counter(second.digests.values()).values()) == [2] * 6
    assert second.feed == first.feed
    # Nothing new: no entry is parsed, the feed's own fields still are.
    third = parse_step(_rss(newer, *items, date="Wed, 04 Nov 2026"), {}, URL,
                       known=second.digests)
    assert parsed == [1, 0] and third.entries == () and len(third.unchanged) == 6
    assert third.digests == second.digests


@pytest.mark.parametrize(("change", "args"), [
    ("the channel", ({}, URL)),  # a title renamed: xml:base or a namespace could be too
    ("the headers", ({"Content-Type": "application/rss+xml; charset=iso-8859-1"}, URL)),
    ("the address", ({}, "https://ailleurs.example/feed/")),
])
def test_what_an_entry_parses_from_makes_all_of_them_parsed_again(
        monkeypatch: pytest.MonkeyPatch, change: str, args: tuple[Any, str]) -> None:
    items = [_item(f"g{n}", f"https://blog.example/{n}", f"Billet {n}") for n in range(3)]
    first = parse_step(_rss(*items), {}, URL)
    parsed = _parsing(monkeypatch)
    channel = "<title>Blog renommé</title>" if change == "the channel" else "<title>Blog</title>"
    again = parse_step(_rss(*items, channel=channel), *args, known=first.digests)
    assert parsed == [3]
    if change == "the channel":  # the same entries, so none is cleaned again
        assert again.entries == () and len(again.unchanged) == 3


def test_a_guid_shared_with_an_entry_left_out_is_still_distrusted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed that gives one guid to every post: each post is known by its link, the
    new one too, which only the whole document shows."""
    items = [_item("same", f"https://blog.example/{n}", f"Billet {n}") for n in range(3)]
    first = parse_step(_rss(*items), {}, URL)
    assert [e.identity for e in first.entries] == [
        f"link:https://blog.example/{n}" for n in range(3)]
    parsed = _parsing(monkeypatch)
    newer = _item("same", "https://blog.example/3", "Billet 3")
    second = parse_step(_rss(newer, *items), {}, URL, known=first.digests)
    assert parsed == [1, 4]  # the new entry alone, then the whole document
    assert [e.identity for e in second.entries] == ["link:https://blog.example/3"]
    assert len(second.unchanged) == 3


def test_an_entry_repeating_one_left_out_is_read_in_the_whole_document(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = parse_step(_rss(_item("a", "https://blog.example/a", "A")), {}, URL)
    parsed = _parsing(monkeypatch)
    again = _item("a", "https://blog.example/a", "A corrigé")  # the same guid, edited
    second = parse_step(_rss(_item("a", "https://blog.example/a", "A"), again), {}, URL,
                        known=first.digests)
    assert parsed == [1, 2]
    # As before this change: the document's first entry of an identity is the one kept.
    assert second.entries == () and second.unchanged == ("id:a",)


def test_a_document_without_layout_still_skips_cleaning_known_entries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = (DATA / "rss10.rdf").read_bytes()
    first = parse_step(body, {}, URL)
    parsed = _parsing(monkeypatch)
    second = parse_step(body.replace(b"</rdf:RDF>", b"<!-- -->\n</rdf:RDF>"), {}, URL,
                        known=first.digests)
    assert parsed == [len(first.entries)] and second.entries == ()
    assert len(second.unchanged) == len(first.entries)


def test_new_entries_sharing_the_guid_of_one_left_out_are_read_in_the_whole_document(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two new posts carry the guid an older one had alone: the three share it now,
    so none of them is known by it, the older one included, as a whole parse says."""
    older = _item("g", "https://blog.example/a", "A")
    first = parse_step(_rss(older), {}, URL)
    assert [e.identity for e in first.entries] == ["id:g"]
    parsed = _parsing(monkeypatch)
    newer = [_item("g", f"https://blog.example/{n}", f"Billet {n}") for n in "bc"]
    second = parse_step(_rss(*newer, older), {}, URL, known=first.digests)
    assert parsed == [2, 3]
    assert sorted(e.identity for e in second.entries) == [
        f"link:https://blog.example/{n}" for n in "abc"]


def test_an_entry_that_cannot_be_cleaned_is_skipped_and_the_others_kept(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 20: a cleaning bug on one hostile entry costs that entry, not its feed.
    real = aggregator.poll.prepare.clean_entry

    def failing(entry: ParsedEntry, base_url: str | None) -> Any:
        if entry.title.startswith("Pourquoi"):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(entry, base_url)

    monkeypatch.setattr(aggregator.poll.prepare, "clean_entry", failing)
    body = (DATA / "blog-metier.rss").read_bytes()
    first = parse_step(body, {}, URL)
    assert first.error is None and len(first.entries) == 3
    assert first.feed is not None and "an entry skipped (" in (first.feed.warning or "")
    # The skipped entry is not remembered as known: the next document cleans it again,
    # by its bytes (the layout path) as by its parse.
    assert len(set(first.digests.values())) == 3
    monkeypatch.setattr(aggregator.poll.prepare, "clean_entry", real)
    again = parse_step(body, {}, URL, known=first.digests)
    assert [e.title for e in again.entries] == ["Pourquoi je suis Community Manager ?"]
    assert len(again.unchanged) == 3
