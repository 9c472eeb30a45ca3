"""What `status` shows of alerts and WebSub, read one way: each read's SQL and its rows made
dataclasses, run by the Store (alerts.py, websub.py, through its session) and the glance
(glance.py, without the ORM). The SQL names the columns of schema_deliver.py's tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from aggregator.models import PingRecord, Subscription, SubscriptionState

# A statement's rows, its :names bound to the values given (times aware, in UTC).
Rows = Callable[[str, Mapping[str, Any]], list[Sequence[Any]]]

_STATES: tuple[SubscriptionState, ...] = ("pending", "active", "denied")


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """What an alert did for one of its targets: sent, failing, given up, interrupted."""

    alert: str
    target: str
    sent: int
    last_sent: datetime | None
    failing: int  # failed, to be retried
    given_up: int  # failed, and too old to retry
    interrupted: int  # claimed by a sender that stopped before saying how it went
    last_error: str | None


# A send that failed; claimed since :retry_after, it is retried, else given up.
_UNSENT = "sent_at IS NULL AND error IS NOT NULL"
_FRESH = "claimed_at >= :retry_after"
# Claimed past its lease by a sender that never said how it went.
_INTERRUPTED = "sent_at IS NULL AND error IS NULL AND claimed_until < :now"
ALERT_RECORDS = (
    "SELECT alert, target, count(sent_at), max(sent_at), "
    + ", ".join(f"coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"
                for condition in (f"{_UNSENT} AND {_FRESH}", f"{_UNSENT} AND NOT {_FRESH}",
                                  _INTERRUPTED))
    + " FROM alert_sends GROUP BY alert, target ORDER BY alert, target")
# The latest error of each alert and target whose last send failed (the last row wins).
LAST_ERRORS = f"SELECT alert, target, error FROM alert_sends WHERE {_UNSENT} ORDER BY id"

SUBSCRIPTION_COLUMNS = ("feed_name", "hub", "topic", "token", "secret", "state",
                        "requested_at", "lease_seconds", "expires_at", "error")
PINGS = "SELECT url, hub, pinged_at, ok, attempts, error FROM websub_pings " \
        "ORDER BY pinged_at, url"


def alert_records(rows: Rows, now: datetime, retry_after: datetime) -> list[TargetRecord]:
    """Each alert and target's sends, failures and interruptions, by alert and target."""
    errors = {(alert, target): error or "" for alert, target, error in rows(LAST_ERRORS, {})}
    return [TargetRecord(alert, target, sent, moment(last_sent), failing, given_up,
                         interrupted, errors.get((alert, target)))
            for alert, target, sent, last_sent, failing, given_up, interrupted
            in rows(ALERT_RECORDS, {"now": now, "retry_after": retry_after})]


def subscriptions(rows: Rows) -> dict[str, Subscription]:
    """Every WebSub subscription, by the name of its feed."""
    found = [subscription_of(row) for row in rows(
        f"SELECT {', '.join(SUBSCRIPTION_COLUMNS)} FROM websub_subscriptions", {})]
    return {subscription.feed_name: subscription for subscription in found}


def subscription_of(values: Sequence[Any]) -> Subscription:
    """A Subscription from its row's SUBSCRIPTION_COLUMNS (an unknown state: pending)."""
    feed_name, hub, topic, token, secret, state, requested_at, lease_seconds, expires_at, \
        error = values
    return Subscription(
        feed_name=feed_name, hub=hub, topic=topic, token=token, secret=secret,
        state=state if state in _STATES else "pending", requested_at=moment(requested_at),
        lease_seconds=lease_seconds, expires_at=moment(expires_at), error=error)


def pings(rows: Rows) -> list[PingRecord]:
    """The last ping of each of our feeds, oldest first."""
    return [PingRecord(url, hub, moment(pinged_at), bool(ok), attempts, error)
            for url, hub, pinged_at, ok, attempts, error in rows(PINGS, {})]


def stored(value: datetime) -> datetime:
    """An aware time as the tables keep it: naive UTC (schema.py's UTCDateTime binds so)."""
    return value.astimezone(UTC).replace(tzinfo=None)


@overload
def moment(value: datetime | str) -> datetime: ...


@overload
def moment(value: None) -> None: ...


def moment(value: datetime | str | None) -> datetime | None:
    """A stored UTC time, aware (schema.py's UTCDateTime: naive UTC, text in SQLite)."""
    if value is None:
        return None
    naive = datetime.fromisoformat(value) if isinstance(value, str) else value
    return naive.replace(tzinfo=UTC)
