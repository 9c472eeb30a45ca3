"""StoreError, apart from the engine (base.py): the glance raises it without importing
SQLAlchemy, and the command line tells it from other errors the same way."""

from __future__ import annotations


class StoreError(Exception):
    """The database failed an operation: the message names it in one line, and the
    driver's exception is the __cause__."""

    def __init__(self, message: str, *, kind: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.kind = kind  # the driver's name for the error: OperationalError, ...
        self.reason = reason  # the kind and the driver's own words
