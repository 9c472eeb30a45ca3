"""Alerts end to end: real feeds on loopback, a real database, and Apprise posting to a real
loopback HTTP receiver (json://127.0.0.1:PORT/...)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from aggregator import i18n
from aggregator.cli.app import main
from aggregator.config.load import Config, load_config
from aggregator.deliver.alerts_send import run_alerts
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.poll.schedule import Daemon
from aggregator.store import Store
from tests.conftest import FeedServer, write_config

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class Receiver:
    """A loopback HTTP server that records the JSON each POST carries; `status` answers."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                if receiver.status == 200:
                    receiver.posts.append(json.loads(body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/veille"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


def rss(items: list[tuple[str, str, datetime]]) -> bytes:
    """An RSS document of (title, slug, published) items, each with its own text."""
    entries = "".join(
        f"<item><title>{title}</title><link>https://blog.example/{slug}</link>"
        f"<guid>https://blog.example/{slug}</guid><pubDate>{format_datetime(when)}</pubDate>"
        f"<description>Un billet sur {title}, {slug}, et rien d’autre de commun.</description>"
        "</item>" for title, slug, when in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
            f"<link>https://blog.example/</link>{entries}</channel></rss>").encode()


def configure(tmp_path: Path, feeds: list[dict[str, Any]], notify: list[str],
              database: str | None = None, **settings: Any) -> Config:
    path = write_config(tmp_path, feeds, database=database or "test.db", **settings)
    yaml = YAML()
    document = yaml.load(path)
    document["alerts"] = [{"name": "ma-marque", "match": [{"keyword": "Ma Marque"}],
                           "notify": notify}]
    yaml.dump(document, path)
    return load_config(path)


def poll(config: Config, now: datetime) -> None:
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, now, force=True)
    finally:
        store.close()


def alerts(config: Config, since: datetime, now: datetime) -> tuple[int, int]:
    """One round of alerts with a Store of its own, as after a restart, in the language of
    feeds.yaml as the commands and the daemon speak it."""
    i18n.use(config.settings.language)
    store = Store.open(config.settings.database)
    try:
        run = run_alerts(store, config, since, now)
    finally:
        store.close()
    return run.sent, run.failed


def test_one_message_per_cycle_with_the_new_matching_articles(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, database_url: str) -> None:
    items = [("Ma Marque lance un produit", "a", NOW - timedelta(hours=3)),
             ("Un sujet sans rapport", "b", NOW - timedelta(hours=2)),
             ("Pourquoi ma marque plaît", "c", NOW - timedelta(hours=1))]
    url = feed_server.set("/feed.rss", rss(items))
    config = configure(tmp_path, [{"name": "Blog CM", "url": url}], [receiver.url],
                       database_url)
    poll(config, NOW)
    assert alerts(config, NOW, NOW) == (1, 0)
    [post] = receiver.posts
    assert post["title"] == "Alerte «\u00a0ma-marque\u00a0»\u00a0: 2 nouveaux articles"
    assert post["message"].splitlines() == [
        "• Ma Marque lance un produit — Blog", "  https://blog.example/a",
        "• Pourquoi ma marque plaît — Blog", "  https://blog.example/c"]
    # The next cycle: only the article new since, in one message.
    later = NOW + timedelta(hours=1)
    feed_server.set("/feed.rss", rss([*items, ("Ma Marque recrute", "d", later)]))
    poll(config, later)
    assert alerts(config, later, later) == (1, 0)
    assert receiver.posts[1]["title"] == "Alerte «\u00a0ma-marque\u00a0»\u00a0: 1 nouvel article"
    assert "Ma Marque recrute" in receiver.posts[1]["message"]
    assert "lance" not in receiver.posts[1]["message"]
    # A restart (a new Store, the same database) asked again from the start: nothing.
    assert alerts(config, NOW, later) == (0, 0)
    assert len(receiver.posts) == 2


def test_a_backlog_older_than_alert_max_age_sets_off_nothing(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    items = [("Ma Marque en 2024", "old", NOW - timedelta(days=3)),
             ("Ma Marque hier", "new", NOW - timedelta(hours=20))]
    url = feed_server.set("/feed.rss", rss(items))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url])
    poll(config, NOW)
    assert alerts(config, NOW, NOW) == (1, 0)
    assert "Ma Marque hier" in receiver.posts[0]["message"]
    assert "2024" not in receiver.posts[0]["message"]
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url],
                       alert_max_age="12h")
    feed_server.set("/feed.rss", rss([*items, ("Ma Marque avant-hier", "x",
                                               NOW - timedelta(hours=13))]))
    poll(config, NOW + timedelta(minutes=5))
    assert alerts(config, NOW + timedelta(minutes=5), NOW + timedelta(minutes=5)) == (0, 0)


def test_an_article_and_its_copies_alert_once(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    items = [("Ma Marque lance un produit", "a", NOW - timedelta(hours=3))]
    feeds = [{"name": "Blog", "url": feed_server.set("/one.rss", rss(items))},
             {"name": "Relais", "url": feed_server.set("/two.rss", rss(items))}]
    config = configure(tmp_path, feeds, [receiver.url])
    poll(config, NOW)
    assert alerts(config, NOW, NOW) == (1, 0)
    assert receiver.posts[0]["message"].count("Ma Marque lance un produit") == 1


def test_eleven_articles_list_ten_then_the_others(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    items = [(f"Ma Marque numéro {n}", f"n{n}", NOW - timedelta(minutes=n)) for n in range(12)]
    url = feed_server.set("/feed.rss", rss(items))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url])
    poll(config, NOW)
    assert alerts(config, NOW, NOW) == (1, 0)
    message = receiver.posts[0]["message"]
    assert message.count("• ") == 10
    assert message.endswith("et 2 autres")


def test_a_failing_target_is_retried_next_cycle_and_shown_in_status(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, refused_url: str) -> None:
    now = datetime.now(UTC)  # `status` and `alerts list` read the clock
    items = [("Ma Marque lance un produit", "a", now - timedelta(hours=3))]
    url = feed_server.set("/feed.rss", rss(items))
    refused = "json://" + refused_url.split("://", 1)[1]
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url, refused])
    receiver.status = 500
    poll(config, now)
    assert alerts(config, now, now) == (0, 2)
    status = CliRunner().invoke(main, ["--config", str(config.path), "status"],
                                env={"COLUMNS": "200"})
    assert status.exit_code == 0, status.output
    assert "1 article pas encore envoyé" in status.output
    assert "500" in status.output
    # The next cycle, with no new article: the 500 target gets it now, the refused one not.
    receiver.status = 200
    later = now + timedelta(minutes=30)
    assert alerts(config, later, later) == (1, 1)
    assert "Ma Marque lance un produit" in receiver.posts[0]["message"]
    assert alerts(config, later, later + timedelta(minutes=1)) == (0, 1)
    assert len(receiver.posts) == 1
    listed = CliRunner().invoke(main, ["--config", str(config.path), "alerts", "list"],
                                env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "mot-clé 'Ma Marque'" in listed.output and "keyword" not in listed.output
    assert "1 article pas encore envoyé" in listed.output  # the refused target
    assert "│ ok " in listed.output  # the one that answered 500, then 200


def test_two_workers_send_each_article_once(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, database_url: str) -> None:
    items = [(f"Ma Marque {n}", f"n{n}", NOW - timedelta(hours=n)) for n in range(3)]
    url = feed_server.set("/feed.rss", rss(items))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url], database_url)
    poll(config, NOW)
    receiver.delay = 0.3  # both claim while the first send is under way
    results: list[tuple[int, int]] = []
    workers = [threading.Thread(target=lambda: results.append(alerts(config, NOW, NOW)))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == [(0, 0), (1, 0)]
    assert len(receiver.posts) == 1
    assert receiver.posts[0]["message"].count("• ") == 3


def test_the_daemon_polls_on_while_a_slow_target_is_sent_to(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    now = datetime.now(UTC)
    url = feed_server.set("/feed.rss", rss([("Ma Marque", "a", now - timedelta(hours=1))]))
    # The receiver answers after 6 s; Apprise is told to wait up to 10 s for it.
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url + "?rto=10"])
    store = Store.open(config.settings.database)
    receiver.delay = 6.0
    daemon = Daemon(config=config, store=store)
    try:
        started = time.monotonic()
        daemon.tick()
        tick_took = time.monotonic() - started
        # The poll was stored and the pages rendered while the alert still waits.
        assert store.feed_states()["Blog"].entry_count == 1
        assert (config.settings.output_dir / "index.html").exists()
        assert receiver.posts == [] and tick_took < 6.0
        assert daemon.alerts.running is not None
        daemon.alerts.running.result(timeout=60)
    finally:
        store.close()
    assert len(receiver.posts) == 1


def test_alerts_test_sends_a_test_message(tmp_path: Path, receiver: Receiver,
                                          refused_url: str) -> None:
    config = configure(tmp_path, [], [receiver.url])
    result = CliRunner().invoke(main, ["--config", str(config.path), "alerts", "test",
                                       "ma-marque"])
    assert result.exit_code == 0, result.output
    assert receiver.posts[0]["title"] == "Test de l’alerte «\u00a0ma-marque\u00a0»"
    missing = CliRunner().invoke(main, ["--config", str(config.path), "alerts", "test", "x"])
    assert missing.exit_code == 1
    assert "ma-marque" in missing.output
    refused = configure(tmp_path, [], ["json://" + refused_url.split("://", 1)[1]])
    failed = CliRunner().invoke(main, ["--config", str(refused.path), "alerts", "test",
                                       "ma-marque"])
    assert failed.exit_code == 1
    assert "non envoyé" in failed.output


def test_fetch_sends_the_alerts_of_what_it_stored(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    now = datetime.now(UTC)
    url = feed_server.set("/feed.rss", rss([("Ma Marque", "a", now - timedelta(hours=1))]))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url])
    for _ in range(2):
        result = CliRunner().invoke(main, ["--config", str(config.path), "fetch", "--force"])
        assert result.exit_code == 0, result.output
    assert len(receiver.posts) == 1
    assert "Ma Marque" in receiver.posts[0]["message"]
