"""A job the daemon runs beside its ticks (the article pages, the newsletters, the alerts):
in a thread of its own, one run at a time, so that a slow run holds no tick; a run that
fails is logged, and the next start runs the job again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from aggregator.store import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundRunner(Generic[T]):
    """Runs of a job, one at a time, in a thread named after `name`, until shut down or
    `stop` is set; `failed` is the log message (marked with N_, its %s the error) of a
    run that raised."""

    def __init__(self, name: str, failed: str, stop: threading.Event) -> None:
        self.failed, self.stop = failed, stop
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.running: Future[T | None] | None = None
        self.closed = False
        self.lock = threading.Lock()  # a tick and a scheduled job may start one together

    def start(self, job: Callable[[], T]) -> Future[T | None] | None:
        """A run of `job` (its future, whose result is None when it raised), or None when
        a run is under way or the daemon stops: what the job leaves undone is still due
        at the next start."""
        with self.lock:
            if self.closed or self.stop.is_set() or (
                    self.running is not None and not self.running.done()):
                return None
            self.running = self.pool.submit(self._run, job)
            return self.running

    def shutdown(self) -> None:
        """No new run, and a run not begun yet cancelled; the one under way ends when its
        job sees `stop`."""
        with self.lock:
            self.closed = True
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Callable[[], T]) -> T | None:
        try:
            return job()
        except StoreError as exc:  # the database, down or busy: one line says it
            log.error(self.failed, exc)
        except Exception as exc:  # in a thread whose future the daemon does not read: say it
            log.exception(self.failed, exc)
        return None
