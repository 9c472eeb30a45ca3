"""What every part of the store shares: the engine and its sessions, driver errors
as StoreError (errors.py), and the driver-level lookups the hot paths use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self, TypeVar, cast

from sqlalchemy import Table, bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.errors import StoreError
from aggregator.store.schema import (
    CommonKeyRow,
    EntryKeyRow,
    EntryRow,
    RecentKeyRow,
    UTCDateTime,
    make_engine,
    migrate,
    schema_revision,
)

# The table, not the class, for inserting keys: a plain executemany, without the
# ORM's bulk path (a tenth of the time of storing a poll).
ENTRY_KEYS = cast(Table, EntryKeyRow.__table__)
RECENT_KEYS = cast(Table, RecentKeyRow.__table__)
COMMON_KEYS = cast(Table, CommonKeyRow.__table__)
ENTRIES = cast(Table, EntryRow.__table__)
# PostgreSQL advisory lock keys (schema.py's migration lock is 7423610).
RENDER_LOCK = 7423611
PRUNE_LOCK = 7423612
FILING_LOCK = 7423613


@contextmanager
def wrap_errors(action: str) -> Iterator[None]:
    """Raise the driver's errors as StoreError("could not <action>: <reason>").

    A decorator of the Store's public methods; a generator (a lazy reader, a lock)
    runs after its decorator has returned, so it puts its body in a `with` block.
    """
    try:
        yield
    except (SQLAlchemyError, UnicodeEncodeError) as error:
        # UnicodeEncodeError: a value the driver cannot send (a lone surrogate), which
        # it raises as it is, before the database sees anything.
        kind = type(error).__name__
        # A DBAPI error's own words: SQLAlchemy's add the statement and a link.
        reason = f"{kind}: {getattr(error, 'orig', None) or error}"
        raise StoreError(f"could not {action}: {reason.splitlines()[0]}",
                         kind=kind, reason=reason) from error


class StoreBase:
    """The engine and its sessions, which each part of the Store queries through."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    @wrap_errors("open the database")
    def open(cls, url: str, *, upgrade: bool = True) -> Self:
        """Connect to `url`, creating or upgrading the tables unless `upgrade` is False."""
        return cls(make_engine(url, upgrade=upgrade))

    @wrap_errors("upgrade the database")
    def upgrade_schema(self) -> tuple[str | None, str | None]:
        """Apply the migrations the database lacks; its revision before and after."""
        before = schema_revision(self.engine)
        migrate(self.engine)
        return before, schema_revision(self.engine)

    def _text_rows(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """The rows of a statement shared with the glance (status_rows.py), its times bound
        as the tables store them (UTCDateTime: text SQL binds them as they come)."""
        query = text(sql).bindparams(*(bindparam(name, type_=UTCDateTime())
                                       for name, value in params.items()
                                       if isinstance(value, datetime)))
        with self._session() as session:
            return list(session.execute(query, dict(params)).all())

    @wrap_errors("close the database")
    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _rows_among(session: Session, query: str, values: Sequence[int | str],
                sql_type: str) -> Iterator[Sequence[Any]]:
    """The rows of `query`, which ends in "WHERE <column>", for the column among `values`.

    Through the driver's own cursor, 500 values a statement: a first poll runs two
    such lookups per feed, hundreds of values and rows each, and SQLAlchemy would
    build and expand each IN list anew and wrap every row (a fifth of the time of
    storing a feed). PostgreSQL takes the values as one array parameter.
    """
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    driver_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(values, 500):
            try:
                if postgres:
                    cursor.execute(f"{query} = ANY(%s::{sql_type}[])", (list(chunk),))
                else:
                    cursor.execute(f"{query} IN ({','.join('?' * len(chunk))})", tuple(chunk))
            except driver_error as error:  # as SQLAlchemy would raise it: see wrap_errors
                raise DBAPIError.instance(query, None, error, driver_error) from error
            yield from cursor.fetchall()
    finally:
        cursor.close()


_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
