"""SQLAlchemy tables and engine setup: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from aggregator.store.glance import HEAD_REVISION
from aggregator.store.status_rows import stored


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass aware UTC times")
        return stored(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of our tables (those of schema_deliver.py too)."""


class FeedRow(Base):
    """A feed from feeds.yaml and what its polls taught us."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str | None] = mapped_column(Text)
    site_url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_polled: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where a 301/308 said the feed now lives; polled instead of `url` until feeds.yaml changes.
    moved_to: Mapped[str | None] = mapped_column(Text)
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by a 410 Gone: the feed is not polled again until its feeds.yaml entry changes.
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Seconds asked for by the feed's <ttl> or Cache-Control max-age.
    interval_hint: Mapped[int | None] = mapped_column(Integer)
    config_hash: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hashes of paragraphs seen in several of its entries (footers, signatures, forms).
    boilerplate: Mapped[list[int] | None] = mapped_column(JSON)
    # {digest of a parsed entry: its identity} for the last document stored: an
    # entry parsed the same again is known without being cleaned again.
    entry_digests: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # The worker polling this feed now, and until when its lease holds: several
    # `run` processes on one PostgreSQL database never poll a feed together, and
    # the feeds of a worker that died are taken up again once its lease runs out.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryRow(Base):
    """One stored entry; (feed, identity) is unique, so re-polling never duplicates."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("feed_id", "identity", name="uq_entries_feed_identity"),
        Index("ix_entries_dated", "dated"),
        Index("ix_entries_article", "article_id"),
        Index("ix_entries_canonical_dated", "is_canonical", "dated"),
        # An incremental render asks which entries changed since the last one.
        Index("ix_entries_changed", "changed"),
        # The page queue asks for the entries whose article page is pending (fulltext/).
        Index("ix_entries_page_status", "page_status", "feed_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(520))
    signature: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    # The date an entry is filed under: published, else first seen (see poll.decide.filing_date).
    dated: Mapped[datetime] = mapped_column(UTCDateTime)
    changed: Mapped[datetime] = mapped_column(UTCDateTime)
    # When its title or text last changed as we saw it (not a copy found elsewhere):
    # the `updated` of the published feeds. NULL: never seen edited.
    edited: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # The article this entry is a copy of: the id of the article's first stored entry.
    article_id: Mapped[int | None] = mapped_column(Integer)
    # The copy shown for the article: published first (ties: first seen).
    is_canonical: Mapped[bool] = mapped_column(Boolean, default=True)
    canonical_link: Mapped[str | None] = mapped_column(Text)
    title_key: Mapped[str | None] = mapped_column(Text)
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary)
    shingle_count: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(35))
    # [{"url": ..., "type": ..., "length": ...}]: podcast audio, video, pictures.
    enclosures: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    thumbnail: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    # The article's page, kept apart from what the feed gave (fulltext.shown decides which
    # one is shown). page_status: pending, not-needed, fetched, robots-forbidden, failed.
    page_status: Mapped[str | None] = mapped_column(String(20))
    page_reason: Mapped[str | None] = mapped_column(Text)  # why fetched, or why it failed
    page_html: Mapped[str | None] = mapped_column(Text)
    page_excerpt: Mapped[str | None] = mapped_column(Text)
    page_etag: Mapped[str | None] = mapped_column(Text)
    page_last_modified: Mapped[str | None] = mapped_column(Text)
    page_fetched: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryKeyRow(Base):
    """An index key of an entry (link, title, lead, smallest shingle hashes): finds copies."""

    __tablename__ = "entry_keys"
    # Clustered on (key, entry_id), without SQLite's rowid: a lookup reads a key's list
    # where the rows are, and filing an entry writes one tree less (see migration 0011).
    # No foreign key: moving recent keys here in key order would check each one's entry,
    # a random page of `entries` (see migration 0018); removing an entry removes its keys.
    __table_args__ = (Index("ix_entry_keys_entry", "entry_id"), {"sqlite_with_rowid": False})

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class RecentKeyRow(Base):
    """An index key of an entry stored since the last merge (store.copies): new entries
    are filed in this small tree, whose pages stay cached, and moved into entry_keys
    together, in key order, every copies.RECENT_ENTRIES entries."""

    __tablename__ = "recent_keys"
    __table_args__ = (Index("ix_recent_keys_entry", "entry_id"), {"sqlite_with_rowid": False})

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class CommonKeyRow(Base):
    """An index key whose list is full (dedup.POSTINGS_PER_KEY entries): a stock phrase or
    a generic title. Marked apart so that looking it up costs one index probe."""

    __tablename__ = "common_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class EntryPhrasesRow(Base):
    """An entry's key phrases (publish.trends) and a digest of the text they were found
    in: a render finds them once, the next ones read them; a changed text is read again."""

    __tablename__ = "entry_phrases"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    text_digest: Mapped[int] = mapped_column(BigInteger)
    phrases: Mapped[list[str]] = mapped_column(JSON)


class EntryMoveRow(Base):
    """A filing date an entry left (it was re-dated): that day's page must be rendered
    again, and the entry itself no longer says so."""

    __tablename__ = "entry_moves"
    __table_args__ = (Index("ix_entry_moves_moved_at", "moved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dated: Mapped[datetime] = mapped_column(UTCDateTime)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)


MIGRATIONS = Path(__file__).parent / "migrations"
# The revision that matches the tables of databases made before migrations existed.
FIRST_REVISION = "0001"


def database_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for servers (PostgreSQL) and memory."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def describe_database(url: str) -> str:
    """A database as people name it: a SQLite file's path, else its URL without password."""
    path = database_file(url)
    return str(path) if path else make_url(url).render_as_string(hide_password=True)


# Prepared statements each SQLite connection keeps (Python's default: 128). A query
# with an IN list is a new statement for each length of the list, 20 to 100 KB once
# prepared and seldom run twice: 128 of them held a daemon's memory growing all
# through a soak (to 2 MB a connection). The statements run once per feed stay in 32.
SQLITE_CACHED_STATEMENTS = 32


def make_engine(url: str, *, upgrade: bool = True) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and concurrent readers;
    its schema brought up to date unless `upgrade` is False."""
    try:
        engine = _create_engine(url)
    except ImportError as exc:  # SQLAlchemy imports the driver when it makes the engine
        raise NoSuchModuleError(_missing_driver(url, exc)) from exc
    if upgrade:
        migrate(engine)
    return engine


def _missing_driver(url: str, error: ImportError) -> str:
    driver = make_url(url).get_driver_name()
    extra = (" (pip install 'cm-aggregator[postgres]')"
             if make_url(url).get_backend_name() == "postgresql" else "")
    return f"the database driver {driver} is not installed: {error}{extra}"


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # LIFO: the connection just returned serves again, so a connection opened for
        # a moment of concurrency idles instead of taking turns with it, each filling
        # a page cache (SQLITE_CACHE_KIB) and a statement cache of its own with the same data.
        engine = create_engine(url, pool_use_lifo=True, connect_args={
            "timeout": 30, "cached_statements": SQLITE_CACHED_STATEMENTS})
        event.listen(engine, "connect", _configure_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None for an empty one."""
    with engine.connect() as connection:
        tables = inspect(connection)
        if not tables.has_table("alembic_version"):
            return FIRST_REVISION if tables.has_table("feeds") else None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema up to date with the Alembic migrations shipped in the package."""
    if schema_revision(engine) == HEAD_REVISION:
        return
    with engine.begin() as connection:
        _lock_for_migration(connection)
        tables = inspect(connection)
        if not tables.has_table("feeds") and not tables.has_table("alembic_version"):
            _create_schema(connection)
            return
        # Imported here: see HEAD_REVISION.
        from alembic import command
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        if not tables.has_table("alembic_version"):
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")


def _create_schema(connection: Connection) -> None:
    """An empty database gets the tables as they are now, stamped with the newest
    revision, as Alembic would leave them (tests/test_db.py compares the two)."""
    from aggregator.store import schema_deliver  # noqa: F401  (its tables join Base.metadata)

    Base.metadata.create_all(connection)
    connection.execute(text(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                       {"head": HEAD_REVISION})


def _lock_for_migration(connection: Connection) -> None:
    """Let one process at a time migrate: workers and commands may start together."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(7423610)"))
    elif connection.dialect.name == "sqlite":
        # The write lock now, not at the first write: a second process waits here
        # (busy timeout) and then finds the schema up to date.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# SQLite's page cache per connection, in KiB (its default: 2 MB). Storing new entries
# inserts their index keys (entry_keys) all over an index of 8 MB per 20,000 entries:
# with 2 MB, a first poll of 1,000 feeds read 3.8 GB of pages back from the file,
# 0.7 GB with 8 MB, and took 1 s less CPU. The polling process dropped feedparser
# for it (see aggregator.poll.workers): its peak memory is what it was.
SQLITE_CACHE_KIB = 8192
# WAL pages written before SQLite copies them into the database (its default: 1,000).
# Each commit of a group writes every index page it touched, about 4 MB; checkpointing
# after nearly each one made a first poll write 2.2 GB, 1.3 GB at 16,384 pages (64 MB).
SQLITE_WAL_PAGES = 16384


def _configure_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_PAGES}")
    # A checkpointed WAL is cut back to this size rather than left at its largest.
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_PAGES * 4096}")
    cursor.close()
