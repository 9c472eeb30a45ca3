"""WebSub subscriptions kept: after each round of polls, the hubs that feeds declare are
asked to push them to our callback, leases renewed before they end, stale ones dropped
(the decisions are websub_rules.py's; this module does the HTTP and the storing)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import requests

from aggregator.config.load import Config, Settings
from aggregator.models import Subscription, UpdateOutcome
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.websub_rules import LEASE, SubscriptionIntent, plan_subscriptions
from aggregator.store import Store

log = logging.getLogger(__name__)

CALLBACK_PATH = "websub/"  # the callback route under settings.websub_callback


def callback_url(base: str, token: str) -> str:
    """The callback address of one subscription: unique, as its token is."""
    return f"{base}{CALLBACK_PATH}{token}"


def keep_subscriptions(
    store: Store, session: requests.Session, config: Config,
    outcomes: Sequence[UpdateOutcome], now: datetime, *,
    mint: Callable[[], str] = lambda: secrets.token_urlsafe(24),
) -> list[Subscription]:
    """Subscribe, renew and drop as plan_subscriptions says; the subscriptions asked for.

    Nothing happens without settings.websub_callback: no hub could reach us.
    """
    callback = config.settings.websub_callback
    if callback is None:
        return []
    read = {o.feed: o.hub_links for o in outcomes if o.hub_links is not None}
    feeds = {feed.name for feed in config.feeds if feed.enabled}
    intents = plan_subscriptions(feeds, read, store.subscriptions(), now)
    store.remove_subscriptions([i.feed_name for i in intents if i.action == "drop"])
    asked = []
    for intent in intents:
        if intent.action != "drop":
            asked.append(_ask(store, session, config, intent, now, mint))
    return asked


def _ask(store: Store, session: requests.Session, config: Config,
         intent: SubscriptionIntent, now: datetime, mint: Callable[[], str]) -> Subscription:
    """Store the request first (a hub may verify before it answers), then send it."""
    current = intent.current
    if intent.action == "renew" and current is not None:
        # The same token and secret: pushes signed before the renewal still verify.
        asked = replace(current, requested_at=now)
    else:
        asked = Subscription(intent.feed_name, intent.hub, intent.topic, token=mint(),
                             secret=mint(), state="pending", requested_at=now)
    store.save_subscription(asked)
    feed = config.feed(intent.feed_name)
    error = send_subscribe(session, asked, config.settings, feed.url if feed else None)
    if error:
        log.warning("%s: WebSub: could not subscribe at %s: %s", intent.feed_name,
                    intent.hub, error)
        asked = replace(asked, error=error)
        store.save_subscription(_unless_verified(store, asked))
    else:
        log.info("%s: WebSub: asked %s to push %s", intent.feed_name, intent.hub, intent.topic)
    return asked


def _unless_verified(store: Store, asked: Subscription) -> Subscription:
    """`asked` with its error, over what the hub's verification may have stored since."""
    stored = store.subscription_by_token(asked.token)
    return replace(stored, error=asked.error) if stored else asked


def send_subscribe(session: requests.Session, subscription: Subscription, settings: Settings,
                   feed_url: str | None) -> str | None:
    """POST the subscription request to the hub (W3C WebSub 5.1); why it failed, or None.

    The hub's address comes from a feed: it may reach what a fetch of that feed may.
    """
    assert settings.websub_callback is not None
    refusal = AddressPolicy(settings.allow_private_networks).refusal(subscription.hub,
                                                                     origin=feed_url)
    if refusal:
        return refusal
    form = {"hub.mode": "subscribe", "hub.topic": subscription.topic,
            "hub.callback": callback_url(settings.websub_callback, subscription.token),
            "hub.secret": subscription.secret,
            "hub.lease_seconds": str(int(LEASE.total_seconds()))}
    try:
        answer = session.post(subscription.hub, data=form, timeout=settings.timeout,
                              allow_redirects=False)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}: {answer.text[:200].strip()}"
