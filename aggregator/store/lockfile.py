"""Lock files beside a SQLite database: held with the kernel's flock, removed on leaving."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

# The names of the lock files beside `aggregator.db`; .gitignore lists them.
RUN_LOCK_SUFFIX = ".run.lock"
RENDER_LOCK_SUFFIX = ".render.lock"


class LockHeld(Exception):
    """Another process holds the lock; the message is what it wrote in the file."""


@contextmanager
def locked_file(path: Path, wait: bool = True) -> Iterator[TextIO]:
    """Hold an exclusive flock on the file at `path` for the life of the block.

    The lock goes with the process, even on SIGKILL; a clean exit also removes the file.
    Without `wait`, raises LockHeld when another process holds it.
    """
    while True:
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise LockHeld(holder) from None
        if _is_at(handle, path):
            break
        # The holder we waited for removed the file on leaving: lock the one now there.
        handle.close()
    try:
        yield handle
    finally:
        # Removed while still held, so a process waiting on this file sees it gone.
        path.unlink(missing_ok=True)
        handle.close()


def _is_at(handle: TextIO, path: Path) -> bool:
    """Whether the open file is still the one named `path`."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)
