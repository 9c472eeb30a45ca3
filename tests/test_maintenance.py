"""Keeping the database in shape: prune by retention, vacuum."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from aggregator.cli import main
from aggregator.config.load import load_config
from aggregator.store import Store
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
                        database=database_url, retention="365d", keep_per_feed=5,
                        language="en")
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
    if database_url.startswith("sqlite"):
        assert re.match(rf"Vacuumed {re.escape(str(tmp_path / 'test.db'))} \(\d+\.\d MB before, "
                        r"\d+\.\d MB after\)\.", vacuumed.output), vacuumed.output
    else:
        assert "Vacuumed postgresql+psycopg://" in vacuumed.output


def test_prune_without_retention_removes_nothing(tmp_path: Path, make_config: Any) -> None:
    config = make_config([], language="en")
    result = CliRunner().invoke(main, ["--config", str(config.path), "prune"])
    assert result.exit_code == 0
    assert "settings.retention is not set" in result.output


def _articles(path: Path) -> list[tuple[object, ...]]:
    config = load_config(path)
    store = Store.open(config.settings.database)
    try:
        return sorted((e.title, e.feed_name, e.link, e.dated, e.first_seen, e.author,
                       tuple(c.feed_name for c in e.copies), e.enclosures)
                      for e in store.latest_entries(100))
    finally:
        store.close()


def test_export_then_import_into_another_database(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    demo = Path(__file__).parent.parent / "aggregator" / "demo" / "feeds"
    feeds = [{"name": p.stem, "url": feed_server.set("/" + p.name, p.read_bytes()),
              "tags": ["démo"]}
             for p in sorted(demo.glob("*.*")) if p.suffix != ".md"]
    (tmp_path / "source").mkdir()
    source = write_config(tmp_path / "source", feeds, database="source.db", language="en")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(source), "fetch"]).exit_code == 0
    dump = tmp_path / "entries.jsonl"
    exported = runner.invoke(main, ["--config", str(source), "export", "--output", str(dump)])
    assert exported.exit_code == 0, exported.output
    assert "Exported 11 entries" in exported.output
    assert len(dump.read_text("utf-8").splitlines()) == 11

    (tmp_path / "target").mkdir()
    target = write_config(tmp_path / "target", feeds, database=database_url, language="en")
    imported = runner.invoke(main, ["--config", str(target), "import", str(dump)])
    assert imported.exit_code == 0, imported.output
    assert "Imported from" in imported.output and "8 entries, 3 copies" in imported.output
    assert _articles(target) == _articles(source)
    assert (tmp_path / "target" / "public" / "atom.xml").is_file()
    again = runner.invoke(main, ["--config", str(target), "import", str(dump)])
    assert "0 entries, 0 copies" in again.output  # nothing is stored twice


def test_import_names_the_bad_line(tmp_path: Path, make_config: Any) -> None:
    config = make_config([], language="en")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('\n{"feed": {"name": "A", "url": "https://a.example/"}}\n', "utf-8")
    result = CliRunner().invoke(main, ["--config", str(config.path), "import", str(bad)])
    assert result.exit_code == 1
    assert "bad.jsonl: line 2: not an exported entry" in result.output.replace("\n", "")
