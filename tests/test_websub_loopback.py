"""A loopback WebSub hub that follows the W3C recommendation: it accepts subscription
requests (202), verifies the subscriber's intent on its callback (GET with a random
hub.challenge, which must come back as the body), distributes content signed with
the subscriber's hub.secret (X-Hub-Signature: sha256=...), and records publish pings,
failing the first ones on demand."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


@dataclass
class HubSubscription:
    callback: str
    topic: str
    secret: str
    lease: int
    verified: bool = False


@dataclass
class LoopbackHub:
    lease: int = 86400  # the lease the hub grants, whatever the subscriber asks
    fail_pings: int = 0  # the first pings answered 503
    requests: list[dict[str, str]] = field(default_factory=list)
    pings: list[str] = field(default_factory=list)
    subscriptions: dict[str, HubSubscription] = field(default_factory=dict)  # by callback
    verified: threading.Event = field(default_factory=threading.Event)
    challenges_failed: int = 0

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hub"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def distribute(self, topic: str, body: bytes, *, secret: str | None = None,
                   content_type: str = "application/atom+xml") -> list[int]:
        """POST `body` to each verified subscriber of `topic`, signed with its secret (or
        with `secret`, a forger's); the status of each delivery."""
        statuses = []
        for sub in self.subscriptions.values():
            if sub.topic != topic or not sub.verified:
                continue
            key = (secret or sub.secret).encode()
            signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            answer = requests.post(sub.callback, data=body, timeout=10, headers={
                "Content-Type": content_type, "X-Hub-Signature": signature,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'})
            statuses.append(answer.status_code)
        return statuses

    def _subscribe(self, form: dict[str, str]) -> None:
        """Verification of intent (W3C WebSub 5.3), after the 202 went out."""
        sub = HubSubscription(form["hub.callback"], form["hub.topic"],
                              form.get("hub.secret", ""), self.lease)
        challenge = secrets.token_urlsafe(16)
        query = urllib.parse.urlencode({
            "hub.mode": "subscribe", "hub.topic": sub.topic, "hub.challenge": challenge,
            "hub.lease_seconds": str(sub.lease)})
        answer = requests.get(f"{sub.callback}?{query}", timeout=10)
        if answer.status_code == 200 and answer.text == challenge:
            sub.verified = True
            self.subscriptions[sub.callback] = sub
            self.verified.set()
        else:
            self.challenges_failed += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                hub.requests.append(form)
                mode = form.get("hub.mode")
                if mode == "publish":
                    hub.pings.append(form.get("hub.url", ""))
                    failing = len(hub.pings) <= hub.fail_pings
                    self._answer(503 if failing else 204)
                elif mode == "subscribe" and form.get("hub.callback") and form.get("hub.topic"):
                    self._answer(202)
                    hub._subscribe(form)
                else:
                    self._answer(400)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- end to end: subscribe, verify, push, forge, lease ----------------------------------

import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from aggregator.config.load import Config, load_config  # noqa: E402
from aggregator.poll.fetch import make_session  # noqa: E402
from aggregator.poll.push import PushReceiver, take_pushed  # noqa: E402
from aggregator.poll.run import update_feeds  # noqa: E402
from aggregator.poll.subscribe import keep_subscriptions  # noqa: E402
from aggregator.publish.serve import attach_websub, make_server, server_url  # noqa: E402
from aggregator.publish.websub_callback import WebSubCallback  # noqa: E402
from aggregator.store import Store  # noqa: E402
from tests.conftest import FeedServer, write_config  # noqa: E402

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def atom(hub: str, self_url: str, *titles: str) -> bytes:
    """An Atom feed that declares its hub and self address, one entry per title."""
    entries = "".join(
        f"<entry><id>urn:test:{i}</id><title>{t}</title><link href='https://blog.example/{i}'/>"
        f"<updated>2026-11-2{i}T08:00:00Z</updated><content type='html'>&lt;p&gt;{t}, "
        f"un article de veille numéro {i} sur le métier.&lt;/p&gt;</content></entry>"
        for i, t in enumerate(titles, 1))
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Blog poussé</title><id>urn:test:feed</id><updated>2026-11-21T08:00:00Z"
            f"</updated><link rel='hub' href='{hub}'/><link rel='self' href='{self_url}'/>"
            f"{entries}</feed>").encode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def hub() -> Iterator[LoopbackHub]:
    started = LoopbackHub()
    yield started
    started.close()


@pytest.fixture
def wired(tmp_path: Path, feed_server: FeedServer, hub: LoopbackHub, database_url: str
          ) -> Iterator[tuple[Config, Store, Clock, str]]:
    """A polled feed that declares the hub, and `run --serve`'s callback wiring."""
    topic = feed_server.url("/feed.atom")
    feed_server.set("/feed.atom", atom(hub.url, topic, "Premier"),
                    content_type="application/atom+xml")
    server = make_server(tmp_path, "127.0.0.1", 0)
    config = load_config(write_config(tmp_path, [{"name": "poussé", "url": topic}],
                                      database=database_url, websub_callback=server_url(server)))
    store = Store.open(config.settings.database)
    clock = Clock()
    attach_websub(server, WebSubCallback(store, PushReceiver(store, config, clock),
                                         config.settings.max_size, clock))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield config, store, clock, topic
    server.shutdown()
    store.close()


def _titles(store: Store) -> set[str]:
    return {entry.title for entry in store.latest_entries(50)}


def test_subscribe_verify_push_forge_and_lease(
        wired: tuple[Config, Store, Clock, str], hub: LoopbackHub,
        caplog: pytest.LogCaptureFixture) -> None:
    config, store, clock, topic = wired
    session = make_session()
    outcomes = update_feeds(store, session, config, NOW)
    keep_subscriptions(store, session, config, outcomes, NOW)
    # subscribe -> the hub verified our intent on the callback, which echoed its challenge
    assert hub.verified.wait(10) and hub.challenges_failed == 0
    request = hub.requests[0]
    assert request["hub.mode"] == "subscribe" and request["hub.topic"] == topic
    assert request["hub.callback"].startswith(config.settings.websub_callback or "?")
    assert len(request["hub.secret"]) >= 24 and request["hub.lease_seconds"] == "604800"
    subscription = store.subscriptions()["poussé"]
    assert subscription.state == "active"
    assert subscription.expires_at == NOW + timedelta(seconds=hub.lease)

    # while the lease is live, polling goes on at the longer interval
    polled = NOW + timedelta(minutes=5)
    update_feeds(store, session, config, polled, force=True)
    state = store.feed_states(["poussé"])["poussé"]
    assert state.next_poll is not None and state.next_poll - polled >= timedelta(hours=6)

    # a push signed with our secret is stored like a fetched body
    clock.now = NOW + timedelta(minutes=10)
    assert hub.distribute(topic, atom(hub.url, topic, "Premier", "Poussé")) == [202]
    assert _titles(store) == {"Premier", "Poussé"}
    assert take_pushed() and not take_pushed()  # the daemon's next tick renders it

    # a forged push is acknowledged (2xx, W3C WebSub 8) but nothing is stored
    with caplog.at_level(logging.WARNING):
        statuses = hub.distribute(topic, atom(hub.url, topic, "Premier", "Poussé", "Faux"),
                                  secret="not-the-secret")
    assert statuses == [202] and "Faux" not in _titles(store) and not take_pushed()
    assert "WebSub push rejected, nothing stored: the signature does not match" in caplog.text

    # the lease ends: polling is back to the normal interval, and the lease is renewed
    hub.verified.clear()
    expired = NOW + timedelta(seconds=hub.lease + 60)
    update_feeds(store, session, config, expired, force=True)
    state = store.feed_states(["poussé"])["poussé"]
    assert state.next_poll is not None
    assert timedelta(hours=1) <= state.next_poll - expired <= timedelta(hours=1.1)
    clock.now = expired
    keep_subscriptions(store, session, config, [], expired)
    assert hub.verified.wait(10)
    renewed = store.subscriptions()["poussé"]
    assert renewed.state == "active" and renewed.token == subscription.token
    assert renewed.expires_at == expired + timedelta(seconds=hub.lease)


def test_verification_of_a_topic_we_did_not_ask_for_is_refused(
        wired: tuple[Config, Store, Clock, str], hub: LoopbackHub) -> None:
    config, store, _clock, topic = wired
    session = make_session()
    keep_subscriptions(store, session, config, update_feeds(store, session, config, NOW), NOW)
    assert hub.verified.wait(10)
    callback = next(iter(hub.subscriptions))
    other = requests.get(callback, params={"hub.mode": "subscribe", "hub.topic": topic + "x",
                                           "hub.challenge": "abc", "hub.lease_seconds": "60"})
    unknown = requests.get(callback.rsplit("/", 1)[0] + "/nope", params={
        "hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "abc"})
    assert (other.status_code, unknown.status_code) == (404, 404)
    assert "abc" not in other.text + unknown.text
    gone = requests.post(callback.rsplit("/", 1)[0] + "/nope", data=b"<feed/>")
    assert gone.status_code == 410
