"""What a batch of polls came to, for the person who ran it: pure, from the outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.models import UpdateOutcome

SLOWEST = 3  # feeds named as the slowest of a batch


def has_failed(outcome: UpdateOutcome) -> bool:
    """Whether a poll failed: an error, or the feed gone for good."""
    return outcome.outcome in ("error", "gone")


@dataclass(frozen=True)
class PollSummary:
    """The totals of a batch of polls, and its slowest feeds."""

    polled: int
    new: int
    duplicates: int
    updated: int
    not_modified: int
    unchanged: int
    failed: int
    slowest: tuple[UpdateOutcome, ...]


def summarize_outcomes(outcomes: Sequence[UpdateOutcome]) -> PollSummary:
    """Totals by kind of outcome, and the slowest polls first."""
    kinds = Counter(o.outcome for o in outcomes)
    return PollSummary(
        polled=len(outcomes),
        new=sum(o.new for o in outcomes),
        duplicates=sum(o.duplicates for o in outcomes),
        updated=sum(o.updated for o in outcomes),
        not_modified=kinds["not_modified"],
        unchanged=kinds["unchanged"],
        failed=sum(has_failed(o) for o in outcomes),
        slowest=tuple(sorted(outcomes, key=lambda o: o.elapsed, reverse=True)[:SLOWEST]),
    )
