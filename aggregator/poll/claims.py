"""Feeds leased to one worker at a time, so workers sharing a database never poll one twice."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aggregator.config.load import FeedConfig
from aggregator.i18n import Plural
from aggregator.models import FeedState
from aggregator.store import Store

log = logging.getLogger(__name__)

# Feeds leased at a time: enough for this many rounds of the fetch threads (each
# claim is a transaction), few enough to be fetched long before the lease ends.
CLAIM_ROUNDS = 4


def worker_name() -> str:
    """This process, as named in the feeds it claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def release_dead_claims(store: Store) -> None:
    """Free the leases of workers on this host that no longer run (killed, crashed),
    rather than leave their feeds unpolled until the leases run out."""
    host = socket.gethostname()
    released = 0
    for holder in store.claim_holders():
        name, _, pid = holder.rpartition(":")
        if name == host and pid.isdigit() and not _process_exists(int(pid)):
            # The worker's name (host:pid) is for whoever debugs; INFO tells the user.
            log.debug("releasing the feeds of %s, which no longer runs", holder)
            released += store.release_feeds(None, holder)
    if released:
        log.info(Plural("%d feed left by an interrupted run is polled again",
                        "%d feeds left by an interrupted run are polled again", released),
                 released)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


@dataclass
class Claims:
    """Feeds leased chunk by chunk, just before they are fetched.

    Small chunks spread a cycle's feeds over every worker sharing the database,
    and keep a lease from running out while its feed still waits in our queue.
    """

    store: Store
    worker: str
    clock: Callable[[], datetime]
    lease: timedelta
    due_only: bool
    states: dict[str, FeedState]
    unused: set[str] = field(default_factory=set)

    def take(self, feeds: Sequence[FeedConfig], chunk: int) -> Iterator[FeedConfig]:
        """The feeds this worker won, in order; the others are another's or done."""
        for start in range(0, len(feeds), chunk):
            part = feeds[start:start + chunk]
            taken = self.store.claim_feeds([f.name for f in part], self.worker, self.clock(),
                                           self.lease, due_only=self.due_only)
            if not taken:
                continue
            # Another worker may have polled these since our list was read: the
            # claim's own reading of them is the fresh one.
            self.states.update(taken)
            self.unused |= taken.keys()
            for feed in part:
                if feed.name in taken:
                    self.unused.discard(feed.name)
                    yield feed

    def release_unused(self) -> None:
        """Hand back what a stop left unfetched, for the other workers to take now."""
        self.store.release_feeds(self.unused, self.worker)
        self.unused.clear()
