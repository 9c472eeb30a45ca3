"""Feeds through fetch, parse, decide and store; errors become values.

Fetching runs in a thread pool (it waits on the network), parsing in a process
pool when there are many feeds (feedparser is pure Python and would hold the
GIL), and deciding and storing in the calling thread, one transaction per group
of polls (see save.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from aggregator.config.load import Config, FeedConfig, Settings
from aggregator.models import FeedState, Parsed, UpdateOutcome
from aggregator.poll.claims import CLAIM_ROUNDS, Claims, release_dead_claims, worker_name
from aggregator.poll.decide import decide_poll, is_due, is_retired
from aggregator.poll.hosts import HostLimiter, interleave_hosts
from aggregator.poll.pool import in_flight_limit, parse_pool
from aggregator.poll.save import Saver
from aggregator.poll.steps import Poll, needs_parse, safe_fetch, submit_parse, with_parse
from aggregator.store import Store


class UnknownFeedError(KeyError):
    """`--feed NAME` names no feed of feeds.yaml."""


def select_feeds(
    config: Config, states: Mapping[str, FeedState], now: datetime, *,
    force: bool = False, only: str | None = None,
) -> list[FeedConfig]:
    """The enabled feeds to poll now: those due, or all with `force`; never retired ones."""
    if only is not None and config.feed(only) is None:
        raise UnknownFeedError(only)
    return [
        feed for feed in config.feeds
        if feed.enabled
        and not is_retired(states.get(feed.name))
        and (only is None or feed.name == only)
        and (force or only is not None or is_due(states.get(feed.name), now))
    ]


def update_feeds(
    store: Store, session: requests.Session, config: Config, now: datetime, *,
    force: bool = False, only: str | None = None,
    on_outcome: Callable[[UpdateOutcome], None] | None = None,
    stop: threading.Event | None = None, worker: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[UpdateOutcome]:
    """Poll the feeds due at `now` concurrently and store each one as it completes.

    Each feed is claimed in the database first (see Store.claim_feeds), so
    several workers sharing one database never poll the same feed. With a
    `clock`, each feed's poll is stamped (and its next poll counted) from when
    it happened, not from `now`: a feed polled late in a long cycle is not due
    again at once. Once `stop` is set no new fetch starts; those under way
    finish and are stored.
    """
    store.sync_feeds(config.feeds)
    release_dead_claims(store)
    states = store.feed_states(count_entries=False)
    feeds = interleave_hosts(select_feeds(config, states, now, force=force, only=only))
    batch = _Batch(Saver(store, states, on_outcome), config.settings, states, now, clock)
    if not feeds:
        return []
    workers = min(config.settings.concurrency, len(feeds))
    claims = Claims(store, worker or worker_name(), batch.moment, config.settings.claim_lease,
                    due_only=not (force or only), states=states)
    waiting = claims.take(feeds, CLAIM_ROUNDS * workers)
    try:
        _run_batch(batch, session, waiting, workers, len(feeds), stop)
    finally:
        batch.saver.flush()  # what was fetched is stored, even when the run stops on an error
        claims.release_unused()
    return batch.saver.outcomes


@dataclass
class _Batch:
    """The moving parts of one update_feeds call."""

    saver: Saver
    settings: Settings
    states: dict[str, FeedState]
    now: datetime
    clock: Callable[[], datetime] | None = None

    def moment(self) -> datetime:
        """Now: by the clock when there is one, else the batch's `now` throughout."""
        return self.clock() if self.clock else self.now

    def finish(self, poll: Poll) -> None:
        """Decide the poll's effect now; store it with the next group."""
        feed = poll.feed
        # Every claimed feed has a state; should one lack it, a blank one stands in
        # (and stays, for store_polls to read if the poll cannot be stored).
        state = self.states.setdefault(feed.name, FeedState(feed.name, feed.url))
        interval = feed.poll_interval or self.settings.poll_interval
        self.saver.add(poll, decide_poll(state, poll.fetched, poll.parsed, interval,
                                         self.moment()))


@dataclass
class _InFlight:
    """The polls a batch is fetching (in threads) and parsing (in the pool)."""

    batch: _Batch
    session: requests.Session
    limiter: HostLimiter
    fetchers: Executor
    parsers: Executor
    workers: int
    fetching: set[Future[Poll]] = field(default_factory=set)
    parsing: dict[Future[Parsed], Poll] = field(default_factory=dict)

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
            self.fetching.add(self.fetchers.submit(safe_fetch, self.session, self.limiter,
                                                   feed, state, self.batch.settings))

    def settle(self, future: Future[Any]) -> None:
        """A fetch done goes to the parsers if its body is new; a finished poll is decided."""
        if future in self.parsing:
            poll = self.parsing.pop(future)
            self.batch.finish(with_parse(poll, future.result()))
            return
        self.fetching.discard(future)
        fetched: Poll = future.result()
        if not needs_parse(fetched):
            self.batch.finish(fetched)
            return
        state = self.batch.states.get(fetched.feed.name)
        self.parsing[submit_parse(self.parsers, fetched, state)] = fetched


def _run_batch(batch: _Batch, session: requests.Session, waiting: Iterator[FeedConfig],
               workers: int, feed_count: int, stop: threading.Event | None) -> None:
    """Fetch in threads, parse in processes, store here, until `waiting` runs dry."""
    limiter = HostLimiter(batch.settings.per_host)
    with ThreadPoolExecutor(workers, "fetch") as fetchers, \
            parse_pool(feed_count) as parsers:
        flight = _InFlight(batch, session, limiter, fetchers, parsers, workers)
        saver = batch.saver
        while True:
            flight.start(waiting, stop)
            running: set[Future[Any]] = {*flight.fetching, *flight.parsing}
            if not running:
                return
            done = wait(running, saver.flush_wait(), return_when=FIRST_COMPLETED).done
            if not done or saver.flush_wait() == 0:
                saver.flush()
            for future in done:
                flight.settle(future)
