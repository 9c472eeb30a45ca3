"""The daemon's article pages, fetched beside its ticks: one run of the page queue at a
time, in a thread of its own (poll/background.py), so that neither the next polls nor the
render of what they stored waits for pages (a run may take PAGE_DEADLINE seconds at one
request a second). The runs share the hosts' robots.txt, each asked for again only once
its lifetime is over."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import datetime

import requests

from aggregator.config.load import Config
from aggregator.fulltext.queue import PageReport, fetch_pages
from aggregator.fulltext.robots import RobotsCache
from aggregator.i18n import N_
from aggregator.poll.background import BackgroundRunner
from aggregator.store import Store


class BackgroundPages:
    """Runs of the page queue started by the daemon's ticks, one at a time."""

    def __init__(self, store: Store, session: requests.Session, stop: threading.Event) -> None:
        self.store, self.session, self.stop = store, session, stop
        self.runner: BackgroundRunner[PageReport] = BackgroundRunner(
            "pages", N_("article pages not fetched: %s"), stop)
        self.changed = threading.Event()  # a page text was stored: the pages need a render
        self.robots = RobotsCache()

    def start(self, config: Config, now: datetime) -> Future[PageReport | None] | None:
        """A run of the pages due, unless one is under way (it takes them as it goes)."""
        return self.runner.start(lambda: self._run(config, now))

    def take_changed(self) -> bool:
        """Whether a run stored a page text since the last call."""
        changed = self.changed.is_set()
        self.changed.clear()
        return changed

    def shutdown(self) -> None:
        """No new run; the one under way asks for no new page (see fetch_pages' stop)."""
        self.runner.shutdown()

    def _run(self, config: Config, now: datetime) -> PageReport:
        report = fetch_pages(self.store, self.session, config, now, stop=self.stop,
                             robots=self.robots)
        if report.fetched or report.copies:
            self.changed.set()
        return report
