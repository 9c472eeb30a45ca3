"""What rendering reads (aggregator.store.reads), from a real store: entries come with
what they show of their feed, the feed's row read once per read and never its polling
state; a day is listed without text; a feed's entries stream in chunks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa

from aggregator.config.load import FeedConfig
from aggregator.models import PollRecord
from aggregator.poll.prepare import parse_step
from aggregator.store import Store
from aggregator.store.reads import CHUNK

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CROWDED = 1_200  # more than two chunks of CHUNK
URL = "https://sans-dates.example/feed.xml"


def undated_feed(count: int, name: str = "Le fil") -> bytes:
    """An RSS document of `count` items without dates: all filed when first seen."""
    items = "".join(
        f"<item><title>{escape(name)} {n}</title><link>https://fil.example/{len(name)}/{n}</link>"
        f"<description>Billet numéro {n} : {'un mot ' * (n % 7)}et la suite {n * 7919}."
        "</description></item>" for n in range(count))
    return (f"<rss version='2.0'><channel><title>{escape(name)}</title>"
            f"<link>https://fil.example/</link>{items}</channel></rss>").encode()


def save_undated(store: Store, name: str, count: int) -> None:
    """Store a feed's `count` undated entries as a poll does, its row keeping the digests
    of every entry of the document (what made the feed row heavy)."""
    store.sync_feeds([FeedConfig(name, f"{URL}?{name}")])
    parsed = parse_step(undated_feed(count, name), {"content-type": "application/rss+xml"},
                        URL)
    assert len(parsed.entries) == count and len(parsed.digests) >= count
    record = PollRecord(polled_at=NOW, next_poll=NOW + timedelta(hours=1), status=200,
                        last_success=NOW, title=name, entry_digests=parsed.digests)
    store.save_poll(name, record, parsed.entries)


@pytest.fixture
def crowded(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url)
    save_undated(store, "Le fil", CROWDED)
    save_undated(store, "Un autre", 3)
    yield store
    store.close()


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


def assert_light(seen: list[str], chunks: int) -> None:
    """No statement reads a feed's polling state, and the feeds are read once a chunk."""
    assert seen
    assert not [s for s in seen if "entry_digests" in s or "boilerplate" in s]
    feed_reads = [s for s in seen if s.startswith("SELECT feeds.")]
    assert 1 <= len(feed_reads) <= chunks
    assert len(seen) <= 3 * chunks + 1  # entries, their copies, their feeds: per chunk


def test_reads_never_decode_a_feed_row_per_entry(crowded: Store) -> None:
    chunks = math.ceil((CROWDED + 3) / CHUNK)
    with statements(crowded) as seen:
        refs = crowded.entry_refs_between(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert_light(seen, 1)
    assert len(refs) == CROWDED + 3
    assert len({id(ref.blog) for ref in refs}) == 2  # one object per feed, shared
    ids = [ref.id for ref in refs][::-1]
    with statements(crowded) as seen:
        by_id = crowded.entries_by_ids([*ids, 10**9])  # an id no longer stored: left out
    assert_light(seen, chunks)
    assert list(by_id) == ids
    assert {e.feed_title for e in by_id.values()} == {"Le fil", "Un autre"}
    for read in (lambda: crowded.latest_entries(CROWDED + 3),
                 lambda: crowded.feed_entries("Le fil"),
                 lambda: list(crowded.each_shown_entry(["Le fil"])),
                 lambda: list(crowded.export_entries())):
        with statements(crowded) as seen:
            assert len(read()) >= CROWDED
        assert_light(seen, chunks)


def test_feeds_entries_stream_in_chunks_oldest_first(crowded: Store) -> None:
    stream = crowded.each_shown_entry(["Le fil", "Un autre"])
    with statements(crowded) as seen:
        first = [next(stream) for _ in range(CHUNK)]
    assert len([s for s in seen if s.startswith("SELECT entries.id, entries.feed_id")]) == 1
    rest = list(stream)
    assert {entry.feed_name for entry in first + rest} == {"Le fil", "Un autre"}
    titles = [entry.title for entry in first + rest if entry.feed_name == "Le fil"]
    assert sorted(titles) == sorted(f"Le fil {n}" for n in range(CROWDED))
    stored = [r["title"] for r in crowded.export_entries() if r["feed"]["name"] == "Le fil"]
    assert titles == stored  # the export's order: the order they were stored in
    assert list(crowded.each_shown_entry(["Personne"])) == []


def test_feed_states_without_layout_leave_the_last_document_unread(crowded: Store) -> None:
    full = crowded.feed_states()["Le fil"]
    with statements(crowded) as seen:
        light = crowded.feed_states(layout=False)["Le fil"]
    assert full.entry_digests and not light.entry_digests and not light.boilerplate
    assert replace(full, entry_digests={}, boilerplate=frozenset()) == light
    assert not any("entry_digests" in statement for statement in seen)
