"""A run killed with SIGKILL loses nothing and stores nothing twice when started again."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DATA, FeedServer, write_config

FEEDS = 120
ENTRIES_PER_FEED = 4


def _count(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _fetch(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(config),
                             "-q", "fetch"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_kill_9_mid_run_then_restart(tmp_path: Path, feed_server: FeedServer) -> None:
    body = (DATA / "blog-metier.rss").read_bytes()
    feeds = [{"name": f"blog {n:03}", "url": feed_server.set(f"/f{n}", body, delay=0.03)}
             for n in range(FEEDS)]
    config = write_config(tmp_path, feeds, database="crash.db")
    database = tmp_path / "crash.db"

    process = _fetch(config)
    deadline = time.monotonic() + 60
    while _count(database) < FEEDS * ENTRIES_PER_FEED // 4 and time.monotonic() < deadline:
        assert process.poll() is None, "the run finished before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stored_at_kill = _count(database)
    assert 0 < stored_at_kill < FEEDS * ENTRIES_PER_FEED

    # Whole feeds only: every feed has all its entries or none of them.
    with sqlite3.connect(database) as db:
        per_feed = [n for (n,) in db.execute(
            "SELECT count(*) FROM entries GROUP BY feed_id")]
        assert set(per_feed) == {ENTRIES_PER_FEED}

    restarted = _fetch(config)
    assert restarted.wait(timeout=120) == 0
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, distinct = db.execute(
            "SELECT count(*), count(DISTINCT feed_id || ' ' || identity) FROM entries"
        ).fetchone()
        assert total == distinct == FEEDS * ENTRIES_PER_FEED
        polled = db.execute("SELECT count(*) FROM feeds WHERE last_success IS NOT NULL")
        assert polled.fetchone()[0] == FEEDS
    # Feeds stored before the kill were not due, so the restart did not ask them again.
    assert len(feed_server.requests) < 2 * FEEDS
