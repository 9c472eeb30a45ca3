"""WebSub: the pure rules (subscriptions, verification, signatures, polling interval) and
publishing (hub links in every output feed, pings after a render that changed a feed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from aggregator.cli.app import main
from aggregator.config.load import load_config
from aggregator.models import HubLinks, PingRecord, Subscription
from aggregator.poll.fetch import make_session
from aggregator.poll.parse import parse_feed
from aggregator.poll.run import update_feeds
from aggregator.poll.websub_rules import (
    judge_verification,
    needs_request,
    plan_subscriptions,
    polling_interval,
    signature_problem,
)
from aggregator.publish.render import render_site
from aggregator.publish.websub import announce, feeds_to_ping
from aggregator.publish.websub_status import ping_summary, push_summary
from aggregator.store import Store
from tests.conftest import FeedServer, write_config
from tests.test_websub_loopback import LoopbackHub

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SUB = Subscription("blog", "https://hub.example/", "https://blog.example/feed", "tok", "s3cret",
                   "active", NOW - HOUR, 86400, NOW + timedelta(days=1))


def test_plan_subscribes_renews_and_drops() -> None:
    read = {"new": HubLinks("https://hub.example/", "https://new.example/feed"),
            "blog": HubLinks(None, "https://blog.example/feed"),
            "moved": HubLinks("https://other-hub.example/", "https://moved.example/feed")}
    known = {"blog": SUB, "moved": replace(SUB, feed_name="moved"),
             "quiet": replace(SUB, feed_name="quiet", expires_at=NOW + HOUR / 2),
             "gone": replace(SUB, feed_name="gone")}
    intents = plan_subscriptions({"new", "blog", "moved", "quiet"}, read, known, NOW)
    assert sorted((i.action, i.feed_name, i.hub) for i in intents) == [
        ("drop", "blog", "https://hub.example/"),  # its feed declares no hub any more
        ("drop", "gone", "https://hub.example/"),  # its feed left feeds.yaml
        ("renew", "quiet", "https://hub.example/"),  # half an hour of lease left
        ("subscribe", "moved", "https://other-hub.example/"),
        ("subscribe", "new", "https://hub.example/"),
    ]


@pytest.mark.parametrize(("subscription", "expected"), [
    (SUB, False),  # a day of its day-long lease left
    (replace(SUB, expires_at=NOW + 4 * HOUR), True),  # less than a fifth left
    (replace(SUB, expires_at=NOW - HOUR), True),  # over
    (replace(SUB, expires_at=NOW - HOUR, requested_at=NOW - HOUR / 4), False),  # just asked
    (replace(SUB, state="pending", requested_at=NOW - HOUR / 2), False),
    (replace(SUB, state="pending", requested_at=NOW - 2 * HOUR), True),
    (replace(SUB, state="denied", requested_at=NOW - 2 * HOUR), False),
    (replace(SUB, state="denied", requested_at=NOW - timedelta(days=2)), True),
])
def test_when_to_ask_the_hub_again(subscription: Subscription, expected: bool) -> None:
    assert needs_request(subscription, NOW) is expected


@pytest.mark.parametrize(("subscription", "expected"), [
    (None, HOUR),
    (SUB, 6 * HOUR),  # pushed: the longer interval
    (replace(SUB, expires_at=NOW + 2 * HOUR), 2 * HOUR),  # never past the lease's end
    (replace(SUB, expires_at=NOW - HOUR), HOUR),  # lapsed: as before
    (replace(SUB, state="pending"), HOUR),
])
def test_polling_interval(subscription: Subscription | None, expected: timedelta) -> None:
    assert polling_interval(HOUR, subscription, 6 * HOUR, NOW) == expected


def test_verification_of_intent() -> None:
    pending = replace(SUB, state="pending", expires_at=None, lease_seconds=None)
    ask = {"hub.mode": "subscribe", "hub.topic": SUB.topic, "hub.challenge": "c",
           "hub.lease_seconds": "3600"}
    status, confirmed = judge_verification(pending, ask, NOW)
    assert status == 200 and confirmed is not None
    assert (confirmed.state, confirmed.expires_at) == ("active", NOW + HOUR)
    assert judge_verification(pending, {**ask, "hub.topic": "https://evil.example/"}, NOW) == (
        404, None)
    assert judge_verification(None, ask, NOW) == (404, None)
    assert judge_verification(pending, {**ask, "hub.mode": "unsubscribe"}, NOW) == (404, None)
    status, denied = judge_verification(pending, {"hub.mode": "denied", "hub.topic": SUB.topic,
                                                  "hub.reason": "spam"}, NOW)
    assert status == 200 and denied is not None and denied.state == "denied"
    assert denied.error == "refused by the hub: spam"


def test_push_signatures() -> None:
    body = b"<feed/>"

    def sign(method: str, key: bytes = b"s3cret") -> str:
        return f"{method}=" + hmac.new(key, body, getattr(hashlib, method)).hexdigest()

    assert signature_problem("s3cret", sign("sha256"), body) is None
    assert signature_problem("s3cret", sign("sha512").upper().replace("SHA512", "sha512"),
                             body) is None
    assert signature_problem("s3cret", sign("sha256", b"other"), body) == (
        "the signature does not match")
    assert signature_problem("s3cret", sign("sha256"), body + b" ") == (
        "the signature does not match")
    assert "not accepted" in (signature_problem("s3cret", sign("sha1"), body) or "")
    assert signature_problem("s3cret", None, body) == "no X-Hub-Signature"
    assert signature_problem("s3cret", "sha256=é", body) == "the signature does not match"


def test_feeds_to_ping() -> None:
    changed = ["index.html", "atom.xml", "tags/rh/rss.xml", "digest/2026-11-21.html",
               "digest.xml", "archive/2026-10.xml", "feeds.opml"]
    failed = [PingRecord("https://s.example/feed.json", "h", NOW, False, 3, "HTTP 503"),
              PingRecord("https://s.example/rss.xml", "h", NOW, True, 1)]
    assert feeds_to_ping(changed, "https://s.example/", failed) == [
        "https://s.example/atom.xml", "https://s.example/tags/rh/rss.xml",
        "https://s.example/digest.xml", "https://s.example/feed.json"]
    assert feeds_to_ping(["index.html"], "https://s.example/") == []


@pytest.fixture
def hub() -> Iterator[LoopbackHub]:
    started = LoopbackHub()
    yield started
    started.close()


def test_every_feed_declares_the_hub_and_a_render_that_changed_a_feed_pings_it(
        tmp_path: Path, feed_server: FeedServer, hub: LoopbackHub) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    config = load_config(write_config(tmp_path, [{"name": "blog", "url": url, "tags": ["rh"]}],
                                      websub_hub=hub.url, base_url="https://veille.example/"))
    store = Store.open(config.settings.database)
    session = make_session()
    update_feeds(store, session, config, NOW)
    report = render_site(store, config.settings, config.feeds, NOW)
    public = config.settings.output_dir
    for name in ("atom.xml", "rss.xml", "digest.xml", "tags/rh/atom.xml", "tags/rh/rss.xml"):
        parsed = parse_feed((public / name).read_bytes(), {}, "https://veille.example/" + name)
        assert parsed.hub == hub.url, name
        assert parsed.self_url == "https://veille.example/" + name, name
    hubs = json.loads((public / "feed.json").read_text("utf-8"))["hubs"]
    assert hubs == [{"type": "WebSub", "url": hub.url}]

    records = announce(store, session, config.settings, report.changed, NOW, sleep=lambda _s: None)
    expected = {"https://veille.example/" + name for name in (
        "atom.xml", "rss.xml", "feed.json", "digest.xml",
        "tags/rh/atom.xml", "tags/rh/rss.xml", "tags/rh/feed.json")}
    assert set(hub.pings) == expected and len(hub.pings) == len(expected)
    assert all(r.ok and r.attempts == 1 for r in records)

    # nothing new: a render that changed no feed pings nothing
    later = NOW + HOUR
    update_feeds(store, session, config, later, force=True)
    report = render_site(store, config.settings, config.feeds, later)
    assert announce(store, session, config.settings, report.changed, later,
                    sleep=lambda _s: None) == []
    assert len(hub.pings) == len(expected)
    store.close()


def test_pings_retry_on_5xx_and_status_says_how_it_went(
        tmp_path: Path, hub: LoopbackHub) -> None:
    config = load_config(write_config(tmp_path, [], websub_hub=hub.url))
    store = Store.open(config.settings.database)
    session, waits = make_session(), []
    hub.fail_pings = 2
    [record] = announce(store, session, config.settings, ["atom.xml"], NOW, sleep=waits.append)
    assert (record.ok, record.attempts, waits) == (True, 3, [2.0, 8.0])
    hub.fail_pings = 10  # down for good: three attempts, then left for the next render
    [failed] = announce(store, session, config.settings, ["rss.xml"], NOW, sleep=waits.append)
    assert (failed.ok, failed.attempts, failed.error) == (False, 3, "HTTP 503")
    tz = ZoneInfo("Europe/Paris")
    lines = ping_summary(hub.url, store.pings(), tz)
    assert lines[0].startswith(f"WebSub hub {hub.url}: last told") and "1 feed ok" in lines[0]
    assert "rss.xml: failed" in lines[1] and "HTTP 503" in lines[1]
    hub.fail_pings = 0
    hub.pings.clear()
    [retried] = announce(store, session, config.settings, [], NOW + HOUR, sleep=waits.append)
    assert retried.ok and hub.pings == [config.settings.base_url + "rss.xml"]
    assert push_summary({"blog": SUB}, NOW, tz) == [
        f"blog: pushed by {SUB.hub} until Nov 22, 2026 10:00"]
    store.close()


def test_render_by_hand_pings_the_hub_like_the_daemon(
        tmp_path: Path, feed_server: FeedServer, hub: LoopbackHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    config = load_config(write_config(tmp_path, [{"name": "blog", "url": url, "tags": ["rh"]}],
                                      websub_hub=hub.url, base_url="https://veille.example/"))
    store = Store.open(config.settings.database)
    update_feeds(store, make_session(), config, NOW)
    store.close()
    render = ["--config", str(config.path), "render"]
    result = CliRunner().invoke(main, render)
    assert result.exit_code == 0, result.output
    expected = {"https://veille.example/" + name for name in (
        "atom.xml", "rss.xml", "feed.json", "digest.xml",
        "tags/rh/atom.xml", "tags/rh/rss.xml", "tags/rh/feed.json")}
    assert set(hub.pings) == expected and len(hub.pings) == len(expected)
    assert f"Hub WebSub {hub.url} prévenu de 7 flux modifiés." in result.output
    # Nothing changed: nothing to tell.
    result = CliRunner().invoke(main, render)
    assert result.exit_code == 0 and len(hub.pings) == len(expected)
    assert "WebSub" not in result.output
    # The hub down: the render succeeds, says so, and the next render tells it again.
    monkeypatch.setattr("aggregator.publish.websub.RETRY_DELAYS", ())
    hub.fail_pings = len(hub.pings) + 1  # the next ping fails, the others go through
    store = Store.open(config.settings.database)
    feed_server.serve_file("blog-metier-v2.rss", "/blog-metier.rss")
    update_feeds(store, make_session(), config, NOW + HOUR, force=True)
    store.close()
    result = CliRunner().invoke(main, render)
    assert result.exit_code == 0, result.output
    # The first ping failed: the hub is down, the other feeds are left for the next render.
    [first] = hub.pings[len(expected):]
    said = re.search(r"non prévenu de (\d) flux modifiés\s; il le sera au prochain rendu",
                     " ".join(result.output.split()))
    assert said, result.output
    result = CliRunner().invoke(main, render)
    assert result.exit_code == 0
    again = hub.pings[len(expected) + 1:]
    assert first in again and len(again) == len(set(again)) == int(said[1])
    assert f"prévenu de {said[1]} flux modifiés." in result.output
    status = CliRunner().invoke(main, ["--config", str(config.path), "status"])
    assert "dernier signalement" in status.output


def test_a_hub_down_costs_one_feed_s_retries_not_every_feed_s(
        tmp_path: Path, hub: LoopbackHub) -> None:
    config = load_config(write_config(tmp_path, [], websub_hub=hub.url))
    store = Store.open(config.settings.database)
    session, waits = make_session(), []
    hub.fail_pings = 100
    records = announce(store, session, config.settings, ["atom.xml", "rss.xml", "feed.json"],
                       NOW, sleep=waits.append)
    assert waits == [2.0, 8.0] and len(hub.pings) == 3  # atom.xml's three attempts only
    assert [(r.ok, r.attempts) for r in records] == [(False, 3), (False, 0), (False, 0)]
    lines = ping_summary(hub.url, store.pings(), ZoneInfo("Europe/Paris"))
    assert any("not tried: the hub failed an earlier ping" in line for line in lines)
    hub.fail_pings = 0
    records = announce(store, session, config.settings, [], NOW + HOUR, sleep=waits.append)
    assert sorted(r.url for r in records if r.ok) == sorted(
        config.settings.base_url + name for name in ("atom.xml", "rss.xml", "feed.json"))
    store.close()
