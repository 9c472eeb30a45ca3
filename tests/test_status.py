"""Every feed's health in words (aggregator.publish.status), from hand-made states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aggregator.config.load import FeedConfig
from aggregator.models import FeedState
from aggregator.publish.status import explain_state, status_line, status_record

PARIS = ZoneInfo("Europe/Paris")
POLLED = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("state, expected", [
    (None, "not polled yet"),
    (FeedState("f", "u", last_polled=POLLED), "ok: last polled 2026-11-21 09:00"),
    (FeedState("f", "u", last_polled=POLLED, gone_at=POLLED,
               last_error="HTTP 410 Gone: the server says this feed is gone for good"),
     "retired on 2026-11-21 09:00: HTTP 410 Gone: the server says this feed is gone for "
     "good. It is not polled any more; edit its entry in feeds.yaml to try again."),
    (FeedState("f", "u", last_polled=POLLED, failures=3, failing_since=POLLED,
               last_error="HTTP 503 Service Unavailable",
               next_poll=POLLED + timedelta(hours=4)),
     "failing since 2026-11-21 09:00 (3 attempts in a row): HTTP 503 Service Unavailable. "
     "Next try 2026-11-21 13:00; it is never dropped."),
    (FeedState("f", "u", last_polled=POLLED, moved_to="https://new.example/feed",
               moved_at=POLLED),
     "moved permanently to https://new.example/feed on 2026-11-21 09:00: polled there "
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
