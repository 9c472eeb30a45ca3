"""The tables of what goes out and what comes back to us: alerts' sends and the mark of
their last round, newsletters' deliveries, WebSub subscriptions and pings. Apart from
schema.py so that each stays readable; the Store's mixins import them, so they join
Base.metadata whenever the store is imported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aggregator.store.schema import Base, UTCDateTime


class AlertSendRow(Base):
    """An article an alert told (or is telling, or failed to tell) one of its targets of:
    unique, so that whichever worker inserts it first is the one that sends it."""

    __tablename__ = "alert_sends"
    __table_args__ = (
        UniqueConstraint("alert", "target", "article_id", name="uq_alert_sends"),
        Index("ix_alert_sends_claimed_by", "claimed_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert: Mapped[str] = mapped_column(String(200))
    # A hash of the Apprise address: the address itself holds the service's secret token.
    target: Mapped[str] = mapped_column(String(64))
    # The article's id (its first stored entry's): its copies alert under it, once.
    article_id: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # While set and not past, a sender holds the row; a row held past it without a
    # result was interrupted mid-send and is reported, not sent again.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SubscriptionRow(Base):
    """Our WebSub subscription to a feed's hub (see models.Subscription)."""

    __tablename__ = "websub_subscriptions"

    feed_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hub: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(Text)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class PingRow(Base):
    """The last time our hub was told that one of our feeds changed."""

    __tablename__ = "websub_pings"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    hub: Mapped[str] = mapped_column(Text)
    pinged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    """A newsletter's period, claimed before its message is sent and recorded after: the
    unique pair is what makes it leave once, whatever the workers and restarts."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("newsletter", "period", name="uq_deliveries_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Unset while the message may be leaving: a claim never recorded is a crash to report.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    articles: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(Text)
    # {recipient: the server's answer} for those it refused or never reached.
    errors: Mapped[dict[str, str] | None] = mapped_column(JSON)


class MarkRow(Base):
    """A moment the daemons and commands sharing the database agree on, by name: "alerts",
    where the next round of alerts starts (see store/alerts.py)."""

    __tablename__ = "marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
