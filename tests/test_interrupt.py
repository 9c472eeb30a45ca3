"""Ctrl-C (SIGINT) and a service stop (SIGTERM) during `fetch` and `run`, sent to the real
command: what was fetched is stored, what is still downloading is abandoned within seconds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, FeedServer, wait_for, write_config

ROOT = Path(__file__).parent.parent
FAST, SLOW = 3, 3
SLOW_DELAY = 30.0  # seconds: longer than settings.timeout (10 s), far longer than a stop


def _feeds(tmp_path: Path, feed_server: FeedServer) -> Path:
    body = (DATA / "blog-metier.rss").read_bytes()
    feeds = [{"name": f"rapide {n}", "url": feed_server.set(f"/fast{n}", body)}
             for n in range(FAST)]
    feeds += [{"name": f"lent {n}", "url": feed_server.set(f"/slow{n}", body,
                                                          delay=SLOW_DELAY)}
              for n in range(SLOW)]
    return write_config(tmp_path, feeds, concurrency=8, per_host=8, language="en")


def _start(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(config),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _wait_until_all_asked(feed_server: FeedServer, process: subprocess.Popen[str]) -> None:
    """Until every feed's request arrived: the fast ones answered, the slow ones waiting."""
    def all_asked() -> bool:
        assert process.poll() is None, process.communicate()
        return len({seen.path for seen in feed_server.requests}) >= FAST + SLOW

    wait_for(all_asked, "every feed asked for", 60)
    time.sleep(1.0)  # the fast answers parsed (they may still wait for their group)


def _stored(database: Path) -> dict[str, tuple[int, bool, str | None]]:
    """Per feed: its entries, whether it was polled, and who claims it."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT f.name, count(e.id), f.last_polled IS NOT NULL, f.claimed_by "
            "FROM feeds f LEFT JOIN entries e ON e.feed_id = f.id GROUP BY f.id")
        return {name: (entries, bool(polled), claim) for name, entries, polled, claim in rows}


@pytest.mark.parametrize(("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)],
                         ids=["SIGINT", "SIGTERM"])
def test_fetch_stops_keeping_what_it_fetched(
    tmp_path: Path, feed_server: FeedServer, number: signal.Signals, status: int
) -> None:
    config = _feeds(tmp_path, feed_server)
    process = _start(config, "fetch")
    try:
        _wait_until_all_asked(feed_server, process)
        process.send_signal(number)
        sent = time.monotonic()
        out, err = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == status, err
    assert took < 5, f"took {took:.1f} s to stop"
    assert "Traceback" not in err, err
    assert (f"{number.name}: storing the polls fetched; those under way get 2 s. "
            "Ctrl-C again quits at once.") in out
    assert "3 feeds polled in " in out
    assert (f"Stopped by {number.name}: the 3 polls finished are stored; the feeds not "
            "polled wait for the next fetch.") in out
    stored = _stored(tmp_path / "test.db")
    for n in range(FAST):  # fetched before the signal: stored whole (the same 4 entries each)
        assert stored[f"rapide {n}"] == (4, True, None)
    for n in range(SLOW):  # abandoned: not polled, and free for the next fetch to take
        assert stored[f"lent {n}"] == (0, False, None)


def test_fetch_second_ctrl_c_exits_at_once(tmp_path: Path, feed_server: FeedServer) -> None:
    config = _feeds(tmp_path, feed_server)
    process = _start(config, "fetch")
    try:
        _wait_until_all_asked(feed_server, process)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)  # two signals at once would be one: the handler would run once
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _out, err = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == 130
    assert took < 1.5, f"took {took:.1f} s to stop"  # not the first signal's 2 s of grace
    assert "Stopped at once: the polls under way are abandoned." in err


def test_run_says_what_it_waits_for_and_stops_within_seconds(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _feeds(tmp_path, feed_server)
    process = _start(config, "run", "--tick", "0.5")
    try:
        _wait_until_all_asked(feed_server, process)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _out, err = process.communicate(timeout=40)
        took = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert took < 5, f"took {took:.1f} s to stop"
    assert ("SIGINT: stopping, waiting for the polls under way to be stored (at most 2 s); "
            "Ctrl-C again exits at once") in err
    assert "stopped" in err and "Traceback" not in err
    stored = _stored(tmp_path / "test.db")
    assert [stored[f"rapide {n}"] for n in range(FAST)] == [(4, True, None)] * FAST
    assert [stored[f"lent {n}"] for n in range(SLOW)] == [(0, False, None)] * SLOW


def test_ctrl_c_while_the_command_starts_exits_130_without_a_traceback() -> None:
    # The signal lands while the CLI's modules load (half a second): a hook makes it land
    # there every time.
    code = ("import sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'aggregator.cli':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "from aggregator.__main__ import main\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
