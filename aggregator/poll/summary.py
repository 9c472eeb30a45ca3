"""What a batch of polls came to, for the person who ran it: pure, from the outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.i18n import N_, _, number
from aggregator.models import UpdateOutcome

SLOWEST = 3  # feeds named as the slowest of a batch
# Only polls this long are named: "the slowest: X (0,01 s)" tells a reader nothing.
SLOW_SECONDS = 1.0
# The words of fetch.py's errors (stored in English) for the common causes below.
CANNOT_RESOLVE = N_("cannot resolve the host name")
REFUSED = N_("connection refused")



def common_causes() -> tuple[tuple[str, str], ...]:
    """Failures that, shared by most feeds of a batch, point at this machine rather than
    at the feeds: the words fetch.py's errors say them with, and what to tell the person."""
    return (
        (CANNOT_RESOLVE, _("%(count)s of %(total)s feeds failed because their host "
                              "names could not be resolved: is this machine offline, or its "
                              "DNS down? `make demo` works offline.")),
        (REFUSED, _("%(count)s of %(total)s feeds failed because their connections "
                       "were refused: is this machine offline, or a firewall or proxy in "
                       "the way? `make demo` works offline.")),
    )


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
    common_failure: str | None = None  # one line when most feeds failed the same way


def summarize_outcomes(outcomes: Sequence[UpdateOutcome]) -> PollSummary:
    """Totals by kind of outcome, and the slowest polls first (those of a second or more)."""
    kinds = Counter(o.outcome for o in outcomes)
    return PollSummary(
        polled=len(outcomes),
        new=sum(o.new for o in outcomes),
        duplicates=sum(o.duplicates for o in outcomes),
        updated=sum(o.updated for o in outcomes),
        not_modified=kinds["not_modified"],
        unchanged=kinds["unchanged"],
        failed=sum(has_failed(o) for o in outcomes),
        slowest=tuple(sorted((o for o in outcomes if o.elapsed >= SLOW_SECONDS),
                             key=lambda o: o.elapsed, reverse=True)[:SLOWEST]),
        common_failure=common_failure(outcomes),
    )


def common_failure(outcomes: Sequence[UpdateOutcome]) -> str | None:
    """One line naming the cause most of the batch's feeds (and two at least) failed for,
    with its likely reason; None when the failures are the feeds' own."""
    for words, line in common_causes():
        count = sum(has_failed(o) and words in (o.error or "") for o in outcomes)
        if count >= 2 and count * 2 > len(outcomes):
            return line % {"count": number(count), "total": number(len(outcomes))}
    return None
