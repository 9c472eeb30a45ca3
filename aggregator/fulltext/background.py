"""The daemon's article pages, fetched beside its ticks: one run of the page queue at a
time, in a thread of its own, so that neither the next polls nor the render of what they
stored waits for pages (a run may take PAGE_DEADLINE seconds at one request a second).
The runs share the hosts' robots.txt, each asked for again only once its lifetime is over."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import requests

from aggregator.config.load import Config
from aggregator.fulltext.queue import PageReport, fetch_pages
from aggregator.fulltext.robots import RobotsCache
from aggregator.store import Store, StoreError

log = logging.getLogger(__name__)


class BackgroundPages:
    """Runs of the page queue started by the daemon's ticks, one at a time."""

    def __init__(self, store: Store, session: requests.Session, stop: threading.Event) -> None:
        self.store, self.session, self.stop = store, session, stop
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="pages")
        self.running: Future[PageReport] | None = None
        self.changed = threading.Event()  # a page text was stored: the pages need a render
        self.robots = RobotsCache()

    def start(self, config: Config, now: datetime) -> None:
        """A run of the pages due, unless one is under way (it takes them as it goes)."""
        if self.running is not None and not self.running.done():
            return
        self.running = self.pool.submit(self._run, config, now)

    def take_changed(self) -> bool:
        """Whether a run stored a page text since the last call."""
        changed = self.changed.is_set()
        self.changed.clear()
        return changed

    def shutdown(self) -> None:
        """No new run; the one under way asks for no new page (see fetch_pages' stop)."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, config: Config, now: datetime) -> PageReport:
        try:
            report = fetch_pages(self.store, self.session, config, now, stop=self.stop,
                                 robots=self.robots)
        except StoreError as exc:
            log.error("article pages not fetched: %s", exc)
            return PageReport()
        if report.fetched or report.copies:
            self.changed.set()
        return report
