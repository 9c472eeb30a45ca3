"""The daemon's tick: poll what is due, render after changes, reload an edited feeds.yaml."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from aggregator.config import load_config
from aggregator.schedule import Daemon
from aggregator.store import Store
from tests.conftest import FeedServer, write_config


def _touch_later(path: Path) -> None:
    # Edits within one second can share an mtime on coarse file systems.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def daemon(tmp_path: Path, feed_server: FeedServer) -> Any:
    path = write_config(tmp_path, [
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")},
    ])
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
    ])
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
    write_config(path.parent, [{"name": "sans url"}])
    _touch_later(path)
    with caplog.at_level(logging.ERROR):
        daemon.tick()
    assert daemon.config is good
    assert "feeds[0].url: missing (required)" in caplog.text
    assert daemon.store.feed_states()["Vis ma vie"].entry_count == 2
