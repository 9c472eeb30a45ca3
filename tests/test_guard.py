"""The parse workers' time limit, on real worker processes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from multiprocessing import get_context
from pathlib import Path

import pytest

from aggregator.poll.guard import MAX_BREAKS, GuardedPool
from aggregator.poll.workers import start_worker


def failed(message: str) -> str:
    return f"failed: {message}"


@pytest.fixture
def pool() -> Iterator[GuardedPool]:
    guarded = GuardedPool(2, get_context("forkserver"), start_worker, (os.getpid(),),
                          failed, limit=1.5)
    yield guarded
    guarded.shutdown()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_task_over_the_limit_is_answered_and_its_worker_replaced(pool: GuardedPool) -> None:
    slow_pid = pool.submit(os.getpid).result(timeout=30)
    started = time.monotonic()
    slow = pool.submit(time.sleep, 120)
    others = [pool.submit(pow, 2, n) for n in range(20)]
    assert slow.result(timeout=30) == (
        "failed: parsing and cleaning took longer than 1.5 s: stopped, and its parse "
        "worker replaced")
    assert time.monotonic() - started < 15
    assert [f.result(timeout=30) for f in others] == [2**n for n in range(20)]
    # The pool that killed a worker was replaced: tasks still run, in new workers.
    assert pool.submit(pow, 3, 3).result(timeout=30) == 27
    deadline = time.monotonic() + 10
    while _alive(slow_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(slow_pid)


def test_tasks_in_the_broken_pool_are_sent_again(tmp_path: Path) -> None:
    # Both workers busy when one is killed: the other's task is lost with the pool,
    # and done again by the next one.
    pool = GuardedPool(2, get_context("forkserver"), start_worker, (os.getpid(),), failed,
                       limit=5)
    try:
        for warm in [pool.submit(time.sleep, 1) for _ in range(2)]:
            warm.result(timeout=60)  # both workers started: no spawn delay below
        slow = pool.submit(_mark_then_sleep, tmp_path / "slow", 120)
        _wait_for(tmp_path / "slow")
        time.sleep(3)  # rounds of the watchdog apart: the other task is not over time too
        other = pool.submit(_wait_for, tmp_path / "go", tmp_path / "runs")
        _wait_for(tmp_path / "runs")
        assert slow.result(timeout=30).startswith("failed: ")
        # Sent again once the broken pool is replaced: "go" only then, or the first run
        # could finish before the pool noticed its killed worker.
        deadline = time.monotonic() + 30
        while len((tmp_path / "runs").read_text().split()) < 2 < deadline - time.monotonic():
            time.sleep(0.05)
        (tmp_path / "go").touch()
        assert other.result(timeout=30) == "go"
        runs = (tmp_path / "runs").read_text().split()
        assert len(runs) == 2 and runs[0] != runs[1]  # lost with its worker, run by another
    finally:
        pool.shutdown()


def test_a_task_that_kills_its_worker_is_given_up(pool: GuardedPool) -> None:
    crash = pool.submit(os._exit, 3)
    assert crash.result(timeout=60) == (
        "failed: the parse worker died while parsing this document")
    assert pool.submit(pow, 2, 5).result(timeout=30) == 32


def test_a_crash_is_tried_again_before_it_is_given_up(pool: GuardedPool, tmp_path: Path) -> None:
    # A worker may die for a reason of its own (the OOM killer): the task is tried again.
    crash = pool.submit(_crash_first, tmp_path / "tries")
    assert crash.result(timeout=60) == "second try"
    assert len((tmp_path / "tries").read_text()) == 2 <= MAX_BREAKS + 1


def test_exceptions_reach_the_caller(pool: GuardedPool) -> None:
    with pytest.raises(ZeroDivisionError):
        pool.submit(divmod, 1, 0).result(timeout=30)


def _crash_first(tries: Path) -> str:
    with tries.open("a") as handle:
        handle.write("x")
    if len(tries.read_text()) == 1:
        os._exit(9)
    return "second try"


def _mark_then_sleep(path: Path, seconds: float) -> None:
    path.touch()
    time.sleep(seconds)


def _wait_for(path: Path, log: Path | None = None) -> str:
    if log:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
    while not path.exists():
        time.sleep(0.02)
    return path.name
