"""The glance (aggregator/store/glance.py): it reads what the Store reads from the same
databases, `status` says the same through either, and `status` and an idle `fetch` import
neither SQLAlchemy's ORM nor the polling code (issue 21)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from sqlalchemy import text

from aggregator.cli.app import main
from aggregator.config.load import Config, load_config
from aggregator.deliver.targets import target_key
from aggregator.models import PingRecord, Subscription
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.store import Store
from aggregator.store.glance import HEAD_REVISION, Glance
from tests.conftest import FeedServer, write_config
from tests.test_alerts_send import rss

ROOT = Path(__file__).parent.parent


def _polled(tmp_path: Path, feed_server: FeedServer, refused_url: str, database: str,
            **settings: object) -> Path:
    """A feeds.yaml and its database, polled once: a feed with articles, one of them
    filtered out, a failing one, a disabled one, one whose article pages are wanted, an
    entry whose page failed, and a newsletter with a refused recipient and a lost send."""
    now = datetime.now(UTC)
    url = feed_server.set("/feed.rss", rss([(f"Billet {n}", f"b{n}", now - timedelta(hours=n))
                                            for n in range(1, 4)]))
    pages = feed_server.set("/pages.rss", rss([("Texte", "t", now - timedelta(hours=2))]))
    feeds = [{"name": "Blog", "url": url, "filters": {"exclude": ["Billet 2"]}},
             {"name": "En panne", "url": refused_url},
             {"name": "Éteint", "url": "http://127.0.0.1:9/feed.rss", "enabled": False},
             {"name": "Pages", "url": pages, "full_text": "always"}]
    path = write_config(tmp_path, feeds, database=database, **settings,
                        email={"host": "127.0.0.1", "port": 2525, "security": "none",
                               "from": "Veille CM <veille@example.org>"})
    yaml = YAML()
    document = yaml.load(path)
    document["newsletters"] = [{"name": "équipe", "to": ["alice@example.org"]}]
    yaml.dump(document, path)
    config = load_config(path)
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, now)
        # A period whose sender died before recording, and one with a refused recipient.
        assert store.claim_delivery("équipe", "2026-01-05", "host:1", now - timedelta(hours=3))
        assert store.claim_delivery("équipe", "2026-01-06", "host:2", now - timedelta(hours=1))
        store.record_delivery("équipe", "2026-01-06", now, delivered=0, articles=1,
                              message_id="<m@example.org>",
                              errors={"alice@example.org": "550 no such user"})
        with store.engine.begin() as connection:
            connection.execute(text(
                "UPDATE entries SET page_status = 'failed', page_reason = 'HTTP 404', "
                "page_fetched = first_seen WHERE id = (SELECT min(id) FROM entries)"))
    finally:
        store.close()
    return path


def _told(path: Path, now: datetime) -> Path:
    """`path`, polled by _polled, with alerts and our WebSub hub in its feeds.yaml, and what
    they did in its database: a target with a send and a failure, one with a failure given
    up and an interrupted send, one never told; a ping that went and one that failed; a
    live, a refused and a pending subscription."""
    hub = "http://127.0.0.1:9/hub"
    yaml = YAML()
    document = yaml.load(path)
    targets = ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b?token=s3cret"]
    document["alerts"] = [{"name": "veille", "match": [{"keyword": "Billet"}],
                           "notify": targets},
                          {"name": "marque", "match": [{"keyword": "Ma Marque"}],
                           "notify": ["json://127.0.0.1:9/c"]}]
    document["settings"]["websub_hub"] = hub
    yaml.dump(document, path)
    config = load_config(path)
    store = Store.open(config.settings.database)
    try:
        first, second = [a.article_id for a in store.new_articles(now - timedelta(days=1),
                                                                 now - timedelta(days=9))][:2]
        lease = timedelta(minutes=5)
        for target, article, at, error in (
                (targets[0], first, now - timedelta(hours=2), None),
                (targets[0], second, now - timedelta(hours=1), "HTTP 500"),
                (targets[1], first, now - timedelta(days=3), "HTTP 503")):
            claim = store.claim_alert_sends("veille", target_key(target), [article], at, lease,
                                            at)
            store.finish_alert_sends(claim.token, at, error)
        store.claim_alert_sends("veille", target_key(targets[1]), [second],
                                now - timedelta(hours=2), lease, now - timedelta(hours=2))
        store.save_pings([PingRecord(config.settings.base_url + "atom.xml", hub,
                                     now - timedelta(hours=1), True, 1, None),
                          PingRecord(config.settings.base_url + "rss.xml", hub,
                                     now - timedelta(minutes=30), False, 3, "HTTP 503")])
        for name, state, error in (("Blog", "active", None), ("Pages", "denied", "no"),
                                   ("En panne", "pending", "HTTP 502")):
            store.save_subscription(Subscription(
                name, "https://hub.example/", "https://topic.example/" + name, "tok" + name,
                "s3cret", state, now - timedelta(hours=3), 86400, now + timedelta(days=1),
                error))
    finally:
        store.close()
    return path


def _status(path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(path), "status", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("told", [False, True], ids=["quiet", "alerts-websub"])
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("args", [(), ("--json",), ("--wide",)])
def test_status_says_the_same_through_the_glance_and_the_store(
        tmp_path: Path, feed_server: FeedServer, refused_url: str, database_url: str,
        monkeypatch: pytest.MonkeyPatch, language: str, args: tuple[str, ...],
        told: bool) -> None:
    import aggregator.cli.status

    path = _polled(tmp_path, feed_server, refused_url, database_url, language=language)
    if told:
        _told(path, datetime.now(UTC))
    opened: list[Glance | None] = []
    glance = aggregator.cli.status.open_glance

    def counted(config: Config, *, synced: bool) -> Glance | None:
        opened.append(glance(config, synced=synced))
        return opened[-1]

    monkeypatch.setattr(aggregator.cli.status, "open_glance", counted)
    through_glance = _status(path, *args)
    assert len(opened) == 1 and opened[0] is not None  # it did read through the glance
    monkeypatch.setattr(aggregator.cli.status, "open_glance", lambda *_a, **_k: None)
    through_store = _status(path, *args)
    assert through_glance == through_store
    if not args:  # the newsletters' problems, under the table
        assert "alice@example.org: 550 no such user" in through_glance
        assert ("2026-01-05 : prise par host:1" in through_glance
                or "2026-01-05: claimed by host:1" in through_glance)
    if told and "--json" not in args:  # the alerts' and WebSub's lines, under the table
        assert "json://127.0.0.1:9/a" in through_glance and "s3cret" not in through_glance
        assert "http://127.0.0.1:9/hub" in through_glance and "HTTP 503" in through_glance
        assert "Blog: " in through_glance and "https://hub.example/" in through_glance
    if args == ("--json",):
        by_name = {feed["name"]: feed for feed in json.loads(through_glance)}
        assert by_name["Blog"]["filtered_out"] == 1
        assert by_name["En panne"]["state"] == "failing"
        assert any(feed["page_error"] for feed in by_name.values())


def test_status_of_the_demo_says_the_same_through_the_glance_and_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aggregator.cli.status

    subprocess.run([sys.executable, "-m", "aggregator", "demo", "--once", "--dir", "demo"],
                   cwd=tmp_path, capture_output=True, timeout=120, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    french = tmp_path / "demo" / "feeds.yaml"
    english = french.with_name("feeds-en.yaml")
    english.write_text(french.read_text("utf-8").replace("language: fr", "language: en"),
                       "utf-8")
    for path in (french, english):
        for args in ((), ("--json",)):
            through_glance = _status(path, *args)
            with monkeypatch.context() as patched:
                patched.setattr(aggregator.cli.status, "open_glance", lambda *_a, **_k: None)
                assert _status(path, *args) == through_glance
    assert "Vis ma vie de CM" in through_glance
    config = load_config(french)  # what made the first of each pair go through the glance
    glance = Glance.open(config.settings.database)
    assert glance is not None and glance.in_step(config.feeds)
    glance.close()


def test_the_glance_reads_what_the_store_reads(
        tmp_path: Path, feed_server: FeedServer, refused_url: str, database_url: str) -> None:
    config = load_config(_polled(tmp_path, feed_server, refused_url, database_url))
    names = [feed.name for feed in config.feeds]
    store = Store.open(database_url)
    glance = Glance.open(database_url)
    assert glance is not None
    try:
        for count in (True, False):
            assert glance.feed_states(count_entries=count) == store.feed_states(
                count_entries=count, layout=False)
        assert glance.feed_states()["Blog"].entry_count == 3
        pages = glance.page_counts()
        assert pages == store.page_counts() and any(p.last_error for p in pages.values())
        shown = list(glance.each_shown_entry(names))
        assert shown == list(store.each_shown_entry(names)) and len(shown) == 4
        assert list(glance.each_shown_entry(["Pages"])) == list(store.each_shown_entry(["Pages"]))
        deliveries = glance.deliveries()
        assert deliveries == store.deliveries() and len(deliveries) == 2
        assert deliveries[0].errors == {"alice@example.org": "550 no such user"}
        assert glance.in_step(config.feeds)
    finally:
        glance.close()
        store.close()


def test_the_glance_reads_the_alerts_and_websub_the_store_reads(
        tmp_path: Path, feed_server: FeedServer, refused_url: str, database_url: str) -> None:
    told = datetime.now(UTC)
    _told(_polled(tmp_path, feed_server, refused_url, database_url), told)
    store = Store.open(database_url)
    glance = Glance.open(database_url)
    assert glance is not None
    try:
        now = datetime.now(UTC)
        records = store.alert_records(now, now - timedelta(days=2))
        assert glance.alert_records(now, now - timedelta(days=2)) == records
        assert [(r.sent, r.failing, r.given_up, r.interrupted, r.last_error)
                for r in records] == [(1, 1, 0, 0, "HTTP 500"), (0, 0, 1, 1, "HTTP 503")]
        assert records[0].last_sent is not None and records[0].last_sent.tzinfo == UTC
        # The bounds, to the microsecond, as the tables keep times: a failure claimed at
        # `retry_after` is retried, and a claim held until `now` not yet interrupted.
        failed, held = told - timedelta(hours=1), told - timedelta(hours=2, minutes=-5)
        bounds = [(held, failed), (held + timedelta(microseconds=1),
                                   failed + timedelta(microseconds=1))]
        at_bounds = [store.alert_records(*bound) for bound in bounds]
        assert [glance.alert_records(*bound) for bound in bounds] == at_bounds
        assert [[(r.failing, r.given_up, r.interrupted) for r in records]
                for records in at_bounds] == [[(1, 0, 0), (0, 1, 0)], [(0, 1, 0), (0, 1, 1)]]
        subscriptions = glance.subscriptions()
        assert subscriptions == store.subscriptions() and len(subscriptions) == 3
        assert subscriptions["Blog"].requested_at.tzinfo == UTC
        pings = glance.pings()
        assert pings == store.pings() and [p.ok for p in pings] == [True, False]
    finally:
        glance.close()
        store.close()


def test_an_edited_feed_is_synced_by_the_store_before_status_shows_it(
        tmp_path: Path, feed_server: FeedServer, refused_url: str) -> None:
    path = _polled(tmp_path, feed_server, refused_url, f"sqlite:///{tmp_path / 'test.db'}")
    assert {f["name"]: f for f in json.loads(_status(path, "--json"))}[
        "En panne"]["state"] == "failing"
    yaml = YAML()
    document = yaml.load(path)
    document["feeds"][1]["url"] = refused_url + "?moved"  # a new feed: its failures forgotten
    yaml.dump(document, path)
    config = load_config(path)
    glance = Glance.open(config.settings.database)
    assert glance is not None and not glance.in_step(config.feeds)
    glance.close()
    record = {f["name"]: f for f in json.loads(_status(path, "--json"))}["En panne"]
    assert (record["state"], record["failures"], record["last_error"]) == ("ok", 0, None)
    glance = Glance.open(config.settings.database)
    assert glance is not None and glance.in_step(config.feeds)  # synced by that status
    glance.close()


def test_the_glance_opens_only_a_database_at_the_newest_revision(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert Glance.open(f"sqlite:///{missing}") is None and not missing.exists()
    url = f"sqlite:///{tmp_path / 'test.db'}"
    Store.open(url).close()
    glance = Glance.open(url)
    assert glance is not None
    glance.close()
    with sqlite3.connect(tmp_path / "test.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    assert Glance.open(url) is None  # the Store's to migrate
    assert Glance.open("sqlite://") is None and HEAD_REVISION


def _modules_after(cwd: Path, *args: str) -> tuple[str, set[str]]:
    """What `aggregator ARGS` printed in a fresh process, and the modules it imported."""
    probe = ("import json, sys\nfrom aggregator.cli import main\n"
             "try:\n    main(sys.argv[1:], prog_name='aggregator')\nexcept SystemExit:\n    pass\n"
             "print('\\n' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, capture_output=True,
                            text=True, timeout=60, check=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT),
                                 "XDG_CACHE_HOME": str(cwd / "cache")})
    return result.stdout, set(json.loads(result.stderr.splitlines()[-1]))


def test_status_and_an_idle_fetch_import_no_orm_nor_polling_code(
        tmp_path: Path, feed_server: FeedServer, refused_url: str) -> None:
    path = _polled(tmp_path, feed_server, refused_url, "test.db")
    heavy = ("sqlalchemy", "requests", "feedparser", "aggregator.poll.pool",
             "aggregator.poll.run", "aggregator.store.schema")
    text_shown, modules = _modules_after(tmp_path, "--config", str(path), "status")
    assert "Blog" in text_shown and "1 filtré" in text_shown
    assert sorted(m for m in modules if m.startswith(heavy)) == []
    text_shown, modules = _modules_after(tmp_path, "--config", str(path), "fetch")
    assert "Aucun flux n’est à interroger" in text_shown
    assert sorted(m for m in modules if m.startswith(heavy)) == []
    _told(path, datetime.now(UTC))  # alerts bring Apprise (and its requests), not the ORM
    text_shown, modules = _modules_after(tmp_path, "--config", str(path), "status")
    assert "json://127.0.0.1:9/a" in text_shown and "https://hub.example/" in text_shown
    assert sorted(m for m in modules if m.startswith(("sqlalchemy", "aggregator.store.schema",
                                                      "aggregator.store.store"))) == []
