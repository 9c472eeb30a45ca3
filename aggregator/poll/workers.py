"""The parse worker processes: how they start, what they are handed, when they die.

The polling process imports this module, never aggregator.poll.prepare: feedparser,
nh3 and ftfy live in the workers only (not even in their forkserver, see
pool._pool_context), which keeps the polling process 8 MB smaller. Bodies reach
prepare through parse_body.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping

from aggregator.models import Parsed

# Ctrl-C and a service stop send these to every process of the group.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def parse_body(content: bytes, headers: Mapping[str, str], url: str,
               boilerplate: frozenset[int] = frozenset(),
               known: Mapping[str, str] | None = None) -> Parsed:
    """prepare.safe_parse, imported where it runs: in a worker, whose forkserver has
    it loaded already, or in the calling process when it parses a few feeds inline."""
    from aggregator.poll.prepare import safe_parse

    return safe_parse(content, headers, url, boilerplate, known)


# How much lower the parse workers' scheduling priority is than the polling process's.
WORKER_NICENESS = 10


def start_worker(parent: int) -> None:
    """In a new parse worker: give way to the polling process, and die with it.

    Parsing is batch work; the polling process feeds it (fetching, handing bodies
    over) and stores its results. Where they share the cores equally, the polling
    process waits for a core a third of the time and the workers then run out of
    bodies: a first poll of 1,000 feeds kept 1.67-1.70 of 2 cores busy, 1.78-1.82
    with the workers at niceness 10, and took 8-13% less time.
    """
    os.nice(WORKER_NICENESS)
    watch_parent(parent)


def watch_parent(parent: int) -> None:
    """In a parse worker: exit when the polling process dies, even by SIGKILL.

    Workers hold both ends of their task pipe, so they never see it close. Like
    their forkserver (see update.start_parse_server), they ignore SIGTERM and SIGINT.
    """
    for number in STOP_SIGNALS:  # in case the forkserver was not started ignoring them
        signal.signal(number, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # the pid was reused by another user's process
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
