"""The whole poll on real parts: loopback HTTP server, SQLite file or PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import aggregator.poll.prepare
import aggregator.store.entries
from aggregator.config.load import Config, FeedConfig
from aggregator.models import CleanEntry, FetchResult, Parsed, PollRecord
from aggregator.poll.decide import UnknownFeedError, select_feeds
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.poll.save import store_polls
from aggregator.poll.steps import Poll
from aggregator.poll.values import MAX_TITLE, MIN_DATE, valid_text
from aggregator.store import Store
from tests.conftest import DATA, FeedServer, write_config

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(make_config: Any) -> Iterator[Store]:
    config = make_config([])
    store = Store.open(config.settings.database)
    yield store
    store.close()


def poll(store: Store, config: Config, now: datetime = NOW, **options: Any) -> dict[str, Any]:
    outcomes = update_feeds(store, make_session(), config, now, **options)
    return {o.feed: o for o in outcomes}


def titles(store: Store) -> list[str]:
    return sorted(e.title for e in store.latest_entries(100))


def test_first_poll_stores_then_304_then_changes(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed")
    config = make_config([{"name": "Mon métier", "url": url, "tags": ["métier"]}])

    first = poll(store, config)["Mon métier"]
    assert (first.outcome, first.new, first.updated) == ("new", 4, 0)
    assert store.feed_states()["Mon métier"].etag

    second = poll(store, config, force=True)["Mon métier"]
    assert (second.outcome, second.new, second.updated) == ("not_modified", 0, 0)
    sent = feed_server.hits("/feed")[-1].headers
    assert sent["If-None-Match"] == store.feed_states()["Mon métier"].etag
    assert sent["If-Modified-Since"] == FeedServer.LAST_MODIFIED
    assert store.feed_states()["Mon métier"].entry_count == 4

    feed_server.serve_file("blog-metier-v2.rss", "/feed")
    third = poll(store, config, force=True)["Mon métier"]
    assert (third.outcome, third.new, third.updated) == ("new", 1, 1)
    assert store.feed_states()["Mon métier"].entry_count == 5
    assert "Pourquoi je suis Community Manager ? (mis à jour)" in titles(store)
    assert "Pourquoi je suis Community Manager ?" not in titles(store)
    assert "Vos réponses : « Je m’y retrouve totalement ! »" in titles(store)


def test_a_changed_feed_cleans_only_its_new_and_changed_entries(
    feed_server: FeedServer, make_config: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed")
    config = make_config([{"name": "blog", "url": url}])
    assert poll(store, config)["blog"].new == 4
    known = store.feed_states()["blog"].entry_digests
    # Each entry under two keys: its bytes (entry_keys) and its parse (digest_entry).
    assert sorted(Counter(known.values()).values()) == [2, 2, 2, 2]
    cleaned: list[str] = []
    real = aggregator.poll.prepare.clean_entry
    monkeypatch.setattr(aggregator.poll.prepare, "clean_entry",
                        lambda entry, base: cleaned.append(entry.title) or real(entry, base))
    feed_server.serve_file("blog-metier-v2.rss", "/feed")
    changed = poll(store, config, force=True)["blog"]
    assert (changed.new, changed.updated) == (1, 1)
    assert sorted(cleaned) == ["Pourquoi je suis Community Manager ? (mis à jour)",
                               "Vos réponses : « Je m’y retrouve totalement ! »"]
    after = store.feed_states()["blog"].entry_digests
    assert sorted(Counter(after.values()).values()) == [2] * 5 and set(after.values()) == {
        e.identity for e in store.latest_entries(10)}


def test_ids_migrated_beside_unchanged_entries_are_recognized(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    # The unchanged entries are only named to the store, not cleaned: it must still
    # know them as part of the document when it matches the migrated ones.
    body = (DATA / "blog-metier.rss").read_text("utf-8")
    url = feed_server.set("/feed", body.encode())
    config = make_config([{"name": "blog", "url": url}])
    assert poll(store, config)["blog"].new == 4
    old = '<guid isPermaLink="false">https://mon-metier-web.example/?p='
    new = '<guid isPermaLink="false">https://www.mon-metier-web.example/p/'
    migrated = body.replace(old, new, 2)
    feed_server.set("/feed", migrated.encode())
    outcome = poll(store, config, force=True)["blog"]
    assert (outcome.new, outcome.updated, outcome.duplicates) == (0, 0, 0)
    identities = sorted(e.identity for e in store.latest_entries(10))
    assert len(identities) == 4
    assert sum(i.startswith("id:https://www.mon-metier-web.example/p/") for i in identities) == 2


def test_same_bytes_without_304_store_nothing_new(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("vis-ma-vie.atom", "/atom", conditional=False)
    config = make_config([{"name": "Vis ma vie", "url": url}])
    assert poll(store, config)["Vis ma vie"].new == 2
    again = poll(store, config, force=True)["Vis ma vie"]
    assert (again.outcome, again.new, again.updated) == ("unchanged", 0, 0)
    assert store.feed_states()["Vis ma vie"].entry_count == 2


def test_failing_feeds_do_not_stop_the_others(
    feed_server: FeedServer, make_config: Any, store: Store, refused_url: str
) -> None:
    good = feed_server.serve_file("blog-metier.rss", "/good")
    broken = feed_server.set("/broken", b"oops", status=500, content_type="text/plain")
    html = feed_server.serve_file("not-a-feed.html", "/page")
    garbage = feed_server.set("/garbage", bytes(range(256)) * 8,
                              content_type="application/octet-stream")
    config = make_config([
        {"name": "good", "url": good},
        {"name": "refused", "url": refused_url},
        {"name": "broken", "url": broken},
        {"name": "html", "url": html},
        {"name": "garbage", "url": garbage},
    ])
    outcomes = poll(store, config)
    assert outcomes["good"].new == 4
    assert {name: o.outcome for name, o in outcomes.items() if name != "good"} == {
        "refused": "error", "broken": "error", "html": "error", "garbage": "error",
    }
    states = store.feed_states()
    assert "connection failed" in (states["refused"].last_error or "")
    assert states["broken"].last_error == "HTTP 500 Internal Server Error"
    assert "not a feed" in (states["html"].last_error or "")
    assert "not a feed" in (states["garbage"].last_error or "")
    assert all(states[n].failures == 1 for n in ("refused", "broken", "html", "garbage"))
    assert states["good"].failures == 0 and states["good"].last_error is None


def test_a_feed_that_cannot_be_stored_fails_alone(
    feed_server: FeedServer, make_config: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polls are stored in groups, one transaction each: a group that fails is stored
    # again feed by feed, and only the feed at fault gets the error.
    apply_record = aggregator.store.entries._apply_record

    def refuse_one(row: Any, record: Any) -> None:
        if row.name == "refused" and record.error is None:
            raise OperationalError("UPDATE feeds", {}, Exception("disk I/O error"))
        apply_record(row, record)

    monkeypatch.setattr(aggregator.store.entries, "_apply_record", refuse_one)
    config = make_config([
        {"name": "good", "url": feed_server.serve_file("blog-metier.rss", "/good")},
        {"name": "refused", "url": feed_server.serve_file("vis-ma-vie.atom", "/refused")},
    ])
    outcomes = poll(store, config)
    assert (outcomes["good"].outcome, outcomes["good"].new) == ("new", 4)
    assert outcomes["refused"].outcome == "error"
    assert outcomes["refused"].error == "could not store entries: OperationalError"
    states = store.feed_states()
    assert states["refused"].last_error == "could not store entries: OperationalError"
    assert (states["refused"].entry_count, states["good"].entry_count) == (0, 4)


def within_jitter(moment: datetime | None, start: datetime, delay: timedelta) -> bool:
    """`moment` is `delay` after `start`, stretched by at most the 10% jitter."""
    return moment is not None and start + delay <= moment <= start + delay * 1.1


def test_a_failure_keeps_stored_entries_and_backs_off(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed")
    config = make_config([{"name": "blog", "url": url}], poll_interval="1h")
    poll(store, config)
    feed_server.set("/feed", b"down", status=500, content_type="text/plain")
    poll(store, config, now=NOW + timedelta(hours=1), force=True)
    poll(store, config, now=NOW + timedelta(hours=2), force=True)
    state = store.feed_states()["blog"]
    assert (state.failures, state.entry_count) == (2, 4)
    assert state.last_success == NOW
    assert state.failing_since == NOW + timedelta(hours=1)
    assert state.last_error == "HTTP 500 Internal Server Error"
    assert within_jitter(state.next_poll, NOW + timedelta(hours=2), timedelta(hours=2))

    feed_server.serve_file("blog-metier.rss", "/feed")
    poll(store, config, now=NOW + timedelta(hours=4), force=True)
    state = store.feed_states()["blog"]
    assert (state.failures, state.last_error, state.failing_since) == (0, None, None)
    assert within_jitter(state.next_poll, NOW + timedelta(hours=4), timedelta(hours=1))


def test_only_due_feeds_are_polled(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed")
    config = make_config([{"name": "blog", "url": url, "poll_interval": "30m"}])
    poll(store, config)
    assert poll(store, config, now=NOW + timedelta(minutes=29)) == {}
    assert "blog" in poll(store, config, now=NOW + timedelta(minutes=33))
    assert len(feed_server.hits("/feed")) == 2


def test_windows_1252_feed_keeps_its_accents(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("metier-cp1252.rss", "/cp1252")
    config = make_config([{"name": "Isabelle", "url": url}])
    poll(store, config)
    [entry] = store.latest_entries(10)
    assert entry.title == "«\xa0Le métier qui n’existe pas\xa0»"
    assert "n’" in entry.content and "œ" in entry.content + entry.feed_title
    assert entry.published == datetime(2016, 6, 9, 6, 30, tzinfo=UTC)


def test_one_guid_shared_by_every_item_falls_back_to_links(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    items = "".join(
        f"<item><title>Billet {n}</title><link>https://blog.example/{n}</link>"
        f"<guid>https://blog.example/</guid></item>" for n in range(3)
    )
    body = f'<rss version="2.0"><channel><title>B</title>{items}</channel></rss>'
    url = feed_server.set("/same-guid", body.encode())
    config = make_config([{"name": "b", "url": url}])
    assert poll(store, config)["b"].new == 3


def test_repeated_item_in_one_document_is_stored_once(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    item = "<item><title>Billet</title><guid>x-1</guid><link>https://b.example/1</link></item>"
    body = f'<rss version="2.0"><channel><title>B</title>{item}{item}</channel></rss>'
    url = feed_server.set("/twice", body.encode())
    config = make_config([{"name": "b", "url": url}])
    assert poll(store, config)["b"].new == 1


def test_select_feeds_skips_disabled_and_rejects_unknown(make_config: Any) -> None:
    config = make_config([
        {"name": "on", "url": "http://127.0.0.1:9/a"},
        {"name": "off", "url": "http://127.0.0.1:9/b", "enabled": False},
    ])
    assert [f.name for f in select_feeds(config, {}, NOW)] == ["on"]
    assert [f.name for f in select_feeds(config, {}, NOW, only="on")] == ["on"]
    with pytest.raises(UnknownFeedError):
        select_feeds(config, {}, NOW, only="nope")


def test_fixture_data_is_present() -> None:
    # The suite must run from a clone without ../shared: everything lives in tests/data.
    for name in ("blog-metier.rss", "blog-metier-v2.rss", "vis-ma-vie.atom",
                 "metier-cp1252.rss", "schemas/atom-rfc4287.rng",
                 "schemas/jsonfeed-1.1.schema.json"):
        assert (DATA / name).is_file(), name


def _item(date: str, extra: str = "") -> bytes:
    return (f"<rss version='2.0' xmlns:media='http://search.yahoo.com/mrss/'><channel>"
            f"<title>Podcast CM</title><link>https://podcast.example/</link>"
            f"<language>fr-FR</language><item><title>Épisode 1</title><guid>ep1</guid>"
            f"<link>https://podcast.example/ep1</link><pubDate>{date}</pubDate>"
            f"<description>Le premier épisode.</description>{extra}</item>"
            f"</channel></rss>").encode()


def test_a_post_re_dated_later_stays_where_it_was(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.set("/p", _item("Tue, 05 Nov 2024 10:00:00 +0000"))
    config = make_config([{"name": "p", "url": url}])
    poll(store, config)
    feed_server.set("/p", _item("Sat, 21 Nov 2026 08:00:00 +0000"))  # "now", every poll
    again = poll(store, config, now=NOW + timedelta(hours=2), force=True)["p"]
    assert (again.outcome, again.updated) == ("unchanged", 0)
    [entry] = store.latest_entries(1)
    assert entry.dated == datetime(2024, 11, 5, 10, tzinfo=UTC)
    assert entry.changed == NOW
    feed_server.set("/p", _item("Mon, 04 Nov 2024 10:00:00 +0000"))  # a correction earlier
    poll(store, config, now=NOW + timedelta(hours=4), force=True)
    [entry] = store.latest_entries(1)
    assert entry.dated == datetime(2024, 11, 4, 10, tzinfo=UTC)


def _atom_entry(updated: str, text: str) -> bytes:
    return (f"<feed xmlns='http://www.w3.org/2005/Atom'><title>Notes</title>"
            f"<id>https://notes.example/</id><updated>{updated}</updated>"
            f"<entry><title>Billet</title><id>https://notes.example/1</id>"
            f"<link href='https://notes.example/1'/><updated>{updated}</updated>"
            f"<content type='html'>{text}</content></entry></feed>").encode()


def test_an_entry_without_publication_date_is_filed_under_its_last_update(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    # Atom requires <updated>, not <published>: a first poll filed every such entry
    # of a new source under today's page.
    url = feed_server.set("/a", _atom_entry("2024-11-05T10:00:00Z", "Premier jet."))
    config = make_config([{"name": "a", "url": url}])
    poll(store, config)
    [entry] = store.latest_entries(1)
    assert (entry.published, entry.dated) == (None, datetime(2024, 11, 5, 10, tzinfo=UTC))
    # Edited: its update date follows every edit, so it does not move later...
    feed_server.set("/a", _atom_entry("2026-11-21T08:00:00Z", "Premier jet, relu."))
    again = poll(store, config, now=NOW + timedelta(hours=2), force=True)["a"]
    assert again.updated == 1
    [entry] = store.latest_entries(1)
    assert entry.dated == datetime(2024, 11, 5, 10, tzinfo=UTC)
    # ...but an earlier one is a correction.
    feed_server.set("/a", _atom_entry("2024-11-04T10:00:00Z", "Premier jet, relu."))
    poll(store, config, now=NOW + timedelta(hours=4), force=True)
    [entry] = store.latest_entries(1)
    assert entry.dated == datetime(2024, 11, 4, 10, tzinfo=UTC)


def test_rss_1_items_are_filed_under_their_dc_date(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    poll(store, make_config([{"name": "rdf", "url": feed_server.serve_file("rss10.rdf")}]))
    assert sorted(e.dated for e in store.latest_entries(10)) == [
        datetime(2012, 7, 13, 8, 24, tzinfo=UTC), datetime(2013, 12, 12, 20, 47, tzinfo=UTC)]


def test_enclosures_thumbnail_and_language_are_kept(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    extra = ("<enclosure url='/audio/ep1.mp3' length='12345678' type='audio/mpeg'/>"
             "<media:thumbnail url='https://podcast.example/ep1.jpg'/>")
    url = feed_server.set("/p", _item("Tue, 05 Nov 2024 10:00:00 +0000", extra))
    poll(store, make_config([{"name": "p", "url": url}]))
    [entry] = store.latest_entries(1)
    assert [(e.url, e.type, e.length, e.kind) for e in entry.enclosures] == [
        ("https://podcast.example/audio/ep1.mp3", "audio/mpeg", 12345678, "audio")]
    assert entry.thumbnail == "https://podcast.example/ep1.jpg"
    assert entry.language == "fr-FR"


# Issue 20: one run, good feeds beside feeds poisoned every way a value can be.
HUGE_TITLE = json.dumps({
    "version": "https://jsonfeed.org/version/1.1", "title": "Titre énorme",
    "items": [{"id": "huge", "url": "https://huge.example/1", "title": "T" * 9_000_000,
               "content_text": "Un titre de 9 Mo."},
              {"id": "normal", "url": "https://huge.example/2", "title": "Un titre normal",
               "content_text": "Rien à signaler."}]}).encode()
HOSTILE_COUNTS = {"good-rss": 4, "good-atom": 2, "json": 10, "xml": 4, "huge": 2, "max-age": 1}


def serve_hostile_feeds(server: FeedServer) -> list[dict[str, str]]:
    """Good feeds and poisoned ones on `server`, as feeds.yaml lists them."""
    return [
        {"name": "good-rss", "url": server.serve_file("blog-metier.rss")},
        {"name": "good-atom", "url": server.serve_file("vis-ma-vie.atom")},
        {"name": "json", "url": server.serve_file("hostile-values.json")},
        {"name": "xml", "url": server.serve_file("hostile-values.xml")},
        {"name": "huge", "url": server.set("/huge", HUGE_TITLE,
                                           content_type="application/feed+json")},
        {"name": "max-age", "url": server.serve_file(
            "metier-cp1252.rss", headers={"Cache-Control": f"max-age={10**400}"})},
        {"name": "retry", "url": server.set("/retry", b"", status=503,
                                            headers={"Retry-After": str(10**400)})},
    ]


def test_poisoned_values_cost_only_themselves(
    feed_server: FeedServer, make_config: Any, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(serve_hostile_feeds(feed_server))
    outcomes = poll(store, config)
    assert {name: o.outcome for name, o in outcomes.items()} == {
        **{name: "new" for name in HOSTILE_COUNTS}, "retry": "error"}
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    states = store.feed_states()
    assert {name: states[name].entry_count for name in HOSTILE_COUNTS} == HOSTILE_COUNTS
    assert states["retry"].next_poll == NOW + timedelta(days=1)
    assert (states["retry"].last_error or "").startswith("HTTP 503 Service Unavailable")
    assert states["max-age"].interval_hint == timedelta(days=1)
    assert states["json"].title == "Valeurs hostiles"
    assert states["xml"].title == "Valeurs hostiles en XML"  # its RLO gone
    entries = {(e.feed_name, e.identity): e for e in store.latest_entries(100)}
    for entry in entries.values():
        for text in (entry.title, entry.link, entry.author, entry.content, entry.summary,
                     *entry.categories):
            assert text is None or valid_text(text) == text, (entry.identity, text)
        assert len(entry.title) <= MAX_TITLE
        assert entry.published is None or MIN_DATE <= entry.published <= NOW
    hostile = {identity: e for (feed, identity), e in entries.items() if feed == "json"}
    assert hostile["id:surrogates-1"].link == "https://hostile-values.example/surrogates"
    assert hostile["id:nulid"].title == "Titre avecNUL"
    for absurd in ("id:year-1", "id:year-1-offset", "id:year-9999"):
        assert (hostile[absurd].published, hostile[absurd].dated) == (None, NOW)
    assert hostile["id:bidi"].title == "CM de veille isolé"
    assert hostile["id:zero-width"].title == "Le titre était invisible : voici le texte."
    assert entries["xml", "id:surrogate-link"].link == (
        "https://hostile-values.example/lien-surrogate")
    assert entries["huge", "id:huge"].title == "T" * (MAX_TITLE - 1) + "…"
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "json: values repaired (invalid characters removed: " in said
    # (year-1-offset is no date already: moved to UTC, it falls before year 1)
    assert "json: 2 entries dated before 1970-01-01 or over 366 days after" in said


def test_aggregator_fetch_of_poisoned_feeds_exits_0_without_traceback(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, serve_hostile_feeds(feed_server), language="en")
    result = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config),
                             "fetch"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "7 feeds polled" in result.stdout, result.stdout


def _a_poll(name: str, entry: CleanEntry) -> tuple[Poll, PollRecord]:
    feed = FeedConfig(name=name, url=f"https://{name}.example/feed")
    fetched = FetchResult(feed.url, feed.url, 200, content=b"<rss/>")
    return (Poll(feed, fetched, Parsed(entries=(entry,))),
            PollRecord(polled_at=NOW, next_poll=NOW + timedelta(hours=1), status=200))


def _clean(identity: str, title: str) -> CleanEntry:
    return CleanEntry(identity=identity, signature=identity, title=title, link=None,
                      author=None, published=None, updated=None, content="<p>x</p>",
                      summary="", excerpt="x")


@pytest.mark.parametrize("field, value", [
    ("title", "a lone \ud800 surrogate"),  # the driver cannot encode it: SQLite and PostgreSQL
    ("identity", "id:NUL\x00"),  # PostgreSQL refuses it, through the raw-cursor lookups
])
def test_a_group_that_cannot_be_stored_is_stored_feed_by_feed(
    make_config: Any, store: Store, field: str, value: str
) -> None:
    # Values are repaired before they reach the store (poll/values.py); should one slip
    # through, the group's transaction fails and each feed is stored on its own.
    if field == "identity" and store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores a NUL")
    names = ["before", "poisoned", "after"]
    store.sync_feeds(make_config([{"name": n, "url": f"https://{n}.example/feed"}
                                  for n in names]).feeds)
    bad = {"identity": "id:bad", "title": "Titre", field: value}
    polls = [_a_poll("before", _clean("id:b", "Avant")),
             _a_poll("poisoned", _clean(bad["identity"], bad["title"])),
             _a_poll("after", _clean("id:a", "Après"))]
    outcomes = {o.feed: o for o in store_polls(store, polls, store.feed_states())}
    assert (outcomes["before"].new, outcomes["after"].new) == (1, 1)
    assert outcomes["poisoned"].outcome == "error"
    states = store.feed_states()
    assert [states[n].entry_count for n in names] == [1, 0, 1]
    assert (states["poisoned"].last_error or "").startswith("could not store entries: ")
    assert states["poisoned"].failures == 1
