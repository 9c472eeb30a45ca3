"""HTTP etiquette across polls: moves, retirement, rate limits, hints, per-host limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import aggregator.poll.prepare
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.store import Store
from tests.conftest import DATA, FeedServer

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(make_config: Any) -> Iterator[Store]:
    store = Store.open(make_config([]).settings.database)
    yield store
    store.close()


def poll(store: Store, config: Any, now: datetime = NOW, **options: Any) -> Any:
    return {o.feed: o for o in update_feeds(store, make_session(), config, now, **options)}


def between(moment: datetime | None, low: timedelta, high: timedelta) -> bool:
    return moment is not None and NOW + low <= moment <= NOW + high


def test_permanent_move_is_remembered_and_polled_directly(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    new = feed_server.serve_file("blog-metier.rss", "/new-feed")
    old = feed_server.set("/old-feed", b"", status=301, headers={"Location": "/new-feed"})
    config = make_config([{"name": "blog", "url": old}])
    first = poll(store, config)["blog"]
    assert (first.outcome, first.new, first.moved_to) == ("new", 4, new)
    state = store.feed_states()["blog"]
    assert (state.url, state.moved_to, state.moved_at) == (old, new, NOW)

    poll(store, config, now=NOW + 2 * HOUR)
    assert len(feed_server.hits("/old-feed")) == 1  # never asked again
    assert len(feed_server.hits("/new-feed")) == 2
    assert store.feed_states()["blog"].entry_count == 4

    # The user updates feeds.yaml: the move is forgotten, the new URL is the feed.
    config = make_config([{"name": "blog", "url": new}])
    poll(store, config, now=NOW + 4 * HOUR)
    state = store.feed_states()["blog"]
    assert (state.url, state.moved_to, state.entry_count) == (new, None, 4)


@pytest.mark.parametrize("answer", [
    {"body": b"<html><body>Parked domain</body></html>", "content_type": "text/html"},
    {"body": b"", "status": 404},
])
def test_a_move_to_another_host_without_a_feed_there_is_not_remembered(
    feed_server: FeedServer, make_config: Any, store: Store, answer: dict[str, Any]
) -> None:
    other = FeedServer()
    try:
        elsewhere = other.set("/feed", **answer)
        old = feed_server.set("/old-feed", b"", status=301, headers={"Location": elsewhere})
        config = make_config([{"name": "blog", "url": old}])
        assert poll(store, config)["blog"].error
        assert store.feed_states()["blog"].moved_to is None
        poll(store, config, now=NOW + 4 * HOUR)
        assert len(feed_server.hits("/old-feed")) == 2  # the listed address, again
    finally:
        other.close()


def test_temporary_move_is_followed_but_not_remembered(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    feed_server.serve_file("blog-metier.rss", "/today")
    old = feed_server.set("/feed", b"", status=302, headers={"Location": "/today"})
    config = make_config([{"name": "blog", "url": old}])
    assert poll(store, config)["blog"].new == 4
    poll(store, config, now=NOW + 2 * HOUR)
    assert len(feed_server.hits("/feed")) == 2
    assert store.feed_states()["blog"].moved_to is None


def test_gone_feed_is_retired_until_its_entry_changes(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed")
    config = make_config([{"name": "blog", "url": url}])
    poll(store, config)
    feed_server.set("/feed", b"removed", status=410, content_type="text/plain")
    gone = poll(store, config, force=True)["blog"]
    assert gone.outcome == "gone"
    state = store.feed_states()["blog"]
    assert state.gone_at == NOW and state.entry_count == 4
    assert "gone for good" in (state.last_error or "")

    assert poll(store, config, now=NOW + 48 * HOUR) == {}
    assert poll(store, config, now=NOW + 48 * HOUR, force=True) == {}
    assert len(feed_server.hits("/feed")) == 2

    feed_server.serve_file("blog-metier-v2.rss", "/feed")
    edited = make_config([{"name": "blog", "url": url, "tags": ["de retour"]}])
    back = poll(store, edited, now=NOW + 49 * HOUR)["blog"]
    assert (back.outcome, back.new) == ("new", 1)
    assert store.feed_states()["blog"].gone_at is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(
    feed_server: FeedServer, make_config: Any, store: Store, status: int
) -> None:
    url = feed_server.set("/busy", b"", status=status, headers={"Retry-After": "10800"})
    config = make_config([{"name": "busy", "url": url}], poll_interval="30m")
    outcome = poll(store, config)["busy"]
    assert outcome.outcome == "error"
    state = store.feed_states()["busy"]
    assert between(state.next_poll, 3 * HOUR, 3 * HOUR)
    assert "Retry-After 10800" in (state.last_error or "")


def test_retry_after_date_is_honoured_and_capped(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.set("/slow", b"", status=503,
                          headers={"Retry-After": "Sat, 21 Nov 2026 14:00:00 GMT"})
    far = feed_server.set("/far", b"", status=429, headers={"Retry-After": "9999999"})
    config = make_config([{"name": "slow", "url": url}, {"name": "far", "url": far}])
    poll(store, config)
    states = store.feed_states()
    assert between(states["slow"].next_poll, 5 * HOUR, 5 * HOUR)
    assert between(states["far"].next_poll, 24 * HOUR, 24 * HOUR)


def test_failures_back_off_exponentially_and_are_never_dropped(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.set("/down", b"", status=500)
    config = make_config([{"name": "down", "url": url}], poll_interval="1h")
    delays = []
    for attempt in range(8):
        now = NOW + timedelta(days=attempt * 2)
        poll(store, config, now=now, force=True)
        state = store.feed_states()["down"]
        assert state.next_poll is not None
        delays.append((state.next_poll - now) / HOUR)
    assert state.failures == 8
    bases = [1, 2, 4, 8, 16, 24, 24, 24]
    assert all(base <= d <= base * 1.1 for base, d in zip(bases, delays, strict=True)), delays


def test_same_bytes_without_304_cost_no_parse(
    feed_server: FeedServer, make_config: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/feed", conditional=False)
    config = make_config([{"name": "blog", "url": url}])
    parses = []
    real = aggregator.poll.prepare.parse_step
    monkeypatch.setattr(aggregator.poll.prepare, "parse_step",
                        lambda *args: parses.append(args[2]) or real(*args))
    assert poll(store, config)["blog"].new == 4
    again = poll(store, config, force=True)["blog"]
    assert (again.outcome, again.new) == ("unchanged", 0)
    assert len(parses) == 1
    feed_server.serve_file("blog-metier-v2.rss", "/feed", conditional=False)
    assert poll(store, config, force=True)["blog"].new == 1
    assert len(parses) == 2


def _rss_with_ttl(minutes: int) -> bytes:
    return (f"<rss version='2.0'><channel><title>T</title><ttl>{minutes}</ttl>"
            "<item><title>a</title><guid>a</guid></item></channel></rss>").encode()


@pytest.mark.parametrize("ttl, low, high", [
    (180, 3 * HOUR, 3.3 * HOUR),  # longer than our interval: followed
    (5, HOUR, 1.1 * HOUR),  # shorter: never below our interval
    (5000, 24 * HOUR, 26.4 * HOUR),  # far longer: capped at a day
])
def test_ttl_lengthens_the_interval_within_a_cap(
    feed_server: FeedServer, make_config: Any, store: Store,
    ttl: int, low: timedelta, high: timedelta,
) -> None:
    url = feed_server.set("/ttl", _rss_with_ttl(ttl))
    config = make_config([{"name": "t", "url": url}], poll_interval="1h")
    poll(store, config)
    assert between(store.feed_states()["t"].next_poll, low, high)


def test_cache_control_max_age_lengthens_the_interval(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/cc",
                                 headers={"Cache-Control": "public, max-age=7200"})
    config = make_config([{"name": "cc", "url": url}], poll_interval="1h")
    poll(store, config)
    assert between(store.feed_states()["cc"].next_poll, 2 * HOUR, 2.2 * HOUR)
    # A 304 keeps the hint learnt before.
    poll(store, config, now=NOW, force=True)
    assert between(store.feed_states()["cc"].next_poll, 2 * HOUR, 2.2 * HOUR)


def test_jitter_spreads_feeds_with_the_same_interval(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    body = (DATA / "blog-metier.rss").read_bytes()
    feeds = [{"name": f"feed {n}", "url": feed_server.set(f"/f{n}", body)} for n in range(10)]
    poll(store, make_config(feeds, poll_interval="1h"))
    times = {s.next_poll for s in store.feed_states().values()}
    assert len(times) == 10
    assert all(between(t, HOUR, 1.1 * HOUR) for t in times)


@pytest.mark.parametrize("settings, expected", [({}, 2), ({"per_host": 4}, 4)],
                         ids=["default", "setting"])
def test_requests_per_host_are_limited(
    feed_server: FeedServer, make_config: Any, store: Store,
    settings: dict[str, int], expected: int,
) -> None:
    feeds = [{"name": f"slow {n}", "url": feed_server.set(f"/s{n}", _rss_with_ttl(60),
                                                           drip=0.003)}
             for n in range(8)]
    outcomes = poll(store, make_config(feeds, concurrency=8, **settings))
    assert all(o.outcome == "new" for o in outcomes.values())
    assert feed_server.max_in_flight == expected


def test_html_page_error_names_the_advertised_feed(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    page = feed_server.serve_file("not-a-feed.html", "/blog/")
    config = make_config([{"name": "page", "url": page}])
    assert poll(store, config)["page"].outcome == "error"
    assert store.feed_states()["page"].last_error == (
        f"not a feed: {page} is a web page; it advertises the feed "
        f"{feed_server.url('/feed/')} (use that address in feeds.yaml)")


def test_wrong_charset_header_still_gives_entries(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/latin",
                                 content_type="application/rss+xml; charset=iso-8859-1")
    missing = feed_server.serve_file("metier-cp1252.rss", "/none", content_type="text/xml")
    config = make_config([{"name": "latin", "url": url}, {"name": "none", "url": missing}])
    outcomes = poll(store, config)
    assert outcomes["latin"].new == 4 and outcomes["none"].new == 1
    titles = {e.title for e in store.latest_entries(10)}
    assert "«\xa0Le métier qui n’existe pas\xa0»" in titles
