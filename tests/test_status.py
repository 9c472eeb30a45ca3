"""Every feed's health in words (aggregator.publish.status), from hand-made states; what
the filters keep out, counted from a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aggregator.config.load import FeedConfig
from aggregator.config.parsers import parse_filters
from aggregator.models import FeedState
from aggregator.publish.filters import EntryFilter
from aggregator.publish.status import (
    count_filtered_out,
    explain_state,
    status_line,
    status_record,
)
from aggregator.store import Store
from aggregator.store.reads import CHUNK
from tests.test_reads import URL, save_undated

PARIS = ZoneInfo("Europe/Paris")
POLLED = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("state, expected", [
    (None, "not polled yet"),
    (FeedState("f", "u", last_polled=POLLED), "ok: last polled Nov 21, 2026 09:00"),
    (FeedState("f", "u", last_polled=POLLED, gone_at=POLLED,
               last_error="HTTP 410 Gone: the server says this feed is gone for good"),
     "retired on Nov 21, 2026 09:00: HTTP 410 Gone: the server says this feed is gone for "
     "good. It is not polled any more; edit its entry in feeds.yaml to try again."),
    (FeedState("f", "u", last_polled=POLLED, failures=3, failing_since=POLLED,
               last_error="HTTP 503 Service Unavailable",
               next_poll=POLLED + timedelta(hours=4)),
     "failing since Nov 21, 2026 09:00 (3 attempts in a row): HTTP 503 Service Unavailable. "
     "Next try Nov 21, 2026 13:00; it is never dropped."),
    (FeedState("f", "u", last_polled=POLLED, moved_to="https://new.example/feed",
               moved_at=POLLED),
     "moved permanently to https://new.example/feed on Nov 21, 2026 09:00: polled there "
     "now; put the new address in feeds.yaml."),
])
def test_status_explains_in_plain_words(state: FeedState | None, expected: str) -> None:
    assert explain_state(True, state, PARIS) == expected


def test_status_of_a_disabled_feed() -> None:
    assert explain_state(False, None, PARIS).startswith("disabled in feeds.yaml")


def test_a_retired_feed_shows_no_next_poll() -> None:
    state = FeedState("f", "u", last_polled=POLLED, gone_at=POLLED, last_error="HTTP 410 Gone",
                      next_poll=POLLED + timedelta(days=1), entry_count=4)
    line = status_line(FeedConfig("f", "u"), state, 1, PARIS)
    assert (line.health, line.next_poll, line.entries) == ("retired", "—", "4 (1 filtered out)")
    record = status_record(FeedConfig("f", "u"), state, 1, PARIS)
    assert (record["state"], record["next_poll"], record["retired_at"]) == (
        "retired", None, POLLED.isoformat())
    assert list(record)[-1] == "filtered_out"


def test_a_feed_never_polled() -> None:
    line = status_line(FeedConfig("f", "u"), None, 0, PARIS)
    assert (line.health, line.last_success, line.entries) == ("never polled", "—", "0")
    assert status_record(FeedConfig("f", "u"), None, 0, PARIS)["failures"] == 0


def test_what_the_filters_keep_out_is_counted_a_chunk_at_a_time(database_url: str) -> None:
    # Through the store's stream, as `status` does: every article judged, none held.
    store = Store.open(database_url)
    try:
        save_undated(store, "Le fil", CHUNK + 50)
        rules = EntryFilter(parse_filters({"exclude": [{"regex": r"fil \d*7$", "in": "title"}]}),
                            [FeedConfig("Le fil", URL)])
        save_undated(store, "Un autre", 20)
        stream = store.each_shown_entry(["Le fil", "Un autre"])
        assert count_filtered_out(rules, stream) == {"Le fil": (CHUNK + 50) // 10}
        assert next(stream, None) is None  # the count read it to the end
    finally:
        store.close()
