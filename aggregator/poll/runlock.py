"""One `aggregator run` per SQLite database: a second one refuses instead of racing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

from aggregator.store.lockfile import RUN_LOCK_SUFFIX, LockHeld, locked_file
from aggregator.store.schema import database_file


class AlreadyRunning(Exception):
    """Another daemon holds the database; the message names it."""


def lock_path(database_url: str) -> Path | None:
    """The lock file beside a SQLite database; None for servers (PostgreSQL) and memory."""
    database = database_file(database_url)
    return None if database is None else Path(f"{database}{RUN_LOCK_SUFFIX}")


@contextmanager
def exclusive_run(database_url: str, now: datetime) -> Iterator[None]:
    """Hold the database's run lock for the life of the block, or raise AlreadyRunning.

    The lock is the kernel's (flock): it goes with the process, even on SIGKILL,
    so a crashed daemon never leaves a stale lock behind; a clean exit removes the file.
    """
    path = lock_path(database_url)
    if path is None:
        yield
        return
    with ExitStack() as stack:
        try:
            handle = stack.enter_context(locked_file(path, wait=False))
        except LockHeld as held:
            raise AlreadyRunning(
                f"another `aggregator run` ({str(held) or 'another process'}) already uses "
                f"{str(path).removesuffix(RUN_LOCK_SUFFIX)}; stop it first, "
                "or give this one another database") from None
        handle.write(f"pid {os.getpid()}, started {now.isoformat(timespec='seconds')}\n")
        handle.flush()
        yield
