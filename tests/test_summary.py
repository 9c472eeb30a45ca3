"""What a batch of polls came to (aggregator.poll.summary), from hand-made outcomes."""

from __future__ import annotations

from aggregator.models import UpdateOutcome
from aggregator.poll.summary import has_failed, summarize_outcomes


def test_totals_by_kind_and_the_slowest_first() -> None:
    outcomes = [
        UpdateOutcome("a", "new", new=3, duplicates=1, elapsed=0.2),
        UpdateOutcome("b", "unchanged", updated=2, elapsed=1.5),
        UpdateOutcome("c", "not_modified", elapsed=0.1),
        UpdateOutcome("d", "error", error="HTTP 500", elapsed=3.0),
        UpdateOutcome("e", "gone", error="HTTP 410", elapsed=0.4),
    ]
    total = summarize_outcomes(outcomes)
    assert (total.polled, total.new, total.duplicates, total.updated, total.not_modified,
            total.unchanged, total.failed) == (5, 3, 1, 2, 1, 1, 2)
    assert [o.feed for o in total.slowest] == ["d", "b", "e"]
    assert [o.feed for o in outcomes if has_failed(o)] == ["d", "e"]


def test_no_outcomes() -> None:
    total = summarize_outcomes([])
    assert (total.polled, total.failed, total.slowest) == (0, 0, ())
