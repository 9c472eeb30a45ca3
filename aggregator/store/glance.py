"""A glance at the database without SQLAlchemy's ORM: what `status` shows of the feeds,
newsletters, alerts and WebSub (the last two read as status_rows.py reads them for the
Store), and what `fetch` reads to find that no feed is due (issue 21: each in 0.5 s,
of which importing the ORM and the tables took 0.3 s). A SQLite file is read with the
stdlib's sqlite3, a server through SQLAlchemy Core. Only a database at HEAD_REVISION is
opened: any other is the Store's to create or migrate. The queries name the columns of
schema.py's tables; tests/test_glance.py checks that they read what the Store reads from
the same databases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from aggregator.models import FeedState, PageCounts, PingRecord, StoredEntry, Subscription
from aggregator.store import status_rows
from aggregator.store.entry_rows import (
    BLOG_COLUMNS,
    CHUNK,
    SHOWN_COLUMNS,
    SHOWN_JSON,
    SHOWN_MOMENTS,
    blog_of,
    plain_entries,
)
from aggregator.store.errors import StoreError
from aggregator.store.status_rows import Rows, TargetRecord, moment, stored

if TYPE_CHECKING:
    from aggregator.config.load import FeedConfig

# The newest migration (tests/test_db.py checks it against the scripts): a database
# already there, or a new one, opens without loading Alembic (8 MB in every process).
HEAD_REVISION = "0019"
# An entry's page_status when its feed's full_text never asked for its page (NULL).
NOT_NEEDED = "not-needed"

# The columns of `feeds` a FeedState takes under the same names; its layout
# (boilerplate, entry_digests) only parsing needs, and it is left unread.
FEED_COLUMNS = ("name", "url", "title", "site_url", "etag", "last_modified", "last_polled",
                "last_success", "last_error", "failures", "next_poll", "moved_to",
                "moved_at", "gone_at", "content_hash", "interval_hint", "last_status",
                "failing_since")
MOMENTS = {"last_polled", "last_success", "next_poll", "moved_at", "gone_at",
           "failing_since"}

# The columns of `deliveries` a Delivery takes, in its fields' order.
DELIVERY_COLUMNS = ("newsletter", "period", "claimed_by", "claimed_at", "sent_at", "delivered",
                    "articles", "message_id", "errors")


@dataclass(frozen=True)
class Delivery:
    """A period of a newsletter as the database knows it; `sent_at` None while it is
    claimed and not recorded: being sent, or the sender died before it could say."""

    newsletter: str
    period: str
    claimed_by: str
    claimed_at: datetime
    sent_at: datetime | None = None
    delivered: int = 0
    articles: int = 0
    message_id: str | None = None
    errors: Mapping[str, str] = field(default_factory=dict)


def delivery_of(values: Sequence[Any]) -> Delivery:
    """A Delivery from its row's DELIVERY_COLUMNS (no errors: NULL)."""
    newsletter, period, claimed_by, claimed_at, sent_at, delivered, articles, message_id, \
        errors = values
    return Delivery(newsletter, period, claimed_by, claimed_at, sent_at, delivered, articles,
                    message_id, errors or {})


def in_step(feed: FeedConfig, url: str, tags: Sequence[str] | None,
            config_hash: str | None) -> bool:
    """Whether a feed's stored row says what its feeds.yaml entry says: then syncing it
    changes nothing (store/feeds.py sync_feeds keeps the rows so)."""
    return url == feed.url and list(tags or []) == list(feed.tags) \
        and config_hash == feed.fingerprint()


class Glance:
    """Reads of the feeds' rows on one connection, closed by `close`."""

    def __init__(self, rows: Rows, close: Callable[[], None],
                 errors: tuple[type[Exception], ...]) -> None:
        self._rows, self.close, self._errors = rows, close, errors

    @classmethod
    def open(cls, url: str) -> Glance | None:
        """A glance at the database of `url`, if it is at HEAD_REVISION; None when it is
        missing, older or newer, or cannot be read now (the Store opens it and says why)."""
        path = _sqlite_file(url)
        glance = cls._sqlite(path) if path else None
        if glance is None and url.startswith("postgresql"):
            glance = cls._core(url)
        if glance is None:
            return None
        try:
            revision = glance._rows("SELECT version_num FROM alembic_version", {})
        except glance._errors:
            revision = []
        if [tuple(row) for row in revision] != [(HEAD_REVISION,)]:
            glance.close()
            return None
        return glance

    @classmethod
    def _sqlite(cls, path: str) -> Glance | None:
        try:  # mode=rw: a missing file is not created (the Store creates the schema too)
            connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=30)
        except sqlite3.Error:
            return None

        def rows(sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
            # Times as SQLAlchemy's SQLite DateTime stores them, which text compares.
            return connection.execute(sql, {name: stored(value).isoformat(" ", "microseconds")
                                            if isinstance(value, datetime) else value
                                            for name, value in params.items()}).fetchall()

        return cls(rows, connection.close, (sqlite3.Error,))

    @classmethod
    def _core(cls, url: str) -> Glance | None:
        # SQLAlchemy Core and the server's driver, not the ORM: imported for a server only.
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            engine = create_engine(url)
            connection = engine.connect()
        except (ImportError, SQLAlchemyError):
            return None

        def close() -> None:
            connection.close()
            engine.dispose()

        def rows(sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
            return list(connection.execute(text(sql), {
                name: stored(value) if isinstance(value, datetime) else value
                for name, value in params.items()}).all())

        return cls(rows, close, (SQLAlchemyError,))

    def _read(self, action: str, sql: str,
              params: Mapping[str, Any] | None = None) -> list[Sequence[Any]]:
        """The rows of `sql`; the driver's errors as StoreError, in store/base.py's words."""
        try:
            return self._rows(sql, params or {})
        except self._errors as error:
            reason = f"{type(error).__name__}: {getattr(error, 'orig', None) or error}"
            raise StoreError(f"could not {action}: {reason.splitlines()[0]}",
                             kind=type(error).__name__, reason=reason) from error

    def in_step(self, feeds: Iterable[FeedConfig]) -> bool:
        """Whether every feed of feeds.yaml has its row, as sync_feeds would leave it."""
        rows = {name: (url, _json(tags), config_hash) for name, url, tags, config_hash
                in self._read("read the feeds", "SELECT name, url, tags, config_hash FROM feeds")}
        return all(feed.name in rows and in_step(feed, *rows[feed.name]) for feed in feeds)

    def feed_states(self, *, count_entries: bool = True,
                    layout: Literal[False] = False) -> dict[str, FeedState]:
        """The polling state of the stored feeds by name, as the Store's feed_states
        with layout=False (only parsing reads a feed's layout, through the Store)."""
        action = "read the feeds' states"
        counts: dict[int, int] = {}
        if count_entries:
            counts = {feed_id: count for feed_id, count in self._read(
                action, "SELECT feed_id, count(*) FROM entries GROUP BY feed_id")}
        rows = self._read(action, f"SELECT id, {', '.join(FEED_COLUMNS)} FROM feeds "
                                  "ORDER BY name")
        return {row[1]: _feed_state(row[1:], counts.get(row[0], 0)) for row in rows}

    def page_counts(self) -> dict[str, PageCounts]:
        """Each feed's entries by page status, with its latest page failure."""
        action = "count the article pages"
        joined = "entries JOIN feeds ON entries.feed_id = feeds.id"
        counted: dict[str, dict[str, int]] = {}
        for name, status, count in self._read(
                action, f"SELECT feeds.name, entries.page_status, count(*) FROM {joined} "
                        "GROUP BY feeds.name, entries.page_status"):
            counted.setdefault(name, {})[status or NOT_NEEDED] = count
        errors = {name: reason or "" for name, reason in self._read(  # the latest wins
            action, f"SELECT feeds.name, entries.page_reason FROM {joined} WHERE "
                    "entries.page_status IN ('failed', 'robots-forbidden') "
                    "ORDER BY entries.page_fetched")}
        return {name: PageCounts(counts, errors.get(name)) for name, counts in counted.items()}

    def each_shown_entry(self, names: Collection[str]) -> Iterator[StoredEntry]:
        """Every article shown from the feeds `names`, oldest stored first, without their
        copies, CHUNK at a time: the Store's each_shown_entry (reads.py)."""
        action = "read feeds' entries"
        blogs = {feed_id: blog_of(name, title, url, site_url, _json(tags))
                 for feed_id, name, title, url, site_url, tags in self._read(
            action, f"SELECT id, {', '.join(BLOG_COLUMNS)} FROM feeds")}
        ids = ", ".join(str(int(i)) for i, blog in blogs.items() if blog.name in names)
        last = 0
        while ids:
            rows = [_shown(row) for row in self._read(
                action, f"SELECT {', '.join(SHOWN_COLUMNS)} FROM entries WHERE is_canonical "
                        f"AND feed_id IN ({ids}) AND id > {last} ORDER BY id LIMIT {CHUNK}")]
            if not rows:
                return
            last = rows[-1].id
            yield from plain_entries(rows, blogs)

    def deliveries(self, limit: int = 50) -> list[Delivery]:
        """The latest claims of newsletters, newest first: the Store's deliveries."""
        rows = self._read("read the deliveries",
                          f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM deliveries "
                          f"ORDER BY claimed_at DESC, id DESC LIMIT {int(limit)}")
        return [delivery_of([moment(value) if column in ("claimed_at", "sent_at")
                             else _json(value) if column == "errors" else value
                             for column, value in zip(DELIVERY_COLUMNS, row, strict=True)])
                for row in rows]

    def alert_records(self, now: datetime, retry_after: datetime) -> list[TargetRecord]:
        """Each alert and target's sends, failures and interruptions: the Store's."""
        return status_rows.alert_records(self._reader("read the alerts' sends"), now,
                                         retry_after)

    def subscriptions(self) -> dict[str, Subscription]:
        """Every WebSub subscription, by the name of its feed: the Store's."""
        return status_rows.subscriptions(self._reader("read the WebSub subscriptions"))

    def pings(self) -> list[PingRecord]:
        """The last ping of each of our feeds, oldest first: the Store's."""
        return status_rows.pings(self._reader("read the WebSub pings"))

    def _reader(self, action: str) -> Rows:
        return lambda sql, params: self._read(action, sql, params)


def _sqlite_file(url: str) -> str | None:
    """The file of a plain SQLite URL (config.load.resolve_database_url's); None for any
    other (memory, options, servers), which only the Store reads."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix) and "?" not in url:
            path = url.removeprefix(prefix)
            return path if path and path != ":memory:" else None
    return None


def _feed_state(row: Sequence[Any], entry_count: int) -> FeedState:
    values = dict(zip(FEED_COLUMNS, row, strict=True))
    for column in MOMENTS:
        values[column] = moment(values[column])
    hint = values.pop("interval_hint")
    return FeedState(**values | {"failures": values["failures"] or 0,
                                 "interval_hint": timedelta(seconds=hint) if hint else None,
                                 "entry_count": entry_count})


def _shown(row: Sequence[Any]) -> SimpleNamespace:
    """A row of SHOWN_COLUMNS as the ORM gives it: times aware, JSON decoded."""
    values = dict(zip(SHOWN_COLUMNS, row, strict=True))
    values.update({column: moment(values[column]) for column in SHOWN_MOMENTS})
    values.update({column: _json(values[column]) for column in SHOWN_JSON})
    return SimpleNamespace(**values)


def _json(value: object) -> Any:
    """A JSON column's value: text in SQLite, decoded already by a server's driver."""
    return json.loads(value) if isinstance(value, str) else value
