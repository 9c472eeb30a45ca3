"""The progress bar of `fetch` and `feeds check`, seen on a real terminal (a pty): log lines
printed above it, never into it, and the bar still reaching its total."""

from __future__ import annotations

import os
import pty
import re
import select
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from aggregator.cli import main
from tests.conftest import DATA, FeedServer, write_config

ROOT = Path(__file__).parent.parent
FEEDS = 4
# Cursor moves, erasures and colours: what a terminal acts on and a person never reads.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _feeds(tmp_path: Path, feed_server: FeedServer) -> Path:
    body = (DATA / "blog-metier.rss").read_bytes()
    # Slow enough that the bar is drawn a few times while the feeds are fetched.
    feeds = [{"name": f"blog {n}", "url": feed_server.set(f"/feed{n}", body, delay=0.5)}
             for n in range(FEEDS)]
    return write_config(tmp_path, feeds, concurrency=2, per_host=2, language="en")


def _on_a_terminal(config: Path, *args: str, columns: int = 120) -> tuple[int, list[str]]:
    """Run the command with a pty as its stdout and stderr; its exit status and the lines a
    person would read (rich's control sequences dropped, each redraw on a line of its own)."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm",
           "COLUMNS": str(columns)}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(config),
                                *args], stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=terminal, env=env, cwd=config.parent)
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        status = process.wait(timeout=30)
    finally:
        process.kill()
        os.close(controller)
    text = ANSI.sub("", seen.decode("utf-8", "replace"))
    return status, [line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def _dead_worker() -> str:
    """The name a worker of this host had, whose process has ended."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return f"{socket.gethostname()}:{ended.pid}"


def test_a_log_line_is_printed_above_the_fetch_bar(tmp_path: Path,
                                                   feed_server: FeedServer) -> None:
    config = _feeds(tmp_path, feed_server)
    first = CliRunner().invoke(main, ["--config", str(config), "fetch"])
    assert first.exit_code == 0, first.output
    # An interrupted run left its leases on every feed.
    with sqlite3.connect(tmp_path / "test.db") as db:
        db.execute("UPDATE feeds SET claimed_by = ?, claimed_until = '2999-01-01 00:00:00'",
                   (_dead_worker(),))

    status, lines = _on_a_terminal(config, "fetch", "--force")

    assert status == 0, lines
    told = [line for line in lines if "interrupted run" in line]
    assert len(told) == 1, lines
    assert re.fullmatch(rf"\S+ \S+ INFO aggregator\.poll\.claims: {FEEDS} feeds left by an "
                        r"interrupted run are polled again", told[0]), told
    assert not [line for line in lines if "Polling" in line and "INFO" in line], lines
    assert any(re.search(rf"Polling.*\b{FEEDS}/{FEEDS}\b", line) for line in lines), lines
    assert f"{FEEDS} feeds polled in" in "\n".join(lines)
    # The worker's name (host:pid) is for --verbose only.
    assert socket.gethostname() not in "\n".join(lines)


def test_feeds_check_shows_a_bar_on_a_terminal(tmp_path: Path,
                                                feed_server: FeedServer) -> None:
    status, lines = _on_a_terminal(_feeds(tmp_path, feed_server), "feeds", "check")

    assert status == 0, lines
    assert any(re.search(rf"Checking.*\b{FEEDS}/{FEEDS}\b", line) for line in lines), lines
    assert f"{FEEDS} ok, 0 failed." in lines, lines
    assert not [line for line in lines if line.startswith("checked ")], lines


def test_feeds_check_tells_each_feed_in_plain_lines_elsewhere(
        tmp_path: Path, feed_server: FeedServer, refused_url: str) -> None:
    config = _feeds(tmp_path, feed_server)
    config.write_text(config.read_text().replace(feed_server.url("/feed3"), refused_url))

    result = CliRunner().invoke(main, ["--config", str(config), "feeds", "check"])

    assert result.exit_code == 1, result.output
    told = result.stderr.splitlines()
    assert {line.split(": ", 1)[1] for line in told} == {
        "blog 0 (ok)", "blog 1 (ok)", "blog 2 (ok)", "blog 3 (failed)"}, result.stderr
    assert {line.split(": ", 1)[0] for line in told} == {
        f"checked {n}/{FEEDS}" for n in range(1, FEEDS + 1)}, result.stderr
    assert "\x1b" not in result.output and "Checking" not in result.output


def test_fetch_report_wraps_between_words_on_a_narrow_terminal(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = _feeds(tmp_path, feed_server)

    # 30 columns: the totals take three lines.
    status, lines = _on_a_terminal(config, "fetch", "--force", columns=30)

    assert status == 0, lines
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{FEEDS} feeds polled"))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith("."))
    assert end > start and all(len(line) <= 30 for line in lines[start:end + 1]), lines
    # Cut between words: the lines joined with a space give the sentence back.
    assert re.fullmatch(rf"{FEEDS} feeds polled in [0-9.]+ s: {FEEDS} new entries, 12 already "
                        r"published elsewhere\.",
                        " ".join(lines[start:end + 1])), lines
