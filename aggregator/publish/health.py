"""What the daemon has done, for /healthz (JSON) and /metrics (Prometheus text)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from aggregator import __version__
from aggregator.models import UpdateOutcome
from aggregator.store import Store


class PollCounters:
    """Counts kept by a running daemon since it started (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.polls: Counter[str] = Counter()
        self.new_entries = 0
        self.fetch_seconds = 0.0
        self.last_cycle: datetime | None = None

    def record(self, outcomes: Sequence[UpdateOutcome], finished: datetime) -> None:
        """Add one poll cycle's outcomes."""
        with self._lock:
            self.polls.update(o.outcome for o in outcomes)
            self.new_entries += sum(o.new for o in outcomes)
            self.fetch_seconds += sum(o.elapsed for o in outcomes)
            self.last_cycle = finished

    def snapshot(self) -> tuple[dict[str, int], int, float]:
        """Polls by outcome, new entries and fetch seconds, read together."""
        with self._lock:
            return dict(self.polls), self.new_entries, self.fetch_seconds


class Monitor:
    """Answers /healthz and /metrics from the database and, in a daemon, its counters."""

    def __init__(self, store: Store, counters: PollCounters | None = None) -> None:
        self.store = store
        self.counters = counters

    def health(self) -> dict[str, object]:
        """A small JSON-able summary: is it polling, what fails, how much is stored."""
        summary = self.store.health()
        last = (self.counters.last_cycle if self.counters else None) or summary.last_polled
        return {
            "status": "ok" if summary.failing == 0 else "degraded",
            "version": __version__,
            "last_cycle": last.isoformat() if last else None,
            "feeds": summary.feeds,
            "feeds_failing": summary.failing,
            "feeds_retired": summary.retired,
            "entries_stored": summary.entries,
        }

    def health_json(self) -> str:
        return json.dumps(self.health(), ensure_ascii=False) + "\n"

    def metrics(self) -> str:
        """Prometheus text exposition format, version 0.0.4."""
        summary = self.store.health()
        lines = [
            "# HELP aggregator_feeds Feeds known to the database.",
            "# TYPE aggregator_feeds gauge",
            f"aggregator_feeds {summary.feeds}",
            "# HELP aggregator_feeds_failing Feeds whose last poll failed.",
            "# TYPE aggregator_feeds_failing gauge",
            f"aggregator_feeds_failing {summary.failing}",
            "# HELP aggregator_entries_stored Entries in the database.",
            "# TYPE aggregator_entries_stored gauge",
            f"aggregator_entries_stored {summary.entries}",
        ]
        if self.counters is not None:
            polls, new, seconds = self.counters.snapshot()
            lines += ["# HELP aggregator_polls_total Feed polls since start, by outcome.",
                      "# TYPE aggregator_polls_total counter"]
            lines += [f'aggregator_polls_total{{outcome="{outcome}"}} {count}'
                      for outcome, count in sorted(polls.items())]
            failures = polls.get("error", 0) + polls.get("gone", 0)
            lines += [
                "# HELP aggregator_poll_failures_total Failed feed polls since start.",
                "# TYPE aggregator_poll_failures_total counter",
                f"aggregator_poll_failures_total {failures}",
                "# HELP aggregator_new_entries_total New entries stored since start.",
                "# TYPE aggregator_new_entries_total counter",
                f"aggregator_new_entries_total {new}",
                "# HELP aggregator_fetch_seconds Time spent fetching feeds since start.",
                "# TYPE aggregator_fetch_seconds summary",
                f"aggregator_fetch_seconds_sum {seconds:.6f}",
                f"aggregator_fetch_seconds_count {sum(polls.values())}",
            ]
        return "\n".join(lines) + "\n"
