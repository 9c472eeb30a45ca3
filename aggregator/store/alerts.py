"""Alerts: the new articles they may tell of, where the next round starts, and the record
of what each alert told each target, claimed row by row so that no article alerts twice
across restarts and workers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from aggregator.models import StoredEntry
from aggregator.store import status_rows
from aggregator.store.base import StoreBase, wrap_errors
from aggregator.store.reads import SHOWN, _with_copies
from aggregator.store.schema import Base, EntryRow
from aggregator.store.schema_deliver import AlertSendRow, MarkRow
from aggregator.store.status_rows import TargetRecord

# The name of the alerts' row in the marks table.
ALERTS_MARK = "alerts"


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article an alert may tell of: the copy it shows, and when we first stored it
    (its first entry's first sight, which its later copies do not change)."""

    article_id: int
    entry: StoredEntry
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """The articles one sender holds for one alert's target: new ones and retries."""

    token: str
    article_ids: tuple[int, ...]


class AlertsMixin(StoreBase):
    """The Store's methods for alerts."""

    @wrap_errors("read where alerts start")
    def alerts_mark(self, now: datetime) -> datetime:
        """Where the next round of alerts starts: when the last completed round began, or
        `now`, kept as the start, when no round ever ran on this database."""
        with self._session.begin() as session:
            session.execute(_insert_ignoring(session, MarkRow, ["name"]),
                            [{"name": ALERTS_MARK, "at": now}])
            return session.scalars(select(MarkRow.at)
                                   .where(MarkRow.name == ALERTS_MARK)).one()

    @wrap_errors("move where alerts start")
    def advance_alerts_mark(self, to: datetime) -> None:
        """Say a round of alerts begun at `to` completed; the mark never goes back (another
        worker's later round may have moved it further already)."""
        with self._session.begin() as session:
            session.execute(_insert_ignoring(session, MarkRow, ["name"]),
                            [{"name": ALERTS_MARK, "at": to}])
            session.execute(update(MarkRow).where(MarkRow.name == ALERTS_MARK,
                                                  MarkRow.at < to).values(at=to))

    @wrap_errors("read the new articles")
    def new_articles(self, since: datetime, published_after: datetime) -> list[NewArticle]:
        """Articles first stored at or after `since` whose shown copy is filed at or after
        `published_after` (on the filing-date index), with their copies."""
        founder = aliased(EntryRow)
        query = (select(*SHOWN, founder.first_seen.label("article_seen"))
                 .join(founder, founder.id == func.coalesce(EntryRow.article_id, EntryRow.id))
                 .where(EntryRow.is_canonical.is_(True), EntryRow.dated >= published_after,
                        founder.first_seen >= since)
                 .order_by(EntryRow.dated, EntryRow.id))
        with self._session() as session:
            rows = list(session.execute(query))
            entries = _with_copies(session, rows)
        return [NewArticle(row.article_id or row.id, entry, row.article_seen)
                for row, entry in zip(rows, entries, strict=True)]

    @wrap_errors("claim the alerts to send")
    def claim_alert_sends(self, alert: str, target: str, article_ids: Sequence[int],
                          now: datetime, lease: timedelta, retry_after: datetime) -> Claim:
        """Hold for one send the articles of `article_ids` no sender took yet for this
        alert and target, and those whose send failed since `retry_after`."""
        token = uuid.uuid4().hex
        held = {"claimed_by": token, "claimed_until": now + lease}
        with self._session.begin() as session:
            if article_ids:
                session.execute(_insert_new(session), [
                    {"alert": alert, "target": target, "article_id": article_id,
                     "claimed_at": now, "attempts": 0, **held}
                    for article_id in dict.fromkeys(article_ids)])
            session.execute(update(AlertSendRow).where(
                AlertSendRow.alert == alert, AlertSendRow.target == target,
                AlertSendRow.sent_at.is_(None), AlertSendRow.error.is_not(None),
                AlertSendRow.claimed_at >= retry_after,
                or_(AlertSendRow.claimed_until.is_(None), AlertSendRow.claimed_until < now),
            ).values(**held))
            ids = session.scalars(select(AlertSendRow.article_id)
                                  .where(AlertSendRow.claimed_by == token)
                                  .order_by(AlertSendRow.id))
            return Claim(token, tuple(ids))

    @wrap_errors("record an alert's send")
    def finish_alert_sends(self, token: str, now: datetime, error: str | None) -> None:
        """Record how the send of a claim went: sent at `now`, or failed with `error`."""
        done: dict[str, Any] = ({"sent_at": now, "error": None} if error is None
                                else {"error": error})
        with self._session.begin() as session:
            session.execute(update(AlertSendRow).where(AlertSendRow.claimed_by == token)
                            .values(claimed_by=None, claimed_until=None,
                                    attempts=AlertSendRow.attempts + 1, **done))

    @wrap_errors("read the alerts' sends")
    def alert_records(self, now: datetime, retry_after: datetime) -> list[TargetRecord]:
        """Each alert and target's sends, failures and interruptions, by alert and target."""
        return status_rows.alert_records(self._text_rows, now, retry_after)


def _insert_new(session: Session) -> Any:
    """An INSERT that skips the rows another sender inserted first (the unique key)."""
    return _insert_ignoring(session, AlertSendRow, ["alert", "target", "article_id"])


def _insert_ignoring(session: Session, row: type[Base], key: list[str]) -> Any:
    """An INSERT of `row`'s table that skips the rows whose `key` is already there."""
    # Imported here: the PostgreSQL dialect (with its asyncpg and psycopg parts) is ~30 ms
    # of every command's start-up on SQLite, which has no use for it.
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(row.__table__).on_conflict_do_nothing(index_elements=key)
