"""The WebSub callback `run --serve` answers at /websub/<token>: a hub's verification of
intent (GET) and its pushes (POST), each judged by poll/websub_rules.py; a verified push
is handed on to be stored like a fetched body."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from aggregator.models import Subscription
from aggregator.poll.websub_rules import judge_verification, signature_problem
from aggregator.store import Store

log = logging.getLogger(__name__)

ROUTE = "/websub/"

# What a verified push is handed to: the subscription, the body and its headers.
PushHandler = Callable[[Subscription, bytes, Mapping[str, str]], object]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Answer:
    """An HTTP answer of the callback: its status and plain-text body."""

    status: int
    body: bytes = b""


@dataclass
class WebSubCallback:
    """The callback's two requests, on the subscriptions of `store`."""

    store: Store
    on_push: PushHandler
    max_size: int
    clock: Callable[[], datetime] = _utc_now

    @staticmethod
    def token(path: str) -> str | None:
        """The subscription token a request path names, or None if not a callback path."""
        route = path.split("?", 1)[0]
        if not route.startswith(ROUTE):
            return None
        token = route[len(ROUTE):]
        return token if token and "/" not in token else None

    def verify(self, token: str, query: Mapping[str, str]) -> Answer:
        """A hub's verification of intent: echo hub.challenge only for a request we made."""
        subscription = self.store.subscription_by_token(token)
        status, confirmed = judge_verification(subscription, query, self.clock())
        if confirmed is None:
            log.warning("WebSub: verification refused (404) for %s of topic %s: we did not "
                        "ask for it", query.get("hub.mode"), query.get("hub.topic"))
            return Answer(status, b"no such subscription\n")
        self.store.save_subscription(confirmed)
        if confirmed.state == "denied":
            log.warning("%s: WebSub: %s", confirmed.feed_name, confirmed.error)
            return Answer(status)
        log.info("%s: WebSub: %s pushes %s for %d s", confirmed.feed_name, confirmed.hub,
                 confirmed.topic, confirmed.lease_seconds or 0)
        return Answer(status, query.get("hub.challenge", "").encode("utf-8"))

    def push(self, token: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """A hub's push: stored when its signature proves it; else ignored, with a log
        line (and a 2xx all the same, as W3C WebSub 8 says: the hub did deliver)."""
        subscription = self.store.subscription_by_token(token)
        if subscription is None or subscription.state == "denied":
            log.warning("WebSub: push to an unknown callback refused (410 Gone)")
            return Answer(HTTPStatus.GONE, b"no such subscription\n")
        problem = signature_problem(subscription.secret, _header(headers, "X-Hub-Signature"),
                                    body)
        if problem:
            log.warning("%s: WebSub push rejected, nothing stored: %s", subscription.feed_name,
                        problem)
            return Answer(HTTPStatus.ACCEPTED)
        self.on_push(subscription, body, headers)
        return Answer(HTTPStatus.ACCEPTED)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
