"""The parse workers watched: a document parsed too long has its worker killed and the pool
replaced; that feed gets an error, the other documents are handed to the new pool.

A pure-Python time limit cannot stop nh3 or feedparser mid-call, and a process pool
whose worker is killed fails every task it holds. So each worker notes in shared memory
which task it runs and since when; a watchdog thread in the polling process kills the
worker of a task over the limit, answers that task with an error value, and sends the
tasks the broken pool dropped to a new one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

# A document that takes longer is a hostile or broken one: 1,000 ordinary feeds parse in
# about a minute on two cores, the slowest one in a second or two.
PARSE_TIME_LIMIT = 60.0
# A task whose pool broke this many times without its worker being the one over time
# (a crash: a segfault, the kernel's OOM killer) is not tried again.
MAX_BREAKS = 2
_FIELDS = 3  # per worker in the shared table: pid, task number, start (monotonic)

_slot = -1  # in a worker: its row of the shared table
_table: Any = None


@dataclass
class _Task:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    breaks: int = 0
    resend: bool = False


class GuardedPool(Executor):
    """A process pool whose tasks each get at most `limit` seconds of a worker.

    `failed(message)` is the result a task gets when it ran too long or kept breaking
    its pool: the run loop takes results, not exceptions, from the parse workers.
    """

    def __init__(self, workers: int, context: BaseContext, initializer: Callable[..., None],
                 initargs: Sequence[object], failed: Callable[[str], object], *,
                 limit: float = PARSE_TIME_LIMIT) -> None:
        self._workers, self._context = workers, context
        self._start = (initializer, tuple(initargs))
        self._failed, self.limit = failed, limit
        self._lock = threading.RLock()  # a task done at once is settled inside _send
        self._tasks: dict[int, _Task] = {}
        self._numbers = itertools.count(1)
        self._generation = 0  # of the pool, counted from 1
        self._pool, self._table = self._new_pool()
        self._killed: set[int] = set()  # the generations broken on purpose: by the watchdog
        self._closing = threading.Event()  # no pool replaced any more
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="parse-watchdog",
                                          daemon=True)
        self._watchdog.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("GuardedPool.submit takes positional arguments only")
        with self._lock:
            number = next(self._numbers)
            task = self._tasks[number] = _Task(Future(), fn, args)
            self._send(number, task)
        return task.future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # The watchdog outlives the pool: a task still running when shutdown waits for it
        # is stopped at its limit too.
        with self._lock:
            self._closing.set()
            pool = self._pool
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._stop.set()
        if wait:
            self._watchdog.join()

    def _new_pool(self) -> tuple[ProcessPoolExecutor, Any]:
        self._generation += 1
        table = self._context.Array("d", _FIELDS * self._workers)
        initargs: tuple[Any, ...] = (table, self._start[0], *self._start[1])
        pool = ProcessPoolExecutor(self._workers, mp_context=self._context,
                                   initializer=_start_watched, initargs=initargs)
        return pool, table

    def _send(self, number: int, task: _Task) -> None:
        """Hand `task` to the current pool (the lock held)."""
        task.resend = False
        generation = self._generation
        try:
            inner = self._pool.submit(_run_watched, number, task.fn, *task.args)
        except BrokenProcessPool:  # the watchdog has yet to replace it
            task.resend = True
            return
        inner.add_done_callback(lambda done: self._settle(number, generation, done))

    def _settle(self, number: int, generation: int, done: Future[Any]) -> None:
        """A worker's answer reaches the caller; a task its broken pool dropped waits to
        be sent again by the watchdog."""
        with self._lock:
            task = self._tasks.get(number)
            if task is None:  # answered already: its worker ran over time
                return
            error = None if done.cancelled() else done.exception()
            if isinstance(error, BrokenProcessPool) and not self._closing.is_set():
                task.breaks += generation not in self._killed
                task.resend = True
                return
            del self._tasks[number]
        if done.cancelled():
            task.future.cancel()
        elif error is not None:
            task.future.set_exception(error)
        else:
            task.future.set_result(done.result())

    def _watch(self) -> None:
        period = min(1.0, self.limit / 4)
        while not self._stop.wait(period):
            for number in self._overdue():
                self._answer(number, f"parsing and cleaning took longer than {self.limit:g} s: "
                                     "stopped, and its parse worker replaced")
            self._resend()

    def _overdue(self) -> list[int]:
        """Kill the workers whose task ran over the limit; their tasks' numbers."""
        now, late = time.monotonic(), []
        with self._lock:
            table, generation = self._table, self._generation
        for row in range(self._workers):
            # One read under the table's lock: a worker clears the start before it
            # writes the next task's number, so a row read whole is never two tasks'.
            pid, number, started = table[row * _FIELDS: row * _FIELDS + _FIELDS]
            if started and now - started > self.limit:
                late.append(int(number))
                with self._lock:
                    self._killed.add(generation)
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.kill(int(pid), signal.SIGKILL)
        return late

    def _answer(self, number: int, message: str) -> None:
        with self._lock:
            task = self._tasks.pop(number, None)
        if task is not None:
            task.future.set_result(self._failed(message))

    def _resend(self) -> None:
        """Send the tasks a broken pool dropped to a new pool, but those that keep
        breaking pools (they crash their worker)."""
        with self._lock:
            waiting = [(n, t) for n, t in self._tasks.items() if t.resend]
            if not waiting or self._closing.is_set():
                return
            self._pool.shutdown(wait=False)
            self._pool, self._table = self._new_pool()
            crashing = [n for n, t in waiting if t.breaks > MAX_BREAKS]
            for number, task in waiting:
                if task.breaks <= MAX_BREAKS:
                    self._send(number, task)
        for number in crashing:
            self._answer(number, "the parse worker died while parsing this document")


def _start_watched(table: Any, initializer: Callable[..., None], *args: object) -> None:
    """In a new worker: take a row of the shared table, then start as `initializer` says."""
    global _slot, _table
    with table.get_lock():
        _slot = next(row for row in range(len(table) // _FIELDS) if not table[row * _FIELDS])
        table[_slot * _FIELDS] = os.getpid()
    _table = table
    initializer(*args)


def _run_watched(number: int, fn: Callable[..., Any], *args: Any) -> Any:
    """In a worker: run one task, its number and start written where the watchdog reads."""
    row = _slot * _FIELDS
    _table[row + 1] = number
    _table[row + 2] = time.monotonic()
    try:
        return fn(*args)
    finally:
        _table[row + 2] = 0.0
