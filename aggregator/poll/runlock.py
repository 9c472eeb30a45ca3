"""One `aggregator run` per SQLite database: a second one refuses instead of racing."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from aggregator.store.schema import database_file

LOCK_SUFFIX = ".run.lock"


class AlreadyRunning(Exception):
    """Another daemon holds the database; the message names it."""


def lock_path(database_url: str) -> Path | None:
    """The lock file beside a SQLite database; None for servers (PostgreSQL) and memory."""
    database = database_file(database_url)
    return None if database is None else Path(f"{database}{LOCK_SUFFIX}")


@contextmanager
def exclusive_run(database_url: str, now: datetime) -> Iterator[None]:
    """Hold the database's run lock for the life of the block, or raise AlreadyRunning.

    The lock is the kernel's (flock): it goes with the process, even on SIGKILL,
    so a crashed daemon never leaves a stale lock behind.
    """
    path = lock_path(database_url)
    if path is None:
        yield
        return
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise AlreadyRunning(
                f"another `aggregator run` ({holder}) already uses "
                f"{str(path).removesuffix(LOCK_SUFFIX)}; stop it first, "
                "or give this one another database") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {now.isoformat(timespec='seconds')}\n")
        handle.flush()
        try:
            yield
        finally:
            # No stale "pid …" left in the file for someone reading it by hand.
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
