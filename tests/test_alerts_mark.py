"""Where a round of alerts starts, kept in the database: a restart after a crash between
storing and alerting alerts what the lost round would have, once; and the sends of pruned
articles go with them. Real feeds on loopback, a real database, a real Apprise receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from aggregator import i18n
from aggregator.cli.app import main
from aggregator.config.load import Config
from aggregator.deliver.alerts_send import alert_round
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.poll.schedule import Daemon
from aggregator.store import Store
from tests.conftest import FeedServer
from tests.test_alerts_send import NOW, Receiver, configure, receiver, rss

__all__ = ["receiver"]  # the fixture, imported for the tests below

HOUR = timedelta(hours=1)


def crashed_poll(config: Config, started: datetime, polled: datetime) -> None:
    """A process that started at `started` (its mark), stored a poll at `polled`, and died
    before its round of alerts."""
    store = Store.open(config.settings.database)
    try:
        store.alerts_mark(started)
        update_feeds(store, make_session(), config, polled, force=True)
    finally:
        store.close()


def run_daemon_once(config: Config) -> None:
    """A daemon started anew: one tick, its round of alerts waited for, then stopped."""
    store = Store.open(config.settings.database)
    try:
        daemon = Daemon(config=config, store=store)
        daemon.tick()
        assert daemon.alerts.running is not None
        daemon.alerts.running.result(timeout=60)
    finally:
        store.close()


def test_a_restarted_daemon_alerts_what_a_crash_left_unsent_and_only_once(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, database_url: str) -> None:
    now = datetime.now(UTC)  # the daemon reads the clock
    url = feed_server.set("/feed.rss", rss([("Ma Marque recrute", "a", now - 3 * HOUR),
                                            ("Un autre sujet", "b", now - 2 * HOUR)]))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url], database_url)
    i18n.use(config.settings.language)
    # Stored an hour ago, far beyond settings.claim_lease: only the mark can bring it back.
    crashed_poll(config, now - 2 * HOUR, now - HOUR)
    assert receiver.posts == []
    run_daemon_once(config)
    [post] = receiver.posts
    assert "Ma Marque recrute" in post["message"] and "autre" not in post["message"]
    run_daemon_once(config)  # restarted again: nothing twice
    assert len(receiver.posts) == 1
    store = Store.open(config.settings.database)
    try:
        assert store.alerts_mark(now - 5 * HOUR) > now  # moved by the completed rounds
    finally:
        store.close()


def test_fetch_alerts_what_a_fetch_stopped_before_its_alerts_stored(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    now = datetime.now(UTC)
    url = feed_server.set("/feed.rss", rss([("Ma Marque ouvre", "a", now - 3 * HOUR)]))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url])
    crashed_poll(config, now - 2 * HOUR, now - HOUR)
    for _ in range(2):
        result = CliRunner().invoke(main, ["--config", str(config.path), "fetch", "--force"])
        assert result.exit_code == 0, result.output
    [post] = receiver.posts
    assert "Ma Marque ouvre" in post["message"]


def test_the_mark_only_moves_forward_and_a_round_reaches_back_a_lease(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, database_url: str) -> None:
    url = feed_server.set("/feed.rss", rss([("Ma Marque", "a", NOW - 3 * HOUR)]))
    config = configure(tmp_path, [{"name": "Blog", "url": url}], [receiver.url], database_url,
                       claim_lease="5m")
    store = Store.open(config.settings.database)
    try:
        assert store.alerts_mark(NOW) == NOW
        assert store.alerts_mark(NOW + HOUR) == NOW  # kept, not replaced
        store.advance_alerts_mark(NOW - HOUR)
        assert store.alerts_mark(NOW + HOUR) == NOW  # never back
        # Another worker's round moved the mark to 9:02 while this poll, decided at 9:01,
        # was being stored: the next round reaches back the lease and finds it.
        assert alert_round(store, config, NOW + timedelta(minutes=2)).sent == 0
        update_feeds(store, make_session(), config, NOW + timedelta(minutes=1), force=True)
        assert alert_round(store, config, NOW + timedelta(minutes=3)).sent == 1
        assert alert_round(store, config, NOW + timedelta(minutes=4)).sent == 0
        assert store.alerts_mark(NOW) == NOW + timedelta(minutes=4)
    finally:
        store.close()
    assert len(receiver.posts) == 1


def test_a_prune_forgets_the_sends_of_the_articles_it_removes(
        tmp_path: Path, feed_server: FeedServer, receiver: Receiver, database_url: str) -> None:
    blog = feed_server.set("/blog.rss", rss([("Ma Marque ancien", "a", NOW - 3 * HOUR),
                                             ("Ma Marque oublié", "b", NOW - 5 * HOUR),
                                             ("Ma Marque récent", "c", NOW - HOUR)]))
    relay = feed_server.set("/relay.rss", rss([("Ma Marque ancien", "a", NOW - 3 * HOUR)]))
    config = configure(tmp_path, [{"name": "Blog", "url": blog}], [receiver.url], database_url)
    store = Store.open(config.settings.database)
    try:
        store.alerts_mark(NOW - HOUR)
        update_feeds(store, make_session(), config, NOW, force=True)  # Blog's: the first
        config = configure(tmp_path, [{"name": "Blog", "url": blog},
                                      {"name": "Relais", "url": relay}], [receiver.url],
                           database_url)
        update_feeds(store, make_session(), config, NOW, force=True)  # a copy of "ancien"
        assert alert_round(store, config, NOW).sent == 1
        [record] = store.alert_records(NOW, NOW - HOUR)
        assert record.sent == 3
        # Blog keeps its newest entry: "ancien" (whose copy on Relais stays) and "oublié" go.
        assert store.prune(NOW, keep_per_feed=1) == {"Blog": 2}
        [record] = store.alert_records(NOW, NOW - HOUR)
        assert record.sent == 2  # "oublié"'s send is gone, "ancien"'s kept with its copy
        assert alert_round(store, config, NOW + timedelta(minutes=1)).sent == 0
        assert store.prune(NOW + 30 * HOUR, keep_per_feed=0) == {"Blog": 1, "Relais": 1}
        assert store.alert_records(NOW, NOW - HOUR) == []
    finally:
        store.close()
    assert receiver.posts[0]["message"].count("• ") == 3
