"""The parse workers: a process pool forked from a forkserver, or the calling thread."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from multiprocessing import forkserver, get_context
from multiprocessing.context import BaseContext

from aggregator.models import Parsed
from aggregator.poll.guard import GuardedPool
from aggregator.poll.workers import STOP_SIGNALS, start_worker

# Below this many feeds, starting worker processes costs more than it saves.
PROCESS_POOL_MIN_FEEDS = 40
PARSES_QUEUED_PER_CORE = 4  # see in_flight_limit


def in_flight_limit(fetchers: int) -> int:
    """Polls fetched or parsing at a time, at most.

    Bounded hand-offs: a fetched body waits for a parser only while the parsers are
    busy, so memory holds a few bodies, not the whole run's. Four a core keep the
    parsers fed while this thread stores a group: a first poll of 1,000 feeds used
    1.70 cores of 2 with them as with eight, and 3 MB less memory (1.71 with two).
    """
    return fetchers + PARSES_QUEUED_PER_CORE * (os.cpu_count() or 1)


@contextmanager
def parse_pool(feed_count: int) -> Iterator[Executor]:
    """Worker processes for many feeds on several cores; the calling thread otherwise."""
    if _parses_inline(feed_count):
        with _InlineExecutor() as inline:
            yield inline
        return
    pool = GuardedPool(os.cpu_count() or 1, _pool_context(), start_worker, (os.getpid(),),
                       failed=lambda error: Parsed(error=error))
    try:
        yield pool
    except BaseException:
        # A stop or an error leaves the parses under way: they are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _parses_inline(feed_count: int) -> bool:
    """Whether a batch of `feed_count` feeds parses in the calling thread, not in a pool."""
    return feed_count < PROCESS_POOL_MIN_FEEDS or (os.cpu_count() or 1) < 2


def _pool_context() -> BaseContext:
    # forkserver: forking a process that runs fetch threads could copy a held lock.
    context = get_context("forkserver")
    # Nothing preloaded: each worker imports what parsing needs (feedparser, nh3, the
    # cleaning; ftfy only when it repairs text), in 0.1 s of CPU, not SQLAlchemy or
    # requests. Preloaded, those modules were resident in the forkserver as well as in
    # each worker: a first poll of 1,000 feeds had a summed RSS 18-20 MB larger (PSS
    # 7 MB). Never '__main__' (multiprocessing's default): the server would run the
    # main script.
    context.set_forkserver_preload([])
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
