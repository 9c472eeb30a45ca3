"""What a batch of polls came to (aggregator.poll.summary), from hand-made outcomes."""

from __future__ import annotations

from aggregator.models import UpdateOutcome
from aggregator.poll.summary import common_failure, has_failed, summarize_outcomes


def test_totals_by_kind_and_the_slowest_first() -> None:
    outcomes = [
        UpdateOutcome("a", "new", new=3, duplicates=1, elapsed=0.2),
        UpdateOutcome("b", "unchanged", updated=2, elapsed=1.5),
        UpdateOutcome("c", "not_modified", elapsed=0.1),
        UpdateOutcome("d", "error", error="HTTP 500", elapsed=3.0),
        UpdateOutcome("e", "gone", error="HTTP 410", elapsed=1.0),
        UpdateOutcome("f", "new", elapsed=0.99),  # under a second: not named
    ]
    total = summarize_outcomes(outcomes)
    assert (total.polled, total.new, total.duplicates, total.updated, total.not_modified,
            total.unchanged, total.failed) == (6, 3, 1, 2, 1, 1, 2)
    assert [o.feed for o in total.slowest] == ["d", "b", "e"]
    assert [o.feed for o in outcomes if has_failed(o)] == ["d", "e"]


def test_no_outcomes() -> None:
    total = summarize_outcomes([])
    assert (total.polled, total.failed, total.slowest) == (0, 0, ())


def _failed(feed: str, error: str) -> UpdateOutcome:
    return UpdateOutcome(feed, "error", error=error)


NO_NAME = "connection failed: a.invalid: cannot resolve the host name (Name or service not known)"
REFUSED = "connection failed: 127.0.0.1:9: connection refused"


def test_most_feeds_unresolved_name_the_network_and_the_offline_demo() -> None:
    outcomes = [_failed("a", NO_NAME), _failed("b", NO_NAME), _failed("c", "HTTP 500"),
                UpdateOutcome("d", "new", new=1)]
    assert summarize_outcomes(outcomes).common_failure is None  # two of four: not most
    outcomes.append(_failed("e", NO_NAME))
    assert common_failure(outcomes) == (
        "3 of 5 feeds failed because their host names could not be resolved: is this "
        "machine offline, or its DNS down? `make demo` works offline.")
    assert summarize_outcomes(outcomes).common_failure == common_failure(outcomes)


def test_most_connections_refused_name_the_network() -> None:
    line = common_failure([_failed("a", REFUSED), _failed("b", REFUSED)])
    assert line is not None
    assert line.startswith("2 of 2 feeds failed because their connections were refused")


def test_failures_of_the_feeds_own_or_of_one_feed_get_no_common_cause() -> None:
    assert common_failure([_failed("a", REFUSED)]) is None
    assert common_failure([_failed("a", "HTTP 404"), _failed("b", "HTTP 404")]) is None
    assert common_failure([_failed("a", REFUSED), _failed("b", NO_NAME),
                           _failed("c", "HTTP 500")]) is None
    assert common_failure([]) is None
