"""WebSub subscriptions decided: which to ask for, renew or drop, how a hub's verification
of intent and a push's signature are judged, how often a pushed feed is still polled.
Pure functions of data and `now`, like decide.py (the W3C WebSub recommendation, 5-8)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from aggregator.models import HubLinks, Subscription

LEASE = timedelta(days=7)  # the lease we ask for; the hub decides the one we get
# A live lease is renewed once less than this part of it is left, at least RENEW_MIN.
RENEW_PART = 0.2
RENEW_MIN = timedelta(hours=1)
# A request the hub has not verified (or refused) is asked again after this long.
RETRY_PENDING = timedelta(hours=1)
RETRY_DENIED = timedelta(days=1)
# Signatures we accept (X-Hub-Signature: method=hex): sha1 is too weak to trust.
SIGNATURE_METHODS = frozenset({"sha256", "sha384", "sha512"})

Action = Literal["subscribe", "renew", "drop"]


@dataclass(frozen=True)
class SubscriptionIntent:
    """What to do about one feed's subscription: ask a hub anew (a new token and secret),
    renew the one we have, or drop it."""

    action: Action
    feed_name: str
    hub: str
    topic: str
    current: Subscription | None = None


def plan_subscriptions(
    feeds: Collection[str], read: Mapping[str, HubLinks], known: Mapping[str, Subscription],
    now: datetime,
) -> list[SubscriptionIntent]:
    """The intents for the polled `feeds` (enabled in feeds.yaml): `read` holds the hub
    links of the documents just read, `known` the stored subscriptions."""
    intents = [SubscriptionIntent("drop", s.feed_name, s.hub, s.topic, s)
               for s in known.values() if s.feed_name not in feeds]
    for name in sorted(feeds):
        current, links = known.get(name), read.get(name)
        if links is not None and links.hub is None:
            if current is not None:  # the feed no longer declares a hub
                intents.append(SubscriptionIntent("drop", name, current.hub, current.topic,
                                                  current))
        elif links is not None and (current is None or (links.hub, links.topic)
                                    != (current.hub, current.topic)):
            assert links.hub is not None
            intents.append(SubscriptionIntent("subscribe", name, links.hub, links.topic,
                                              current))
        elif current is not None and needs_request(current, now):
            intents.append(SubscriptionIntent("renew", name, current.hub, current.topic,
                                              current))
    return intents


def needs_request(subscription: Subscription, now: datetime) -> bool:
    """Whether to ask the hub again: a lease near its end, or a request long unanswered."""
    since = now - subscription.requested_at
    if subscription.state == "denied":
        return since >= RETRY_DENIED
    if subscription.state == "pending" or subscription.expires_at is None:
        return since >= RETRY_PENDING
    lease = timedelta(seconds=subscription.lease_seconds or 0)
    left = subscription.expires_at - now
    return left <= max(lease * RENEW_PART, RENEW_MIN) and since >= min(RETRY_PENDING,
                                                                     lease * RENEW_PART / 4)


def is_live(subscription: Subscription | None, now: datetime) -> bool:
    """Whether the hub pushes this feed to us now: verified, and the lease not over."""
    return (subscription is not None and subscription.state == "active"
            and subscription.expires_at is not None and subscription.expires_at > now)


def polling_interval(interval: timedelta, subscription: Subscription | None,
                     pushed: timedelta, now: datetime) -> timedelta:
    """A feed's polling interval: the longer `pushed` one while its hub pushes, never
    past the end of the lease (polling then resumes at `interval`)."""
    if not is_live(subscription, now):
        return interval
    assert subscription is not None and subscription.expires_at is not None
    return max(interval, min(max(interval, pushed), subscription.expires_at - now))


Verification = tuple[int, Subscription | None]  # the HTTP status, the subscription to store


def judge_verification(subscription: Subscription | None, query: Mapping[str, str],
                       now: datetime) -> Verification:
    """A hub's verification of intent (GET with hub.mode, hub.topic, hub.challenge):
    200 to confirm a subscription we asked for, and the subscription as it becomes;
    404 to anything else (W3C WebSub 5.3: a subscriber that did not ask says 404)."""
    mode, topic = query.get("hub.mode"), query.get("hub.topic")
    if subscription is None or topic != subscription.topic:
        return 404, None
    if mode == "denied":
        reason = query.get("hub.reason") or "no reason given"
        return 200, replace(subscription, state="denied", expires_at=None,
                            error=f"refused by the hub: {reason}"[:500])
    if mode != "subscribe" or not query.get("hub.challenge"):
        return 404, None
    lease = _seconds(query.get("hub.lease_seconds")) or int(LEASE.total_seconds())
    return 200, replace(subscription, state="active", lease_seconds=lease,
                        expires_at=now + timedelta(seconds=lease), error=None)


def _seconds(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 10:
        return None
    return int(value) or None


def signature_problem(secret: str, header: str | None, body: bytes) -> str | None:
    """Why a push's X-Hub-Signature does not prove it came from our hub; None when it
    does (an HMAC of the body with our secret, compared in constant time)."""
    if not header:
        return "no X-Hub-Signature"
    method, _sep, given = header.strip().partition("=")
    method = method.lower()
    if method not in SIGNATURE_METHODS:
        return f"signature method {method[:20]!r} not accepted (sha256 or better)"
    expected = hmac.new(secret.encode("utf-8"), body, getattr(hashlib, method)).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("latin-1",
                                                                                  "replace")):
        return "the signature does not match"
    return None
