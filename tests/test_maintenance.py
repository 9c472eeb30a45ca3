"""Keeping the database in shape: prune by retention, vacuum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from aggregator.cli import main
from tests.conftest import FeedServer, write_config


def _month(n: int) -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=30 * n)


def _blog(count: int) -> bytes:
    """A feed with one post a month, newest first, from November 2026 back."""
    items = "".join(
        f"<item><title>Billet {n}</title><guid>b{n}</guid>"
        f"<link>https://b.example/{n}</link>"
        f"<pubDate>{_month(n):%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
        f"<description>Le billet numéro {n}, sur un sujet différent.</description></item>"
        for n in range(count))
    return (f"<rss version='2.0'><channel><title>B</title><link>https://b.example/</link>"
            f"{items}</channel></rss>").encode()


def test_prune_keeps_recent_and_newest_per_feed(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    a = feed_server.set("/a", _blog(24))
    b = feed_server.set("/b", _blog(3))
    path = write_config(tmp_path, [{"name": "A", "url": a}, {"name": "B", "url": b}],
                        database=database_url, retention="365d", keep_per_feed=5)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(path), "fetch"]).exit_code == 0
    dry = runner.invoke(main, ["--config", str(path), "prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    # Posts older than a year (from today): A's 12+ months back; B is within its newest 5.
    now = datetime.now(UTC)
    old = sum(1 for n in range(24) if _month(n) < now - timedelta(days=365) and n >= 5)
    assert f"A: {old}" in dry.output and "B:" not in dry.output
    assert f"Would remove {old} entries" in dry.output
    status = runner.invoke(main, ["--config", str(path), "status", "--json"]).output
    assert '"entries": 24' in status
    done = runner.invoke(main, ["--config", str(path), "prune"])
    assert f"Removed {old} entries" in done.output
    status = runner.invoke(main, ["--config", str(path), "status", "--json"]).output
    assert f'"entries": {24 - old}' in status and '"entries": 3' in status
    again = runner.invoke(main, ["--config", str(path), "prune"])
    assert "Removed 0 entries" in again.output
    vacuumed = runner.invoke(main, ["--config", str(path), "vacuum"])
    assert vacuumed.exit_code == 0, vacuumed.output


def test_prune_without_retention_removes_nothing(tmp_path: Path, make_config: Any) -> None:
    config = make_config([])
    result = CliRunner().invoke(main, ["--config", str(config.path), "prune"])
    assert result.exit_code == 0
    assert "settings.retention is not set" in result.output
