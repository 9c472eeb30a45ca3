"""The article pages' own queue, run after a poll's feeds are stored: the entries whose
page is due, fetched a few at a time (one request a second to a host), each outcome
stored as it comes, the whole bounded in time; what is left waits for the next run."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import requests

from aggregator.config.load import Config, Settings
from aggregator.fulltext.pages import HostPacer, get_page, judge_page
from aggregator.fulltext.robots import RobotsCache
from aggregator.i18n import N_
from aggregator.models import FetchResult, PageOutcome, PageTask
from aggregator.store import Store

log = logging.getLogger(__name__)

PAGE_WORKERS = 4  # pages fetched at once, all hosts together
PAGE_DEADLINE = 120.0  # seconds a run spends on pages; the rest waits for the next run
PAGES_PER_RUN = 200


@dataclass
class PageReport:
    """What a run of the page queue did."""

    fetched: int = 0
    failed: int = 0
    forbidden: int = 0
    copies: int = 0  # entries that became copies of another feed's article


def full_text_modes(config: Config) -> dict[str, str]:
    """Each enabled feed's full_text: its own, else settings.full_text."""
    return {feed.name: feed.full_text or config.settings.full_text
            for feed in config.feeds if feed.enabled}


def fetch_pages(store: Store, session: requests.Session, config: Config, now: datetime, *,
                forced: str | None = None, deadline: float = PAGE_DEADLINE,
                stop: threading.Event | None = None,
                robots: RobotsCache | None = None) -> PageReport:
    """Fetch the pages due (all of feed `forced`'s), storing each outcome as it comes;
    once `stop` is set no new page is asked for. `robots`: the hosts' robots.txt kept
    from earlier runs (a daemon's), else read afresh for this run."""
    report = PageReport()
    tasks = store.pending_pages(full_text_modes(config), forced=forced, limit=PAGES_PER_RUN)
    if not tasks:
        return report
    origins = {feed.name: feed.url for feed in config.feeds}
    fetcher = _Fetcher(session, config.settings, HostPacer(), origins, now,
                       robots if robots is not None else RobotsCache())
    ends = time.monotonic() + deadline
    with ThreadPoolExecutor(PAGE_WORKERS, "page") as pool:
        running: set[Future[PageOutcome]] = set()
        waiting = iter(tasks)
        while True:
            while (len(running) < PAGE_WORKERS and time.monotonic() < ends
                   and not (stop is not None and stop.is_set())):
                task = next(waiting, None)
                if task is None:
                    break
                running.add(pool.submit(fetcher.fetch, task))
            if not running:
                return report
            done, running = wait(running, max(0.0, ends - time.monotonic()) + 1,
                                 return_when=FIRST_COMPLETED)
            for future in done:
                _count(report, future.result(), store.save_page(future.result(), now))


def _count(report: PageReport, outcome: PageOutcome, copied: bool) -> None:
    if outcome.status == "fetched":
        report.fetched += 1
    elif outcome.status == "robots-forbidden":
        report.forbidden += 1
    else:
        report.failed += 1
    report.copies += copied


@dataclass
class _Fetcher:
    """A run's shared politeness: the session, the hosts' turns, their robots.txt."""

    session: requests.Session
    settings: Settings
    pacer: HostPacer
    origins: dict[str, str]  # the feed each page was found in, by feed name
    now: datetime  # the run's time, which robots.txt files are kept by
    robots: RobotsCache

    def _get(self, url: str) -> FetchResult:
        return get_page(self.session, url, self.settings, self.pacer)

    def fetch(self, task: PageTask) -> PageOutcome:
        """One entry's page, asked of robots.txt first; never raises."""
        try:
            if not self.robots.allows(task.link, self.now, self._get):
                return PageOutcome(task.entry_id, "robots-forbidden",
                                   N_("robots.txt forbids fetching the page"))
            fetched = get_page(self.session, task.link, self.settings, self.pacer,
                               origin=self.origins.get(task.feed_name),
                               etag=task.etag if task.shown else None,
                               last_modified=task.last_modified if task.shown else None)
            return judge_page(task, fetched)
        except Exception as exc:  # a bug on one page must not stop the others
            log.exception("%s: unexpected error while fetching its page", task.link)
            return PageOutcome(task.entry_id, "failed", f"internal error: {exc!r}")
