"""Every feed's health in words (aggregator.publish.status), from hand-made states; what
the filters keep out, counted from a real store; `status --json` and `--json --all`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from aggregator.cli.app import main
from aggregator.config.load import FeedConfig, load_config
from aggregator.config.parsers import parse_filters
from aggregator.deliver.targets import target_key
from aggregator.models import FeedState, PingRecord, Subscription
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.filters import EntryFilter
from aggregator.publish.status import (
    count_filtered_out,
    explain_state,
    status_line,
    status_record,
)
from aggregator.store import Store
from aggregator.store.reads import CHUNK
from tests.conftest import FeedServer, write_config
from tests.test_reads import URL, save_undated

PARIS = ZoneInfo("Europe/Paris")
POLLED = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("state, expected", [
    (None, "not polled yet"),
    (FeedState("f", "u", last_polled=POLLED), "polled Nov 21, 2026 09:00"),
    (FeedState("f", "u", last_polled=POLLED, gone_at=POLLED,
               last_error="HTTP 410 Gone: the server says this feed is gone for good"),
     "retired on Nov 21, 2026 09:00: HTTP 410 Gone: the server says this feed is gone for "
     "good. It is not polled any more; edit its entry in feeds.yaml to try again."),
    (FeedState("f", "u", last_polled=POLLED, failures=3, failing_since=POLLED,
               last_error="HTTP 503 Service Unavailable",
               next_poll=POLLED + timedelta(hours=4)),
     "failing since Nov 21, 2026 09:00 (3 attempts in a row): HTTP 503 Service Unavailable. "
     "Next try Nov 21, 2026 13:00; it is never dropped."),
    (FeedState("f", "u", last_polled=POLLED, moved_to="https://new.example/feed",
               moved_at=POLLED),
     "moved permanently to https://new.example/feed on Nov 21, 2026 09:00: polled there "
     "now; put the new address in feeds.yaml."),
])
def test_status_explains_in_plain_words(state: FeedState | None, expected: str) -> None:
    assert explain_state(True, state, PARIS) == expected


def test_status_of_a_disabled_feed() -> None:
    assert explain_state(False, None, PARIS).startswith("disabled in feeds.yaml")


def test_a_retired_feed_shows_no_next_poll() -> None:
    state = FeedState("f", "u", last_polled=POLLED, gone_at=POLLED, last_error="HTTP 410 Gone",
                      next_poll=POLLED + timedelta(days=1), entry_count=4)
    line = status_line(FeedConfig("f", "u"), state, 1, PARIS)
    assert (line.health, line.next_poll, line.entries) == ("retired", "—", "4 (1 filtered out)")
    record = status_record(FeedConfig("f", "u"), state, 1, PARIS)
    assert (record["state"], record["next_poll"], record["retired_at"]) == (
        "retired", None, POLLED.isoformat())
    assert list(record)[-1] == "filtered_out"


def test_a_feed_never_polled() -> None:
    line = status_line(FeedConfig("f", "u"), None, 0, PARIS)
    assert (line.health, line.last_success, line.entries) == ("never polled", "—", "0")
    assert status_record(FeedConfig("f", "u"), None, 0, PARIS)["failures"] == 0


def test_what_the_filters_keep_out_is_counted_a_chunk_at_a_time(database_url: str) -> None:
    # Through the store's stream, as `status` does: every article judged, none held.
    store = Store.open(database_url)
    try:
        save_undated(store, "Le fil", CHUNK + 50)
        rules = EntryFilter(parse_filters({"exclude": [{"regex": r"fil \d*7$", "in": "title"}]}),
                            [FeedConfig("Le fil", URL)])
        save_undated(store, "Un autre", 20)
        stream = store.each_shown_entry(["Le fil", "Un autre"])
        assert count_filtered_out(rules, stream) == {"Le fil": (CHUNK + 50) // 10}
        assert next(stream, None) is None  # the count read it to the end
    finally:
        store.close()


def test_status_json_keeps_the_feed_list_and_all_adds_alerts_newsletters_websub(
        tmp_path: Path, feed_server: FeedServer) -> None:
    from tests.test_alerts_send import rss

    now = datetime.now(UTC)  # `status` reads the clock
    url = feed_server.set("/feed.rss", rss([("Ma Marque", "a", now - timedelta(hours=1))]))
    path = write_config(tmp_path, [{"name": "Blog", "url": url}], title="Veille CM",
                        websub_hub="http://127.0.0.1:9/hub",
                        email={"host": "127.0.0.1", "port": 2525, "security": "none",
                               "from": "Veille CM <veille@example.org>"})
    yaml = YAML()
    document = yaml.load(path)
    target = "json://127.0.0.1:9/veille"
    document["alerts"] = [{"name": "ma-marque", "match": [{"keyword": "Ma Marque"}],
                           "notify": [target]}]
    document["newsletters"] = [{"name": "équipe", "to": ["alice@example.org"]}]
    yaml.dump(document, path)
    config = load_config(path)
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, now, force=True)
        [article] = store.new_articles(now - timedelta(hours=1), now - timedelta(days=1))
        claim = store.claim_alert_sends("ma-marque", target_key(target), [article.article_id],
                                        now, timedelta(minutes=5), now - timedelta(days=2))
        store.finish_alert_sends(claim.token, now, "HTTP 500")
        # A period whose sender died before recording, and one with a refused recipient.
        assert store.claim_delivery("équipe", "2026-01-05", "host:1", now - timedelta(hours=3))
        assert store.claim_delivery("équipe", "2026-01-06", "host:2", now - timedelta(hours=1))
        store.record_delivery("équipe", "2026-01-06", now, delivered=0, articles=1,
                              message_id="<m@example.org>",
                              errors={"alice@example.org": "550 no such user"})
        store.save_pings([PingRecord(config.settings.base_url + "atom.xml",
                                     "http://127.0.0.1:9/hub", now, False, 3, "HTTP 503")])
        store.save_subscription(Subscription(
            "Blog", "https://hub.example/", url, "tok", "s3cret", "active", now,
            86400, now + timedelta(days=1)))
    finally:
        store.close()
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["--config", str(path), "status", "--json"]).output)
    assert [feed["name"] for feed in listed] == ["Blog"]  # the list scripts already read
    result = runner.invoke(main, ["--config", str(path), "status", "--json", "--all"])
    assert result.exit_code == 0, result.output
    everything = json.loads(result.output)
    assert set(everything) == {"version", "feeds", "alerts", "newsletters", "websub"}
    assert everything["version"] == 1 and everything["feeds"] == listed
    [alert] = everything["alerts"]
    assert alert["alert"] == "ma-marque" and alert["target"].startswith("json://127.0.0.1:9")
    assert (alert["sent"], alert["failing"], alert["last_error"], alert["ok"]) == (
        0, 1, "HTTP 500", False)
    [letter] = everything["newsletters"]
    assert letter["name"] == "équipe"
    assert letter["latest"]["period"] == "2026-01-06"
    assert letter["latest"]["refused"] == {"alice@example.org": "550 no such user"}
    assert [u["period"] for u in letter["unrecorded"]] == ["2026-01-05"]
    assert len(letter["problems"]) == 2
    websub = everything["websub"]
    assert websub["hub"] == "http://127.0.0.1:9/hub"
    assert [(p["url"], p["ok"], p["attempts"], p["error"]) for p in websub["pings"]] == [
        (config.settings.base_url + "atom.xml", False, 3, "HTTP 503")]
    [subscription] = websub["subscriptions"]
    assert (subscription["feed"], subscription["state"], subscription["live"]) == (
        "Blog", "active", True)
    alone = runner.invoke(main, ["--config", str(path), "status", "--all"])
    assert alone.exit_code == 2 and "--all va avec --json" in alone.output
