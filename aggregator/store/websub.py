"""WebSub: our subscriptions to the hubs of the feeds we poll, and the last pings of our
own hub, stored as the decisions of poll/websub_rules.py and publish/websub.py left them."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import delete, select

from aggregator.models import PingRecord, Subscription
from aggregator.store import status_rows
from aggregator.store.base import StoreBase, wrap_errors
from aggregator.store.schema_deliver import PingRow, SubscriptionRow
from aggregator.store.status_rows import SUBSCRIPTION_COLUMNS, subscription_of


class WebSubMixin(StoreBase):
    """The Store's methods on WebSub subscriptions and pings."""

    @wrap_errors("read the WebSub subscriptions")
    def subscriptions(self) -> dict[str, Subscription]:
        """Every subscription, by the name of its feed."""
        return status_rows.subscriptions(self._text_rows)

    @wrap_errors("read a WebSub subscription")
    def subscription_by_token(self, token: str) -> Subscription | None:
        """The subscription whose callback address ends with `token`, if any."""
        with self._session() as session:
            row = session.scalars(select(SubscriptionRow)
                                  .where(SubscriptionRow.token == token)).first()
            return _subscription(row) if row else None

    @wrap_errors("save a WebSub subscription")
    def save_subscription(self, subscription: Subscription) -> None:
        """Store `subscription` in place of its feed's previous one."""
        with self._session.begin() as session:
            row = session.get(SubscriptionRow, subscription.feed_name)
            if row is None:
                row = SubscriptionRow(feed_name=subscription.feed_name)
                session.add(row)
            for name in ("hub", "topic", "token", "secret", "state", "requested_at",
                         "lease_seconds", "expires_at", "error"):
                setattr(row, name, getattr(subscription, name))

    @wrap_errors("remove WebSub subscriptions")
    def remove_subscriptions(self, feed_names: Collection[str]) -> None:
        """Forget the subscriptions of these feeds."""
        if not feed_names:
            return
        with self._session.begin() as session:
            session.execute(delete(SubscriptionRow)
                            .where(SubscriptionRow.feed_name.in_(list(feed_names))))

    @wrap_errors("read the WebSub pings")
    def pings(self) -> list[PingRecord]:
        """The last ping of each of our feeds, oldest first."""
        return status_rows.pings(self._text_rows)

    @wrap_errors("save the WebSub pings")
    def save_pings(self, records: Iterable[PingRecord]) -> None:
        """Keep each ping as its feed's last."""
        with self._session.begin() as session:
            for record in records:
                row = session.get(PingRow, record.url) or PingRow(url=record.url)
                row.hub, row.pinged_at, row.ok = record.hub, record.pinged_at, record.ok
                row.attempts, row.error = record.attempts, record.error
                session.add(row)


def _subscription(row: SubscriptionRow) -> Subscription:
    return subscription_of([getattr(row, column) for column in SUBSCRIPTION_COLUMNS])
