"""The runner of the daemon's jobs beside its ticks (poll/background.py): one run at a time
in a thread of its own, a second start refused while one runs, pending work cancelled by
shutdown, a run that raises logged without stopping the runner."""

from __future__ import annotations

import logging
import threading

import pytest

from aggregator.poll.background import BackgroundRunner
from aggregator.store import StoreError

FAILED = "job not done: %s"
WAIT = 30  # seconds; a run here takes milliseconds


@pytest.fixture
def runner() -> BackgroundRunner[int]:
    return BackgroundRunner("test-job", FAILED, threading.Event())


def test_one_run_at_a_time_in_a_thread_of_its_own(runner: BackgroundRunner[int]) -> None:
    release, started = threading.Event(), threading.Event()
    threads: list[str] = []

    def job() -> int:
        threads.append(threading.current_thread().name)
        started.set()
        assert release.wait(WAIT)
        return len(threads)

    first = runner.start(job)
    assert first is not None and started.wait(WAIT)
    assert runner.start(job) is None  # a second request while the first runs
    release.set()
    assert first.result(WAIT) == 1
    again = runner.start(job)  # the first is over: the next start runs
    assert again is not None and again.result(WAIT) == 2
    assert threads[0].startswith("test-job") and threads[0] != threading.main_thread().name
    runner.shutdown()


def test_shutdown_cancels_a_run_not_begun_and_refuses_new_ones(
        runner: BackgroundRunner[int]) -> None:
    busy = threading.Event()
    runner.pool.submit(busy.wait, WAIT)  # the thread taken: the next run waits its turn
    ran: list[int] = []
    pending = runner.start(lambda: ran.append(1) or 1)
    assert pending is not None and not pending.done()
    runner.shutdown()
    busy.set()
    assert pending.cancelled() and ran == []
    assert runner.start(lambda: 2) is None


def test_the_run_under_way_ends_after_shutdown(runner: BackgroundRunner[int]) -> None:
    started = threading.Event()

    def job() -> int:
        started.set()
        assert runner.stop.wait(WAIT)  # as the jobs do: they end when told to stop
        return 3

    run = runner.start(job)
    assert run is not None and started.wait(WAIT)
    runner.stop.set()
    runner.shutdown()
    assert run.result(WAIT) == 3


def test_a_stopping_daemon_starts_no_run(runner: BackgroundRunner[int]) -> None:
    runner.stop.set()
    assert runner.start(lambda: 1) is None
    runner.shutdown()


@pytest.mark.parametrize(("error", "traceback"), [
    (StoreError("database is locked"), False),  # expected: one line
    (ValueError("a bug"), True),  # unexpected: the traceback too
])
def test_a_run_that_raises_is_logged_and_the_next_start_runs(
        runner: BackgroundRunner[int], caplog: pytest.LogCaptureFixture,
        error: Exception, traceback: bool) -> None:
    def fail() -> int:
        raise error

    with caplog.at_level(logging.ERROR, logger="aggregator.poll.background"):
        run = runner.start(fail)
        assert run is not None and run.result(WAIT) is None
    [record] = caplog.records
    assert record.getMessage() == FAILED % error
    assert (record.exc_info is not None) is traceback
    after = runner.start(lambda: 4)
    assert after is not None and after.result(WAIT) == 4
    runner.shutdown()
