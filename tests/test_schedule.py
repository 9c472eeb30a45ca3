"""The daemon's tick: poll what is due, render after changes, reload an edited feeds.yaml."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aggregator.config.load import load_config
from aggregator.poll.schedule import Daemon, build_scheduler
from aggregator.store import Store
from tests.conftest import DATA, FeedServer, wait_for, write_config


def _touch_later(path: Path) -> None:
    # Edits within one second can share an mtime on coarse file systems.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def daemon(tmp_path: Path, feed_server: FeedServer) -> Any:
    path = write_config(tmp_path, [
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")},
    ], language="en")
    config = load_config(path)
    store = Store.open(config.settings.database)
    daemon = Daemon(config=config, store=store)
    daemon.reload_config()
    yield daemon
    store.close()


def test_tick_polls_stores_and_renders(daemon: Daemon) -> None:
    daemon.tick()
    index = daemon.config.settings.output_dir / "index.html"
    assert index.is_file()
    assert daemon.store.feed_states()["Vis ma vie"].entry_count == 2
    before = index.stat().st_mtime_ns
    daemon.tick()  # nothing is due: no poll, no render
    assert index.stat().st_mtime_ns == before


def test_edited_config_is_picked_up_at_the_next_tick(
    daemon: Daemon, feed_server: FeedServer
) -> None:
    daemon.tick()
    path = daemon.config.path
    write_config(path.parent, [
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")},
        {"name": "Isabelle", "url": feed_server.serve_file("metier-cp1252.rss")},
    ], language="en")
    _touch_later(path)
    daemon.tick()
    assert [f.name for f in daemon.config.feeds] == ["Vis ma vie", "Isabelle"]
    assert daemon.store.feed_states()["Isabelle"].entry_count == 1
    opml = (daemon.config.settings.output_dir / "feeds.opml").read_text("utf-8")
    assert 'text="Isabelle"' in opml


def test_broken_edit_keeps_the_last_good_config(
    daemon: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    path = daemon.config.path
    good = daemon.config
    write_config(path.parent, [{"name": "sans url"}], language="en")
    _touch_later(path)
    with caplog.at_level(logging.ERROR):
        daemon.tick()
    assert daemon.config is good
    assert "feeds[0].url: missing (required)" in caplog.text
    assert daemon.store.feed_states()["Vis ma vie"].entry_count == 2


def test_daily_digest_is_scheduled_at_digest_time(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [], digest_time="06:45"))
    store = Store.open(config.settings.database)
    try:
        scheduler = build_scheduler(Daemon(config=config, store=store), tick_seconds=60)
        trigger = scheduler.get_job("digest").trigger
        after = datetime(2026, 3, 29, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
        fire = trigger.get_next_fire_time(None, after)
        assert (fire.astimezone(ZoneInfo("Europe/Paris")).date(), fire.hour, fire.minute) == (
            date(2026, 3, 30), 6, 45)
        assert fire.utcoffset() == timedelta(hours=2)  # summer time began that night
    finally:
        store.close()


def _start_daemon(config: Path, *, new_session: bool = False
                  ) -> tuple[subprocess.Popen[str], Path]:
    log_path = config.parent / "daemon.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--config", str(config), "run",
             "--tick", "0.5"], stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=new_session)
    return process, log_path


def _slow_feeds(tmp_path: Path, feed_server: FeedServer, count: int, delay: float) -> Path:
    body = (DATA / "blog-metier.rss").read_bytes()
    feeds = [{"name": f"lent {n:02}", "url": feed_server.set(f"/slow{n}", body, delay=delay)}
             for n in range(count)]
    return write_config(tmp_path, feeds, database="daemon.db", concurrency=4, per_host=4,
                        language="en")


def _wait_for_requests(feed_server: FeedServer, count: int) -> None:
    wait_for(lambda: len(feed_server.requests) >= count, f"the daemon's first {count} fetches")


def test_sigterm_lets_polls_under_way_finish_then_exits_cleanly(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _slow_feeds(tmp_path, feed_server, count=24, delay=1.0)
    process, log_path = _start_daemon(config)
    try:
        _wait_for_requests(feed_server, 4)  # the first fetches are under way
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=35) == 0, log_path.read_text()
    finally:
        process.kill()
    asked = len(feed_server.requests)
    assert asked < 24  # no new poll started after the signal
    log = log_path.read_text()
    assert ("SIGTERM: stopping, waiting for the polls under way to be stored (at most 2 s); "
            "SIGTERM again exits at once") in log and "stopped" in log
    with sqlite3.connect(tmp_path / "daemon.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_feed = [n for (n,) in db.execute("SELECT count(*) FROM entries GROUP BY feed_id")]
        polled = db.execute("SELECT count(*) FROM feeds WHERE last_polled IS NOT NULL")
        assert set(per_feed) <= {4} and len(per_feed) == polled.fetchone()[0] >= 1
    time.sleep(1)
    assert len(feed_server.requests) == asked


def test_sigterm_to_the_whole_process_group_spares_the_parse_workers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Ctrl-C in a terminal, or systemd's default KillMode, signal every process of
    # the group: the parse workers too. Enough feeds for update.py's process pool.
    config = _slow_feeds(tmp_path, feed_server, count=60, delay=0.3)
    process, log_path = _start_daemon(config, new_session=True)
    try:
        _wait_for_requests(feed_server, 12)  # fetched bodies are being parsed
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=35) == 0, log_path.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    log = log_path.read_text()
    assert "Traceback" not in log and "BrokenProcessPool" not in log, log
    asked = len({seen.path for seen in feed_server.requests})
    with sqlite3.connect(tmp_path / "daemon.db") as db:
        polled = db.execute("SELECT count(*) FROM feeds WHERE last_polled IS NOT NULL")
        stored = db.execute("SELECT count(DISTINCT feed_id) FROM entries")
        # Every feed fetched before the signal was parsed and stored whole.
        assert polled.fetchone()[0] == stored.fetchone()[0] == asked, log


def test_second_signal_exits_at_once(tmp_path: Path, feed_server: FeedServer) -> None:
    config = _slow_feeds(tmp_path, feed_server, count=4, delay=20.0)
    process, log_path = _start_daemon(config)
    try:
        _wait_for_requests(feed_server, 4)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 1
        assert time.monotonic() - started < 5
    finally:
        process.kill()
    assert "second SIGINT: exiting now" in log_path.read_text()


def _wait_started(process: subprocess.Popen[Any], log_path: Path,
                  text: str = "running: 1 feed,") -> None:
    """Until the daemon's log shows `text` (by "running:", its signal handlers are set)."""
    def started() -> bool:
        assert process.poll() is None, log_path.read_text()
        return text in log_path.read_text()

    wait_for(started, f"{text!r} in the daemon's log")


def test_a_second_daemon_on_the_same_database_refuses(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _slow_feeds(tmp_path, feed_server, count=1, delay=0.0)
    first, log_path = _start_daemon(config)
    try:
        _wait_started(first, log_path)
        second = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config),
                                 "run"], capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert (f"another `aggregator run` (pid {first.pid}, started " in second.stderr
                and f"already uses {tmp_path / 'daemon.db'}; stop it first" in second.stderr
                ), second.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert not (tmp_path / "daemon.db.run.lock").exists()  # removed on a clean exit
    # The lock went with the first daemon: a new one starts.
    again, again_log = _start_daemon(config)
    try:
        _wait_started(again, again_log)
        assert again.poll() is None
    finally:
        again.terminate()
        assert again.wait(timeout=30) == 0


def test_json_logs_give_one_object_a_line_with_each_poll(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _slow_feeds(tmp_path, feed_server, count=1, delay=0.0)
    log_path = tmp_path / "json.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--log-format", "json", "--config",
             str(config), "run", "--tick", "0.5"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        _wait_started(process, log_path, '"outcome"')
    finally:
        process.terminate()
        process.wait(timeout=30)
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    poll = next(r for r in records if "outcome" in r)
    assert (poll["feed"], poll["outcome"], poll["new"], poll["level"]) == (
        "lent 00", "new", 4, "INFO")
    assert poll["message"].startswith("lent 00: 4 new")
    assert {"time", "logger"} <= poll.keys()
