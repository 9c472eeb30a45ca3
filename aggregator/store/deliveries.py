"""Newsletter deliveries: a (newsletter, period) claimed before its message leaves, so that
one worker alone sends it, and recorded after, with the recipients the server refused."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from aggregator.store.base import StoreBase, wrap_errors
from aggregator.store.glance import DELIVERY_COLUMNS, Delivery, delivery_of
from aggregator.store.schema_deliver import DeliveryRow


class DeliveriesMixin(StoreBase):
    """The Store's methods for newsletters' deliveries."""

    @wrap_errors("claim a newsletter")
    def claim_delivery(self, newsletter: str, period: str, worker: str, now: datetime,
                       *, resend: bool = False) -> bool:
        """Whether this worker may send the period now: the unique (newsletter, period)
        lets one claim in, on SQLite and PostgreSQL alike. `resend` takes the period over
        even when it was claimed or sent before (the user asked for it)."""
        with self._session() as session:
            if resend:
                session.execute(delete(DeliveryRow).where(
                    DeliveryRow.newsletter == newsletter, DeliveryRow.period == period))
            session.add(DeliveryRow(newsletter=newsletter, period=period, claimed_by=worker,
                                    claimed_at=now, delivered=0, articles=0))
            try:
                session.commit()
            except IntegrityError:  # another worker's claim, or an earlier run's
                session.rollback()
                return False
        return True

    @wrap_errors("record a newsletter")
    def record_delivery(self, newsletter: str, period: str, sent_at: datetime, *,
                        delivered: int, articles: int, message_id: str | None,
                        errors: Mapping[str, str]) -> None:
        """Write down what the sending of a claimed period came to."""
        with self._session() as session, session.begin():
            session.execute(update(DeliveryRow).where(
                DeliveryRow.newsletter == newsletter, DeliveryRow.period == period).values(
                sent_at=sent_at, delivered=delivered, articles=articles,
                message_id=message_id, errors=dict(errors) or None))

    @wrap_errors("read the deliveries")
    def deliveries(self, newsletter: str | None = None, limit: int = 50) -> list[Delivery]:
        """The latest claims, newest first; of one newsletter with `newsletter`."""
        query = select(DeliveryRow).order_by(DeliveryRow.claimed_at.desc(),
                                             DeliveryRow.id.desc()).limit(limit)
        if newsletter is not None:
            query = query.where(DeliveryRow.newsletter == newsletter)
        with self._session() as session:
            return [_delivery(row) for row in session.scalars(query)]

    @wrap_errors("read a delivery")
    def delivery(self, newsletter: str, period: str) -> Delivery | None:
        """The claim of one period, if any."""
        with self._session() as session:
            row = session.scalars(select(DeliveryRow).where(
                DeliveryRow.newsletter == newsletter, DeliveryRow.period == period)).first()
            return _delivery(row) if row else None


def _delivery(row: DeliveryRow) -> Delivery:
    return delivery_of([getattr(row, column) for column in DELIVERY_COLUMNS])
