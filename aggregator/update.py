"""Feeds through fetch, parse, clean, dedup and store; errors become values.

Fetching runs in a thread pool (it waits on the network), parsing in a process
pool when there are many feeds (feedparser is pure Python and would hold the
GIL), and storing in the calling thread, one transaction per feed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, zip_longest
from multiprocessing import forkserver, get_context
from multiprocessing.context import BaseContext
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.exc import SQLAlchemyError

from aggregator.config import Config, FeedConfig, Settings
from aggregator.fetch import fetch_feed, parse_max_age, parse_retry_after
from aggregator.models import (
    CleanEntry,
    FeedPoll,
    FeedState,
    FetchResult,
    Outcome,
    Parsed,
    PollRecord,
    SaveCounts,
    UpdateOutcome,
)
from aggregator.store import Store
from aggregator.workers import STOP_SIGNALS, parse_body, start_worker

log = logging.getLogger(__name__)

MAX_DELAY = timedelta(hours=24)
JITTER = 0.1  # polls spread over up to 10% more than their interval
# Below this many feeds, starting worker processes costs more than it saves.
PROCESS_POOL_MIN_FEEDS = 40
# Polls stored in one transaction at most (and entries, which the waiting polls hold
# in memory), and the longest a finished poll waits for its group: fewer commits,
# while a slow feed never holds back the others' entries.
SAVE_GROUP = 32
SAVE_GROUP_ENTRIES = 100
SAVE_DELAY = 1.0  # seconds
# Feeds leased at a time: enough for this many rounds of the fetch threads (each
# claim is a transaction), few enough to be fetched long before the lease ends.
CLAIM_ROUNDS = 4
PARSES_QUEUED_PER_CORE = 4  # see in_flight_limit


class UnknownFeedError(KeyError):
    """`--feed NAME` names no feed of feeds.yaml."""


@dataclass(frozen=True)
class Poll:
    """One feed's fetch, and its parse when the body was new."""

    feed: FeedConfig
    fetched: FetchResult
    parsed: Parsed | None = None
    unchanged: bool = False  # same body as last time: nothing to parse


class HostLimiter:
    """At most `per_host` requests at a time to any one host."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Wait for a free slot on `url`'s host, and hold it."""
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with semaphore:
            yield


def is_due(state: FeedState | None, now: datetime) -> bool:
    """True when a feed has never been polled or its next poll time has come."""
    return state is None or state.next_poll is None or state.next_poll <= now


def is_retired(state: FeedState | None) -> bool:
    """True when the server said 410 Gone and feeds.yaml has not changed since."""
    return state is not None and state.gone_at is not None


def jitter(key: str, now: datetime) -> float:
    """A stable pseudo-random fraction in [0, 1) for a feed and a moment."""
    digest = hashlib.blake2b(f"{key}\x1f{now.isoformat()}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32


def poll_interval(configured: timedelta, hint: timedelta | None) -> timedelta:
    """The feed's interval, lengthened (never shortened) by its ttl or max-age, up to a day."""
    if hint is None or hint <= configured:
        return configured
    return min(hint, max(configured, MAX_DELAY))


def next_poll_time(
    interval: timedelta, failures: int, now: datetime, *,
    spread: float = 0.0, retry_after: timedelta | None = None,
) -> datetime:
    """When to poll again.

    The interval, doubled for each failure in a row (capped at a day), stretched
    by up to JITTER × `spread` so feeds drift apart, and never before a server's
    Retry-After (itself capped at a day).
    """
    delay = interval
    if failures > 0:
        delay = min(interval * 2 ** (failures - 1), max(interval, MAX_DELAY))
    delay *= 1 + JITTER * spread
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return now + delay


def fetch_step(
    session: requests.Session, limiter: HostLimiter, feed: FeedConfig,
    state: FeedState | None, settings: Settings,
) -> Poll:
    """Fetch one feed (no database, no parsing): runs in a fetch thread."""
    url = state.poll_url if state else feed.url
    with limiter.slot(url):
        fetched = fetch_feed(
            session, url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            timeout=settings.timeout, max_size=settings.max_size,
        )
    same_body = (state is not None and fetched.content_hash is not None
                 and fetched.content_hash == state.content_hash)
    return Poll(feed, fetched, unchanged=same_body)


def needs_parse(poll: Poll) -> bool:
    """Whether a fetched poll carries a new body to parse."""
    fetched = poll.fetched
    return fetched.error is None and fetched.content is not None and not poll.unchanged


def make_record(
    poll: Poll, state: FeedState | None, settings: Settings, now: datetime
) -> PollRecord:
    """Decide a poll's effect on the feed's state: errors, validators, next poll time."""
    feed, fetched = poll.feed, poll.fetched
    error = fetched.error or (poll.parsed.error if poll.parsed else None)
    hint_parts = [parse_max_age(fetched.headers)]
    if poll.parsed and poll.parsed.feed:
        hint_parts.append(poll.parsed.feed.ttl)
    hints = [h for h in hint_parts if h] or ([state.interval_hint]
                                              if state and state.interval_hint else [])
    hint = max(hints) if hints else None
    interval = poll_interval(feed.poll_interval or settings.poll_interval, hint)
    failures = (state.failures if state else 0) + 1 if error else 0
    retry_after = None
    if fetched.status in (429, 503):
        retry_after = parse_retry_after(fetched.headers.get("Retry-After"), now)
    parsed_feed = poll.parsed.feed if poll.parsed else None
    return PollRecord(
        polled_at=now,
        next_poll=next_poll_time(interval, failures, now, spread=jitter(feed.name, now),
                                 retry_after=retry_after),
        status=fetched.status,
        error=_explain(error, fetched),
        gone=fetched.gone,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        content_hash=fetched.content_hash if not error else None,
        moved_to=fetched.permanent_url,
        title=parsed_feed.title if parsed_feed else None,
        site_url=parsed_feed.site_url if parsed_feed else None,
        interval_hint=hint,
        boilerplate=poll.parsed.boilerplate if poll.parsed else frozenset(),
        entry_digests=poll.parsed.digests if poll.parsed and not error else None,
    )


def _explain(error: str | None, fetched: FetchResult) -> str | None:
    """Error words for `status`, with what the server asked for when it said something."""
    if error is None:
        return None
    if fetched.gone:
        return f"{error}: the server says this feed is gone for good"
    retry = fetched.headers.get("Retry-After")
    if fetched.status in (429, 503) and retry:
        return f"{error} (the server asked to wait: Retry-After {retry})"
    return error


def store_polls(store: Store, polls: Sequence[tuple[Poll, PollRecord]]) -> list[UpdateOutcome]:
    """Save polls' entries and their feeds' new state in one transaction; report each.

    When the group cannot be stored, each poll is tried alone, so that one feed's
    bad data costs only that feed: it is stored with the error instead.
    """
    saves = [FeedPoll(poll.feed.name, record, *_entries_to_save(poll, record))
             for poll, record in polls]
    try:
        counts = store.save_polls(saves)
    except SQLAlchemyError as exc:
        if len(polls) > 1:
            return [outcome for one in polls for outcome in store_polls(store, [one])]
        poll, record = polls[0]
        log.exception("%s: could not store entries", poll.feed.name)
        error = f"could not store entries: {exc.__class__.__name__}"
        store.save_poll(poll.feed.name, _with_error(record, error))
        return [UpdateOutcome(poll.feed.name, "error", error=error,
                              elapsed=poll.fetched.elapsed)]
    return [_report(poll, record, saved) for (poll, record), saved in zip(polls, counts,
                                                                          strict=True)]


def _entries_to_save(poll: Poll, record: PollRecord
                     ) -> tuple[Sequence[CleanEntry], Sequence[str]]:
    parsed = poll.parsed if poll.parsed and not record.error else None
    return (parsed.entries, parsed.unchanged) if parsed else ((), ())


def _report(poll: Poll, record: PollRecord, counts: SaveCounts) -> UpdateOutcome:
    if poll.parsed and poll.parsed.feed and poll.parsed.feed.warning:
        log.warning("%s: %s", poll.feed.name, poll.parsed.feed.warning)
    stored = counts.new + counts.updated + counts.duplicates
    return UpdateOutcome(
        poll.feed.name, _outcome(poll, record, stored),
        counts.new, counts.updated, error=record.error, elapsed=poll.fetched.elapsed,
        moved_to=record.moved_to, duplicates=counts.duplicates,
    )


def _with_error(record: PollRecord, error: str) -> PollRecord:
    return PollRecord(polled_at=record.polled_at, next_poll=record.next_poll,
                      status=record.status, error=error)


def _outcome(poll: Poll, record: PollRecord, stored: int) -> Outcome:
    if record.gone:
        return "gone"
    if record.error:
        return "error"
    if poll.fetched.not_modified:
        return "not_modified"
    return "new" if stored else "unchanged"


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


def interleave_hosts(feeds: Sequence[FeedConfig]) -> list[FeedConfig]:
    """Order feeds round-robin by host, so fetch threads do not queue on one busy host."""
    by_host: dict[str, list[FeedConfig]] = {}
    for feed in feeds:
        by_host.setdefault((urlsplit(feed.url).hostname or "").lower(), []).append(feed)
    rounds = zip_longest(*by_host.values())
    return [feed for feed in chain.from_iterable(rounds) if feed is not None]


@dataclass
class _Batch:
    """The moving parts of one update_feeds call."""

    store: Store
    settings: Settings
    states: dict[str, FeedState]
    now: datetime
    on_outcome: Callable[[UpdateOutcome], None] | None
    clock: Callable[[], datetime] | None = None
    outcomes: list[UpdateOutcome] = field(default_factory=list)
    pending: list[tuple[Poll, PollRecord]] = field(default_factory=list)
    oldest: float = 0.0  # time.monotonic() when the first pending poll came

    def moment(self) -> datetime:
        """Now: by the clock when there is one, else the batch's `now` throughout."""
        return self.clock() if self.clock else self.now

    def finish(self, poll: Poll) -> None:
        """Decide the poll's effect now; store it with the next group."""
        record = make_record(poll, self.states.get(poll.feed.name), self.settings,
                             self.moment())
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append((poll, record))
        entries = sum(len(p.parsed.entries) for p, _ in self.pending if p.parsed)
        if len(self.pending) >= SAVE_GROUP or entries >= SAVE_GROUP_ENTRIES:
            self.flush()

    def flush(self) -> None:
        """Store the waiting polls, one transaction for all, and report them."""
        if not self.pending:
            return
        polls, self.pending = self.pending, []
        for outcome in store_polls(self.store, polls):
            self.outcomes.append(outcome)
            if self.on_outcome:
                self.on_outcome(outcome)

    def flush_wait(self) -> float | None:
        """Seconds until the waiting polls must be stored; None when none wait."""
        if not self.pending:
            return None
        return max(0.0, self.oldest + SAVE_DELAY - time.monotonic())


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
    batch = _Batch(store, config.settings, states, now, on_outcome, clock)
    if not feeds:
        return []
    settings = config.settings
    limiter = HostLimiter(settings.per_host)
    workers = min(settings.concurrency, len(feeds))
    claims = _Claims(store, worker or worker_name(), batch.moment, settings.claim_lease,
                     due_only=not (force or only), states=states)
    waiting = claims.take(feeds, CLAIM_ROUNDS * workers)
    try:
        _run_batch(batch, session, limiter, waiting, workers, len(feeds), stop)
    finally:
        batch.flush()  # what was fetched is stored, even when the run stops on an error
        claims.release_unused()
    return batch.outcomes


def worker_name() -> str:
    """This process, as named in the feeds it claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def release_dead_claims(store: Store) -> None:
    """Free the leases of workers on this host that no longer run (killed, crashed),
    rather than leave their feeds unpolled until the leases run out."""
    host = socket.gethostname()
    for holder in store.claim_holders():
        name, _, pid = holder.rpartition(":")
        if name == host and pid.isdigit() and not _process_exists(int(pid)):
            log.info("releasing the feeds of %s, which no longer runs", holder)
            store.release_feeds(None, holder)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


@dataclass
class _Claims:
    """Feeds leased chunk by chunk, just before they are fetched.

    Small chunks spread a cycle's feeds over every worker sharing the database,
    and keep a lease from running out while its feed still waits in our queue.
    """

    store: Store
    worker: str
    clock: Callable[[], datetime]
    lease: timedelta
    due_only: bool
    states: dict[str, FeedState]
    unused: set[str] = field(default_factory=set)

    def take(self, feeds: Sequence[FeedConfig], chunk: int) -> Iterator[FeedConfig]:
        """The feeds this worker won, in order; the others are another's or done."""
        for start in range(0, len(feeds), chunk):
            part = feeds[start:start + chunk]
            taken = self.store.claim_feeds([f.name for f in part], self.worker, self.clock(),
                                           self.lease, due_only=self.due_only)
            if not taken:
                continue
            # Another worker may have polled these since our list was read: the
            # claim's own reading of them is the fresh one.
            self.states.update(taken)
            self.unused |= taken.keys()
            for feed in part:
                if feed.name in taken:
                    self.unused.discard(feed.name)
                    yield feed

    def release_unused(self) -> None:
        """Hand back what a stop left unfetched, for the other workers to take now."""
        self.store.release_feeds(self.unused, self.worker)
        self.unused.clear()


def _run_batch(batch: _Batch, session: requests.Session, limiter: HostLimiter,
               waiting: Iterator[FeedConfig], workers: int, feed_count: int,
               stop: threading.Event | None) -> None:
    """Fetch in threads, parse in processes, store here, until `waiting` runs dry."""
    settings, states = batch.settings, batch.states
    with ThreadPoolExecutor(workers, "fetch") as fetchers, \
            _parse_pool(feed_count) as parsers:
        fetching: set[Future[Poll]] = set()
        parsing: dict[Future[Parsed], Poll] = {}
        backlog = in_flight_limit(workers)
        while True:
            while (len(fetching) < workers and len(fetching) + len(parsing) < backlog
                   and not (stop and stop.is_set())):
                feed = next(waiting, None)
                if feed is None:
                    break
                fetching.add(fetchers.submit(_safe_fetch, session, limiter, feed,
                                             states.get(feed.name), settings))
            if not fetching and not parsing:
                break
            running: set[Future[Any]] = {*fetching, *parsing}
            done = wait(running, batch.flush_wait(), return_when=FIRST_COMPLETED).done
            if not done or batch.flush_wait() == 0:
                batch.flush()
            for future in done:
                if future in parsing:
                    batch.finish(_with_parse(parsing.pop(future), future.result()))
                    continue
                fetching.discard(future)
                poll: Poll = future.result()
                if not needs_parse(poll):
                    batch.finish(poll)
                    continue
                fetched = poll.fetched
                assert fetched.content is not None
                state = states.get(poll.feed.name)
                parsing[parsers.submit(parse_body, fetched.content, fetched.headers,
                                       fetched.final_url,
                                       state.boilerplate if state else frozenset(),
                                       state.entry_digests if state else None)] = poll


def in_flight_limit(fetchers: int) -> int:
    """Polls fetched or parsing at a time, at most.

    Bounded hand-offs: a fetched body waits for a parser only while the parsers are
    busy, so memory holds a few bodies, not the whole run's. Four a core keep the
    parsers fed while this thread stores a group: a first poll of 1,000 feeds used
    1.70 cores of 2 with them as with eight, and 3 MB less memory (1.71 with two).
    """
    return fetchers + PARSES_QUEUED_PER_CORE * (os.cpu_count() or 1)


def _with_parse(poll: Poll, parsed: Parsed) -> Poll:
    return Poll(poll.feed, poll.fetched, parsed, poll.unchanged)


@contextmanager
def _parse_pool(feed_count: int) -> Iterator[Executor]:
    """Worker processes for many feeds on several cores; the calling thread otherwise."""
    if _parses_inline(feed_count):
        with _InlineExecutor() as inline:
            yield inline
        return
    with ProcessPoolExecutor(os.cpu_count(), mp_context=_pool_context(),
                             initializer=start_worker,
                             initargs=(os.getpid(),)) as pool:
        yield pool


def _parses_inline(feed_count: int) -> bool:
    """Whether a batch of `feed_count` feeds parses in the calling thread, not in a pool."""
    return feed_count < PROCESS_POOL_MIN_FEEDS or (os.cpu_count() or 1) < 2


def _pool_context() -> BaseContext:
    # forkserver: forking a process that runs fetch threads could copy a held lock.
    context = get_context("forkserver")
    # Workers import what parsing needs, not SQLAlchemy or requests: tens of MB each.
    context.set_forkserver_preload(["aggregator.prepare", "aggregator.workers"])
    return context


def start_parse_server(feed_count: int) -> None:
    """Start, from the main thread, the server parse workers are forked from, deaf to
    SIGTERM and SIGINT; a no-op when update_feeds would parse inline.

    Those signals reach every process of the group on Ctrl-C or a service stop.
    The forkserver inherits the ignoring (dispositions set to "ignore" survive exec;
    only the main thread may set them) and so do the workers it forks: none dies
    mid-parse, and the polling process decides when to stop. Started lazily from a
    poll's thread instead, a signal would kill the forkserver, and with it every
    worker's link to the pool.
    """
    if _parses_inline(feed_count):
        return
    _pool_context()  # its preload, before the server starts
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in STOP_SIGNALS}
    try:
        forkserver.ensure_running()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _InlineExecutor(Executor):
    """Runs each task at once in the calling thread; the same interface as a pool."""

    def submit(self, fn: Callable[..., object], /, *args: object,  # type: ignore[override]
               **kwargs: object) -> Future[object]:
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed over to the caller, as a pool would
            future.set_exception(exc)
        return future


def _safe_fetch(session: requests.Session, limiter: HostLimiter, feed: FeedConfig,
                state: FeedState | None, settings: Settings) -> Poll:
    """fetch_step, with any unexpected exception turned into an error value."""
    try:
        return fetch_step(session, limiter, feed, state, settings)
    except Exception as exc:  # a bug in one feed's handling must not stop the batch
        log.exception("%s: unexpected error while fetching", feed.name)
        return Poll(feed, FetchResult(feed.url, feed.url, None,
                                      error=f"internal error: {exc!r}"))


@dataclass(frozen=True)
class CheckResult:
    """One feed tried once by `feeds check`, nothing stored."""

    feed: str
    url: str
    status: int | None
    entries: int = 0
    title: str | None = None
    moved_to: str | None = None
    error: str | None = None
    elapsed: float = 0.0


def check_feeds(session: requests.Session, config: Config) -> list[CheckResult]:
    """Fetch and parse every feed of `config` once, without conditions and without storing."""
    limiter = HostLimiter(config.settings.per_host)
    feeds = interleave_hosts(config.feeds)
    if not feeds:
        return []
    with ThreadPoolExecutor(min(config.settings.concurrency, len(feeds)), "check") as pool:
        polls = pool.map(lambda f: _safe_fetch(session, limiter, f, None, config.settings),
                         feeds)
        return [_check(poll) for poll in polls]


def _check(poll: Poll) -> CheckResult:
    fetched = poll.fetched
    parsed = None
    if needs_parse(poll) and fetched.content is not None:
        parsed = parse_body(fetched.content, fetched.headers, fetched.final_url)
    return CheckResult(
        feed=poll.feed.name, url=poll.feed.url, status=fetched.status,
        entries=len(parsed.entries) if parsed else 0,
        title=parsed.feed.title if parsed and parsed.feed else None,
        moved_to=fetched.permanent_url,
        error=fetched.error or (parsed.error if parsed else None),
        elapsed=fetched.elapsed,
    )


def describe_outcome(outcome: UpdateOutcome) -> str:
    """A short human line for logs and the CLI."""
    moved = f" (moved permanently to {outcome.moved_to})" if outcome.moved_to else ""
    if outcome.outcome in ("error", "gone"):
        return f"error: {outcome.error}{moved}"
    if outcome.outcome == "not_modified":
        return f"not modified (304) in {outcome.elapsed:.2f} s{moved}"
    if outcome.outcome == "unchanged" and not outcome.new:
        return f"unchanged in {outcome.elapsed:.2f} s{moved}"
    copies = f", {outcome.duplicates} already published elsewhere" if outcome.duplicates else ""
    return (f"{outcome.new} new{copies}, {outcome.updated} updated in "
            f"{outcome.elapsed:.2f} s{moved}")
