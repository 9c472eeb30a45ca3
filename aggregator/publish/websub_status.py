"""WebSub in words, for `aggregator status`: our hub's last pings and the hubs that push
feeds to us. Pure, from the stored pings and subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aggregator.i18n import _, counted, translate_message
from aggregator.models import PingRecord, Subscription
from aggregator.poll.websub_rules import is_live
from aggregator.publish.status import local_time


def ping_summary(hub: str | None, pings: Sequence[PingRecord], tz: ZoneInfo) -> list[str]:
    """Lines on our hub: when it was last told, and the feeds it could not be told about."""
    if hub is None:
        return []
    mine = [p for p in pings if p.hub == hub]
    if not mine:
        return [_("WebSub hub %(hub)s: not told of any change yet") % {"hub": hub}]
    last = max(p.pinged_at for p in mine)
    failed = [p for p in mine if not p.ok]
    lines = [counted("WebSub hub %(hub)s: last told %(time)s; %(n)s feed ok",
                     "WebSub hub %(hub)s: last told %(time)s; %(n)s feeds ok",
                     len(mine) - len(failed), hub=hub, time=local_time(last, tz))]
    lines += [_("  %(url)s: failed %(time)s after %(attempts)s attempts: %(error)s; told "
                "again at the next render") % {
        "url": p.url, "time": local_time(p.pinged_at, tz), "attempts": p.attempts,
        "error": translate_message(p.error or "")} for p in failed]
    return lines


def push_words(subscription: Subscription | None, now: datetime, tz: ZoneInfo) -> str | None:
    """How a feed's hub pushes it to us, in words; None when it has no subscription."""
    if subscription is None:
        return None
    if is_live(subscription, now):
        return _("pushed by %(hub)s until %(time)s") % {
            "hub": subscription.hub, "time": local_time(subscription.expires_at, tz)}
    if subscription.state == "denied":
        return _("%(hub)s refused to push it: %(error)s") % {
            "hub": subscription.hub, "error": subscription.error or ""}
    if subscription.state == "active":
        return _("the lease of %(hub)s ended %(time)s: polled as before, renewal asked") % {
            "hub": subscription.hub, "time": local_time(subscription.expires_at, tz)}
    return _("waiting since %(time)s for %(hub)s to verify the subscription%(error)s") % {
        "hub": subscription.hub, "time": local_time(subscription.requested_at, tz),
        "error": f" ({subscription.error})" if subscription.error else ""}


def push_summary(subscriptions: Mapping[str, Subscription], now: datetime,
                 tz: ZoneInfo) -> list[str]:
    """One line per feed that has a WebSub subscription, by feed name."""
    return [f"{name}: {push_words(subscriptions[name], now, tz)}"
            for name in sorted(subscriptions)]
