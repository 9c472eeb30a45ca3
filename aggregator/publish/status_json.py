"""The alerts, newsletters and WebSub parts of `status --json --all`: what the tables under the
feeds show, as plain data with ISO 8601 times. Pure, from the stored records and `now`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aggregator.models import PingRecord, Subscription
from aggregator.poll.websub_rules import is_live
from aggregator.publish.status import STUCK_AFTER, delivery_problems, explain_alert

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from aggregator.store.glance import Delivery
    from aggregator.store.status_rows import TargetRecord

# The shape's version: a key removed or changed in meaning raises it; keys may be added.
SHAPE_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO 8601, None for none."""
    return moment.isoformat() if moment else None


def alert_record(alert: str, target: str, record: TargetRecord | None) -> dict[str, object]:
    """One alert target's sends (`target`: its address without secrets): counts, the last
    send, the last error, and the table's sentence."""
    return {
        "alert": alert, "target": target,
        "sent": record.sent if record else 0,
        "last_sent": iso(record.last_sent if record else None),
        "failing": record.failing if record else 0,
        "interrupted": record.interrupted if record else 0,
        "given_up": record.given_up if record else 0,
        "last_error": record.last_error if record else None,
        "ok": not (record and (record.failing or record.interrupted)),
        "what_happened": explain_alert(record),
    }


def newsletter_record(name: str, deliveries: Sequence[Delivery], now: datetime,
                      tz: ZoneInfo) -> dict[str, object]:
    """One newsletter: its latest period (refused recipients included), the periods
    claimed and never recorded (a sender that stopped mid-send: they may have left), and
    the sentences `status` prints. `deliveries`: the newsletter's, newest first."""
    latest = deliveries[0] if deliveries else None
    unrecorded = [d for d in deliveries if d.sent_at is None and now - d.claimed_at > STUCK_AFTER]
    return {
        "name": name,
        "latest": _delivery(latest) if latest else None,
        "unrecorded": [{"period": d.period, "claimed_by": d.claimed_by,
                        "claimed_at": iso(d.claimed_at)} for d in unrecorded],
        "problems": delivery_problems(deliveries, now, tz),
    }


def _delivery(delivery: Delivery) -> dict[str, object]:
    return {"period": delivery.period, "claimed_by": delivery.claimed_by,
            "claimed_at": iso(delivery.claimed_at), "sent_at": iso(delivery.sent_at),
            "delivered": delivery.delivered, "articles": delivery.articles,
            "refused": dict(sorted(delivery.errors.items()))}


def websub_record(hub: str | None, pings: Iterable[PingRecord],
                  subscriptions: Mapping[str, Subscription], now: datetime
                  ) -> dict[str, object]:
    """Our hub and the last ping of each of our feeds to it; each polled feed's
    subscription to its own hub, whether it is live (pushing) now."""
    return {
        "hub": hub,
        "pings": [{"url": p.url, "pinged_at": iso(p.pinged_at), "ok": p.ok,
                   "attempts": p.attempts, "error": p.error}
                  for p in pings if p.hub == hub],
        "subscriptions": [
            {"feed": name, "hub": s.hub, "topic": s.topic, "state": s.state,
             "live": is_live(s, now), "requested_at": iso(s.requested_at),
             "expires_at": iso(s.expires_at), "error": s.error}
            for name, s in sorted(subscriptions.items())],
    }
