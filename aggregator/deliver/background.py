"""The daemon's newsletters, sent beside its ticks: one round of those due at a time, in a
thread of its own, so that an SMTP server slow or down (tried again for `retry_for`)
delays neither the next polls nor the render of what they stored."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from aggregator.config.load import Config
from aggregator.store import Store, StoreError

log = logging.getLogger(__name__)


class BackgroundNewsletters:
    """Rounds of the newsletters due, started after the daemon's renders, one at a time."""

    def __init__(self, store: Store, stop: threading.Event) -> None:
        self.store, self.stop = store, stop
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="newsletters")
        self.running: Future[None] | None = None
        self.lock = threading.Lock()  # the tick and the morning's job may start one together

    def start(self, config: Config, now: datetime, worker: str) -> Future[None] | None:
        """A round of the newsletters due at `now`, unless one is under way (a period it
        leaves unsent is still due at the next start: the store claims each one)."""
        with self.lock:
            if self.stop.is_set() or (self.running is not None and not self.running.done()):
                return None
            self.running = self.pool.submit(self._run, config, now, worker)
            return self.running

    def shutdown(self) -> None:
        """No new round; the one under way starts no new newsletter and stops trying
        again a server that fails (see send_due's stop)."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, config: Config, now: datetime, worker: str) -> None:
        # Imported here: a daemon without newsletters loads no mail code.
        from aggregator.deliver.newsletters import send_due

        try:
            send_due(self.store, config, now, worker, stop=self.stop)
        except StoreError as exc:
            log.error("newsletters not sent: %s", exc)
        except Exception:  # in a thread whose future the daemon does not read: say it
            log.exception("newsletters not sent; the next tick tries again")
