"""poll.decide by tables: (feed state, fetch result, parse, now) -> the feed's new state.

No HTTP and no database: every row is plain data, as in reader's test_next_update_after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.models import FeedState, FetchResult, Parsed, ParsedFeed, PollRecord
from aggregator.poll.decide import (
    JITTER,
    MAX_BOILERPLATE,
    decide_poll,
    decide_unstored,
    filing_date,
    is_due,
    is_redated,
    is_retired,
    next_poll_time,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=3)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
URL = "https://blog.example/feed"
MOVED = "https://new.example/feed"
REASONS = {410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


def state(**fields: Any) -> FeedState:
    return FeedState(name="blog", url=URL, **fields)


def answer(status: int | None, headers: dict[str, str] | None = None, **fields: Any
           ) -> FetchResult:
    """A FetchResult as fetch_feed makes it: an error for a 4xx/5xx, a body for a 200."""
    if status is not None and status >= 400:
        fields.setdefault("error", f"HTTP {status} {REASONS[status]}")
    if status == 200:
        fields.setdefault("content", b"<rss/>")
        fields.setdefault("content_hash", "new-hash")
    return FetchResult(URL, URL, status, headers=headers or {}, **fields)


def document(ttl: timedelta | None = None, **fields: Any) -> Parsed:
    feed = ParsedFeed(version="rss20", title="Le blog", site_url="https://blog.example/",
                      language="fr", entries=(), ttl=ttl)
    return Parsed(feed=feed, **{"digests": {"e1": "d1"}, **fields})


@dataclass(frozen=True)
class Row:
    """One poll: what goes in, the wait until the next poll (within), what comes out."""

    state: FeedState
    fetched: FetchResult
    within: tuple[timedelta, timedelta]
    expected: dict[str, Any]
    parsed: Parsed | None = None
    interval: timedelta = HOUR
    now: datetime = NOW


def jittered(delay: timedelta) -> tuple[timedelta, timedelta]:
    """`delay`, stretched by the jitter as much as it may be."""
    return delay, delay * (1 + JITTER)


def exactly(delay: timedelta) -> tuple[timedelta, timedelta]:
    return delay, delay


SUCCESS = {"error": None, "failures": 0, "failing_since": None, "gone_at": None,
           "last_success": NOW}
RETRY = "(the server asked to wait: Retry-After"

ROWS = {
    "200, first poll: validators, title, hint and digests learnt": Row(
        state(), answer(200, {"Cache-Control": "max-age=60"}, etag='"e1"', last_modified="LM"),
        jittered(HOUR), {**SUCCESS, "status": 200, "etag": '"e1"', "last_modified": "LM",
                         "content_hash": "new-hash", "title": "Le blog",
                         "site_url": "https://blog.example/", "entry_digests": {"e1": "d1"},
                         "interval_hint": timedelta(seconds=60), "moved_to": None},
        parsed=document()),
    "304 without validators keeps ours, the hint and the document": Row(
        state(etag='"e1"', last_modified="LM", content_hash="h1", title="T",
              interval_hint=2 * HOUR, entry_digests={"e0": "d0"}, boilerplate=frozenset({7})),
        answer(304), jittered(2 * HOUR),
        {**SUCCESS, "status": 304, "etag": '"e1"', "last_modified": "LM",
         "content_hash": "h1", "title": "T", "interval_hint": 2 * HOUR,
         "entry_digests": {"e0": "d0"}, "boilerplate": frozenset({7})}),
    "304 with a new ETag takes it": Row(
        state(etag='"e1"', last_modified="LM"), answer(304, etag='"e2"'), jittered(HOUR),
        {**SUCCESS, "etag": '"e2"', "last_modified": "LM"}),
    "200, same bytes (nothing parsed): the document's data kept": Row(
        state(title="T", content_hash="new-hash", entry_digests={"e0": "d0"}),
        answer(200), jittered(HOUR),
        {**SUCCESS, "title": "T", "content_hash": "new-hash", "entry_digests": {"e0": "d0"}}),
    "301: the new address remembered": Row(
        state(), answer(200, permanent_url=MOVED), jittered(HOUR),
        {**SUCCESS, "moved_to": MOVED, "moved_at": NOW}, parsed=document()),
    "308 to the address already known: the move keeps its date": Row(
        state(moved_to=MOVED, moved_at=EARLIER), answer(200, permanent_url=MOVED),
        jittered(HOUR), {"moved_to": MOVED, "moved_at": EARLIER}, parsed=document()),
    "308 onwards from a moved feed": Row(
        state(moved_to=MOVED, moved_at=EARLIER),
        answer(200, permanent_url="https://third.example/"), jittered(HOUR),
        {"moved_to": "https://third.example/", "moved_at": NOW}, parsed=document()),
    "301 then an error: the move is still remembered": Row(
        state(), answer(500, permanent_url=MOVED), jittered(HOUR),
        {"moved_to": MOVED, "moved_at": NOW, "failures": 1}),
    "410 retires the feed and keeps what it knew": Row(
        state(etag='"e1"', title="T", last_success=EARLIER), answer(410), jittered(HOUR),
        {"status": 410, "gone_at": NOW, "failures": 1, "failing_since": NOW,
         "error": "HTTP 410 Gone: the server says this feed is gone for good",
         "etag": '"e1"', "title": "T", "last_success": EARLIER}),
    "429 with Retry-After in seconds": Row(
        state(), answer(429, {"Retry-After": "10800"}), exactly(3 * HOUR),
        {"failures": 1, "error": f"HTTP 429 Too Many Requests {RETRY} 10800)"},
        interval=timedelta(minutes=30)),
    "503 with Retry-After as an HTTP date": Row(
        state(), answer(503, {"Retry-After": "Sat, 21 Nov 2026 14:00:00 GMT"}),
        exactly(5 * HOUR), {"failures": 1}),
    "503 with a huge Retry-After: a day at most": Row(
        state(), answer(503, {"Retry-After": "9999999"}), exactly(DAY), {"failures": 1}),
    "503 with a date in the past: the backoff alone": Row(
        state(), answer(503, {"Retry-After": "Sat, 21 Nov 2026 08:00:00 GMT"}), jittered(HOUR),
        {"failures": 1}),
    "503 with a Retry-After shorter than the backoff: the backoff": Row(
        state(failures=3, failing_since=EARLIER), answer(503, {"Retry-After": "60"}),
        jittered(8 * HOUR), {"failures": 4, "failing_since": EARLIER}),
    "503 with an unreadable Retry-After: the backoff, the words kept": Row(
        state(), answer(503, {"Retry-After": "soon"}), jittered(HOUR),
        {"error": f"HTTP 503 Service Unavailable {RETRY} soon)"}),
    "500 with Retry-After: not a rate limit, not waited for": Row(
        state(), answer(500, {"Retry-After": "10800"}), jittered(HOUR),
        {"error": "HTTP 500 Internal Server Error", "failures": 1}),
    "errors in a row double the wait": Row(
        state(failures=2, failing_since=EARLIER, last_success=EARLIER - DAY),
        answer(500), jittered(4 * HOUR),
        {"failures": 3, "failing_since": EARLIER, "last_success": EARLIER - DAY}),
    "the backoff is capped at a day": Row(
        state(failures=29), answer(500), jittered(DAY), {"failures": 30}),
    "an interval over a day is never shortened by the cap": Row(
        state(failures=4), answer(500), jittered(2 * DAY), {"failures": 5},
        interval=2 * DAY),
    "a connection error counts as a failure": Row(
        state(etag='"e1"'), answer(None, error="connection failed: blog.example: refused"),
        jittered(HOUR), {"status": None, "failures": 1, "etag": '"e1"',
                         "error": "connection failed: blog.example: refused"}),
    "a feed coming back after failing": Row(
        state(failures=4, failing_since=EARLIER, last_error="HTTP 500 Internal Server Error",
              last_success=EARLIER - DAY),
        answer(200), jittered(HOUR), SUCCESS, parsed=document()),
    "a body that does not parse: a failure, the old hash and digests kept": Row(
        state(content_hash="h1", entry_digests={"e0": "d0"}), answer(200), jittered(HOUR),
        {"error": "not a feed", "failures": 1, "content_hash": "h1",
         "entry_digests": {"e0": "d0"}, "last_success": None},
        parsed=Parsed(error="not a feed")),
    "a ttl longer than the interval lengthens it": Row(
        state(), answer(200), jittered(3 * HOUR), {"interval_hint": 3 * HOUR},
        parsed=document(ttl=3 * HOUR)),
    "max-age and ttl: the longer one": Row(
        state(), answer(200, {"cache-control": "public, max-age=7200"}), jittered(3 * HOUR),
        {"interval_hint": 3 * HOUR}, parsed=document(ttl=3 * HOUR)),
    "max-age alone on a 304": Row(
        state(interval_hint=3 * HOUR), answer(304, {"Cache-Control": "max-age=7200"}),
        jittered(2 * HOUR), {"interval_hint": 2 * HOUR}),
    "a short ttl never shortens the interval": Row(
        state(), answer(200), jittered(HOUR), {"interval_hint": timedelta(minutes=5)},
        parsed=document(ttl=timedelta(minutes=5))),
    "a huge ttl: a day at most": Row(
        state(), answer(200), jittered(DAY), {"interval_hint": timedelta(minutes=5000)},
        parsed=document(ttl=timedelta(minutes=5000))),
    "an error keeps the hint learnt, and backs off from it": Row(
        state(interval_hint=2 * HOUR), answer(500), jittered(2 * HOUR),
        {"interval_hint": 2 * HOUR, "failures": 1}),
    "boilerplate: the new hashes added, the smallest kept": Row(
        state(boilerplate=frozenset(range(MAX_BOILERPLATE - 1))), answer(200), jittered(HOUR),
        {"boilerplate": frozenset(range(MAX_BOILERPLATE - 1)) | {5000}},
        parsed=document(boilerplate=frozenset({1, 5000, 5001}))),
    "503 with a Retry-After of 401 digits: a day, no OverflowError": Row(
        state(), answer(503, {"Retry-After": str(10**400)}), exactly(DAY),
        {"failures": 1, "error": f"HTTP 503 Service Unavailable {RETRY} {10**400})"}),
    "429 with a Retry-After of 5,000 digits (more than int() converts): a day, its words cut":
    Row(state(), answer(429, {"Retry-After": "9" * 5000}), exactly(DAY),
        {"failures": 1, "error": f"HTTP 429 Too Many Requests {RETRY} {'9' * 5000}"[:499] + "…"}),
    "503 with a Retry-After dated year 9999: a day": Row(
        state(), answer(503, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}), exactly(DAY),
        {"failures": 1}),
    "a max-age of 401 digits: a hint of a day, no OverflowError": Row(
        state(), answer(200, {"Cache-Control": f"max-age={10**400}"}), jittered(DAY),
        {"interval_hint": DAY}, parsed=document()),
    "validators with a NUL or of 2,000 characters are not kept: ours stay": Row(
        state(etag='"e1"', last_modified="LM"),
        answer(200, etag='"e\x002"', last_modified="L" * 2000), jittered(HOUR),
        {"etag": '"e1"', "last_modified": "LM"}, parsed=document()),
    "an error quoting a lone surrogate and a NUL is stored without them": Row(
        state(), answer(None, error="connection failed: \ud800\x00bad"), jittered(HOUR),
        {"error": "connection failed: bad"}),
    "a move to an address with a NUL is not remembered": Row(
        state(), answer(200, permanent_url="https://new.example/\x00"), jittered(HOUR),
        {"moved_to": None, "moved_at": None}, parsed=document()),
    "polled late in a cycle: stamped and counted from its own moment": Row(
        state(), answer(304), jittered(HOUR),
        {"polled_at": NOW + HOUR, "last_success": NOW + HOUR}, now=NOW + HOUR),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decide_poll(row: Row) -> None:
    record = decide_poll(row.state, row.fetched, row.parsed, row.interval, row.now)
    low, high = row.within
    assert low <= record.next_poll - row.now <= high
    assert {name: getattr(record, name) for name in row.expected} == row.expected
    assert record.polled_at == row.now


def test_every_field_of_the_state_is_decided() -> None:
    """A poll that changes nothing hands back the state as it was, field by field."""
    known = state(etag='"e1"', last_modified="LM", last_polled=EARLIER, last_success=EARLIER,
                  failures=0, next_poll=NOW, moved_to=MOVED, moved_at=EARLIER,
                  content_hash="h1", interval_hint=2 * HOUR, last_status=200, title="T",
                  site_url="https://blog.example/", boilerplate=frozenset({3}),
                  entry_digests={"e0": "d0"})
    record = decide_poll(known, answer(304), None, HOUR, NOW)
    same = {name: getattr(known, name) for name in (
        "etag", "last_modified", "moved_to", "moved_at", "content_hash", "interval_hint",
        "title", "site_url", "boilerplate", "entry_digests", "failures", "failing_since",
        "gone_at")}
    assert {name: getattr(record, name) for name in same} == same
    assert (record.last_success, record.status, record.error) == (NOW, 304, None)


def test_jitter_is_stable_and_spreads_feeds() -> None:
    polls = [decide_poll(FeedState(name=f"feed {n}", url=URL), answer(304), None, HOUR, NOW)
             for n in range(10)]
    assert len({p.next_poll for p in polls}) == 10
    again = decide_poll(FeedState(name="feed 0", url=URL), answer(304), None, HOUR, NOW)
    assert again.next_poll == polls[0].next_poll


UNSTORED = PollRecord(polled_at=NOW, next_poll=NOW + HOUR, status=200, etag='"new"',
                      title="New", moved_to=MOVED, moved_at=NOW, last_success=NOW)


@pytest.mark.parametrize("known, expected", [
    (state(etag='"e1"', title="T", last_success=EARLIER),
     {"failures": 1, "failing_since": NOW, "etag": '"e1"', "title": "T", "moved_to": None,
      "last_success": EARLIER}),
    (state(failures=2, failing_since=EARLIER),
     {"failures": 3, "failing_since": EARLIER, "gone_at": None}),
], ids=["first failure", "one more in a row"])
def test_a_poll_that_could_not_be_stored_is_a_failure_that_changes_nothing_else(
    known: FeedState, expected: dict[str, Any]
) -> None:
    record = decide_unstored(known, UNSTORED, "could not store entries: OperationalError")
    assert {name: getattr(record, name) for name in expected} == expected
    assert (record.error, record.next_poll, record.status) == (
        "could not store entries: OperationalError", NOW + HOUR, 200)


def test_is_due_and_backoff() -> None:
    assert is_due(None, NOW)
    later = FeedState(name="a", url="u", next_poll=NOW + timedelta(seconds=1))
    assert not is_due(later, NOW)
    assert is_due(later, NOW + timedelta(seconds=1))
    hour = timedelta(hours=1)
    assert next_poll_time(hour, 0, NOW) == NOW + hour
    assert next_poll_time(hour, 1, NOW) == NOW + hour
    assert next_poll_time(hour, 3, NOW) == NOW + 4 * hour
    assert next_poll_time(hour, 30, NOW) == NOW + timedelta(hours=24)
    assert next_poll_time(timedelta(days=2), 5, NOW) == NOW + timedelta(days=2)


@pytest.mark.parametrize("interval, failures, spread, retry_after, delay", [
    (HOUR, 0, 0.0, None, HOUR),
    (HOUR, 0, 1.0, None, HOUR * 1.1),
    (HOUR, 0, 0.5, None, HOUR * 1.05),
    (HOUR, 2, 0.0, None, 2 * HOUR),
    (HOUR, 5, 0.0, None, 16 * HOUR),
    (HOUR, 6, 0.0, None, DAY),
    (HOUR, 6, 1.0, None, DAY * 1.1),  # the jitter stretches even the cap
    (HOUR, 0, 0.0, 3 * HOUR, 3 * HOUR),
    (HOUR, 0, 1.0, timedelta(minutes=30), HOUR * 1.1),  # shorter than the interval
    (HOUR, 0, 0.0, 1000 * DAY, DAY),
    (2 * DAY, 0, 0.0, 1000 * DAY, 2 * DAY),
    (2 * DAY, 3, 0.0, None, 2 * DAY),
])
def test_next_poll_time(interval: timedelta, failures: int, spread: float,
                        retry_after: timedelta | None, delay: timedelta) -> None:
    assert next_poll_time(interval, failures, NOW, spread=spread,
                          retry_after=retry_after) == NOW + delay


def test_is_retired() -> None:
    assert not is_retired(None)
    assert not is_retired(state())
    assert is_retired(state(gone_at=EARLIER))


SEEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # first seen
BEFORE, AFTER = SEEN - DAY, SEEN + DAY


@pytest.mark.parametrize("published, updated, filed, dated", [
    # a new entry
    (BEFORE, None, None, BEFORE),
    (BEFORE, BEFORE - DAY, None, BEFORE),  # published wins over updated
    (None, BEFORE, None, BEFORE),  # Atom with only <updated>, RSS 1.0 with only <dc:date>
    (None, None, None, SEEN),
    (AFTER, None, None, SEEN),  # a date in the future is not believed
    (None, AFTER, None, SEEN),
    # a stored entry, filed under `filed`, that its feed changed
    (BEFORE - DAY, None, BEFORE, BEFORE - DAY),
    (AFTER, None, BEFORE, SEEN),
    (None, None, BEFORE, BEFORE),  # no date: it stays
    (None, BEFORE - DAY, BEFORE, BEFORE - DAY),  # an earlier update moves it
    (None, SEEN - timedelta(hours=1), BEFORE, BEFORE),  # a later one never does
], ids=["published", "published over updated", "updated only", "no date", "future",
        "future update", "stored, published earlier", "stored, published in the future",
        "stored, no date", "stored, updated earlier", "stored, updated later"])
def test_filing_date(published: datetime | None, updated: datetime | None,
                     filed: datetime | None, dated: datetime) -> None:
    assert filing_date(published, updated, SEEN, filed) == dated


@pytest.mark.parametrize("stored, filed, published, dated, moves", [
    (BEFORE, BEFORE, BEFORE - DAY, BEFORE - DAY, True),  # an earlier date is taken
    (BEFORE, BEFORE, BEFORE + HOUR, BEFORE + HOUR, False),  # a later one alone is not
    (BEFORE, BEFORE, BEFORE, BEFORE, False),
    (None, SEEN, BEFORE, BEFORE, True),  # a publication date where there was none
    (None, SEEN, None, SEEN, False),
    (None, SEEN, None, BEFORE, True),  # an earlier update, without publication dates
], ids=["earlier", "later", "same", "first date", "no date", "earlier update"])
def test_is_redated(stored: datetime | None, filed: datetime, published: datetime | None,
                    dated: datetime, moves: bool) -> None:
    assert is_redated(stored, filed, published, dated) is moves
