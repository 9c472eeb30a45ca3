"""Feeds through fetch, parse, decide and store; errors become values.

Fetching runs in a thread pool (it waits on the network), parsing in a process
pool when there are many feeds (feedparser is pure Python and would hold the
GIL), and deciding and storing in the calling thread, one transaction per group
of polls (see save.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from aggregator.config.load import Config, FeedConfig, Settings
from aggregator.i18n import Plural
from aggregator.models import FeedState, Parsed, Subscription, UpdateOutcome
from aggregator.poll.claims import CLAIM_ROUNDS, Claims, release_dead_claims, worker_name
from aggregator.poll.decide import decide_poll, select_feeds
from aggregator.poll.hosts import HostLimiter, interleave_hosts
from aggregator.poll.pool import in_flight_limit, parse_pool
from aggregator.poll.save import Saver
from aggregator.poll.steps import Poll, needs_parse, safe_fetch, submit_parse, with_parse
from aggregator.poll.websub_rules import polling_interval
from aggregator.store import Store

log = logging.getLogger(__name__)

# Once `stop` is set, the fetches and parses under way get this long to finish and be
# stored; then they are abandoned (a fetch could take settings.timeout, 30 s by default).
STOP_GRACE = 2.0
# How often a batch waiting for its polls looks whether `stop` is set.
STOP_CHECK = 0.25


def update_feeds(
    store: Store, session: requests.Session, config: Config, now: datetime, *,
    force: bool = False, only: str | None = None,
    on_outcome: Callable[[UpdateOutcome], None] | None = None,
    stop: threading.Event | None = None, worker: str | None = None,
    clock: Callable[[], datetime] | None = None, pages: bool = True,
) -> list[UpdateOutcome]:
    """Poll the feeds due at `now` concurrently and store each one as it completes.

    Each feed is claimed in the database first (see Store.claim_feeds), so
    several workers sharing one database never poll the same feed. With a
    `clock`, each feed's poll is stamped (and its next poll counted) from when
    it happened, not from `now`: a feed polled late in a long cycle is not due
    again at once. Once `stop` is set no new fetch starts; the polls under way
    get STOP_GRACE seconds to finish and be stored, and are then abandoned (their
    claims released). Then, with `pages`, the article pages due are fetched in their
    own queue (fulltext.queue): no feed's poll waited for them.
    """
    outcomes = _poll_feeds(store, session, config, now, force=force, only=only,
                           on_outcome=on_outcome, stop=stop, worker=worker, clock=clock)
    if pages and not (stop is not None and stop.is_set()):
        from aggregator.fulltext.queue import fetch_pages  # trafilatura: when a page is due
        fetch_pages(store, session, config, clock() if clock else now)
    return outcomes


def _poll_feeds(
    store: Store, session: requests.Session, config: Config, now: datetime, *,
    force: bool, only: str | None, on_outcome: Callable[[UpdateOutcome], None] | None,
    stop: threading.Event | None, worker: str | None,
    clock: Callable[[], datetime] | None,
) -> list[UpdateOutcome]:
    """update_feeds' polls: claimed, fetched, parsed, decided and stored."""
    store.sync_feeds(config.feeds)
    release_dead_claims(store)
    states = store.feed_states(count_entries=False)
    feeds = interleave_hosts(select_feeds(config, states, now, force=force, only=only))
    batch = _Batch(Saver(store, states, on_outcome), config.settings, states, now, clock,
                   store.subscriptions() if config.settings.websub_callback else {})
    if not feeds:
        return []
    workers = min(config.settings.concurrency, len(feeds))
    claims = Claims(store, worker or worker_name(), batch.moment, config.settings.claim_lease,
                    due_only=not (force or only), states=states)
    waiting = claims.take(feeds, CLAIM_ROUNDS * workers)
    abandoned: set[str] = set()
    try:
        abandoned = _run_batch(batch, session, waiting, workers, len(feeds), stop)
    finally:
        batch.saver.flush()  # what was fetched is stored, even when the run stops on an error
        claims.unused |= abandoned
        claims.release_unused()
    if abandoned:
        log.info(Plural("stopped: %d poll under way abandoned: %s",
                        "stopped: %d polls under way abandoned: %s", len(abandoned)),
                 len(abandoned), ", ".join(sorted(abandoned)))
    return batch.saver.outcomes


@dataclass
class _Batch:
    """The moving parts of one update_feeds call."""

    saver: Saver
    settings: Settings
    states: dict[str, FeedState]
    now: datetime
    clock: Callable[[], datetime] | None = None
    subscriptions: Mapping[str, Subscription] = field(default_factory=dict)  # WebSub's

    def moment(self) -> datetime:
        """Now: by the clock when there is one, else the batch's `now` throughout."""
        return self.clock() if self.clock else self.now

    def finish(self, poll: Poll) -> None:
        """Decide the poll's effect now; store it with the next group."""
        feed = poll.feed
        # Every claimed feed has a state; should one lack it, a blank one stands in
        # (and stays, for store_polls to read if the poll cannot be stored).
        state = self.states.setdefault(feed.name, FeedState(feed.name, feed.url))
        moment = self.moment()
        interval = polling_interval(feed.poll_interval or self.settings.poll_interval,
                                    self.subscriptions.get(feed.name),
                                    self.settings.websub_poll_interval, moment)
        self.saver.add(poll, decide_poll(state, poll.fetched, poll.parsed, interval, moment))


@dataclass
class _InFlight:
    """The polls a batch is fetching (in threads) and parsing (in the pool)."""

    batch: _Batch
    session: requests.Session
    limiter: HostLimiter
    fetchers: Executor
    parsers: Executor
    workers: int
    fetching: dict[Future[Poll], str] = field(default_factory=dict)  # to the feed's name
    parsing: dict[Future[Parsed], Poll] = field(default_factory=dict)

    def feeds(self) -> set[str]:
        """The feeds under way: being fetched or parsed."""
        return {*self.fetching.values(), *(poll.feed.name for poll in self.parsing.values())}

    def start(self, waiting: Iterator[FeedConfig], stop: threading.Event | None) -> None:
        """Start fetches while threads are free and the hand-offs have room."""
        backlog = in_flight_limit(self.workers)
        while (len(self.fetching) < self.workers
               and len(self.fetching) + len(self.parsing) < backlog
               and not (stop and stop.is_set())):
            feed = next(waiting, None)
            if feed is None:
                return
            state = self.batch.states.get(feed.name)
            future = self.fetchers.submit(safe_fetch, self.session, self.limiter, feed, state,
                                          self.batch.settings)
            self.fetching[future] = feed.name

    def settle(self, future: Future[Any]) -> None:
        """A fetch done goes to the parsers if its body is new; a finished poll is decided."""
        if future in self.parsing:
            poll = self.parsing.pop(future)
            self.batch.finish(with_parse(poll, future.result()))
            return
        del self.fetching[future]
        fetched: Poll = future.result()
        if not needs_parse(fetched):
            self.batch.finish(fetched)
            return
        state = self.batch.states.get(fetched.feed.name)
        self.parsing[submit_parse(self.parsers, fetched, state)] = fetched


class _Abandoned(Exception):
    """Leaves the parse pool's block without waiting for the parses a stop abandoned."""


def _run_batch(batch: _Batch, session: requests.Session, waiting: Iterator[FeedConfig],
               workers: int, feed_count: int, stop: threading.Event | None) -> set[str]:
    """Fetch in threads, parse in processes, store here, until `waiting` runs dry or a
    stop's grace is over; returns the feeds then abandoned under way."""
    limiter = HostLimiter(batch.settings.per_host)
    fetchers = ThreadPoolExecutor(workers, "fetch")
    abandoned: set[str] = set()
    try:
        with parse_pool(feed_count) as parsers:
            flight = _InFlight(batch, session, limiter, fetchers, parsers, workers)
            if not _settle_all(flight, waiting, stop):
                abandoned = flight.feeds()
                raise _Abandoned
    except _Abandoned:
        pass
    finally:
        # An abandoned fetch may run on until settings.timeout: it is not waited for.
        fetchers.shutdown(wait=not abandoned, cancel_futures=True)
    return abandoned


def _settle_all(flight: _InFlight, waiting: Iterator[FeedConfig],
                stop: threading.Event | None) -> bool:
    """Start and settle polls until none is left (True) or a stop's grace is over (False)."""
    saver = flight.batch.saver
    deadline: float | None = None
    while True:
        flight.start(waiting, stop)
        running: set[Future[Any]] = {*flight.fetching, *flight.parsing}
        if not running:
            return True
        if stop is not None and stop.is_set():
            deadline = deadline or time.monotonic() + STOP_GRACE
            if time.monotonic() >= deadline:
                return False
        timeout = _wait_timeout(saver.flush_wait(), stop, deadline)
        done = wait(running, timeout, return_when=FIRST_COMPLETED).done
        if saver.flush_wait() == 0:
            saver.flush()
        for future in done:
            flight.settle(future)


def _wait_timeout(flush_wait: float | None, stop: threading.Event | None,
                  deadline: float | None) -> float | None:
    """How long to wait for a poll: until the group is due, and, when a stop may come,
    not past STOP_CHECK or the stop's deadline."""
    if stop is None:
        return flush_wait
    limits = [STOP_CHECK, flush_wait if flush_wait is not None else STOP_CHECK]
    if deadline is not None:
        limits.append(max(0.0, deadline - time.monotonic()))
    return min(limits)
