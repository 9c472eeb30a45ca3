"""The daemon's newsletters, sent beside its ticks: one round of those due at a time, in a
thread of its own (poll/background.py), so that an SMTP server slow or down (tried again
for `retry_for`) delays neither the next polls nor the render of what they stored."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import datetime

from aggregator.config.load import Config
from aggregator.i18n import N_
from aggregator.poll.background import BackgroundRunner
from aggregator.store import Store


class BackgroundNewsletters:
    """Rounds of the newsletters due, started after the daemon's renders, one at a time."""

    def __init__(self, store: Store, stop: threading.Event) -> None:
        self.store, self.stop = store, stop
        self.runner: BackgroundRunner[None] = BackgroundRunner(
            "newsletters", N_("newsletters not sent: %s"), stop)

    def start(self, config: Config, now: datetime, worker: str) -> Future[None] | None:
        """A round of the newsletters due at `now`, unless one is under way (a period it
        leaves unsent is still due at the next start: the store claims each one)."""
        return self.runner.start(lambda: self._run(config, now, worker))

    def shutdown(self) -> None:
        """No new round; the one under way starts no new newsletter and stops trying
        again a server that fails (see send_due's stop)."""
        self.runner.shutdown()

    def _run(self, config: Config, now: datetime, worker: str) -> None:
        # Imported here: a daemon without newsletters loads no mail code.
        from aggregator.deliver.newsletters import send_due

        send_due(self.store, config, now, worker, stop=self.stop)
