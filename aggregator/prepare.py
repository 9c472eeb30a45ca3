"""One fetched body to storable entries: parse, clean, fingerprint.

This is what runs in the parse worker processes, so it imports neither
SQLAlchemy nor requests: each worker holds only what parsing needs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from aggregator.clean import clean_entry, clean_link, clean_title, repair_text
from aggregator.dedup import (
    distrust_shared_guids,
    drop_repeats,
    find_boilerplate,
    fingerprint,
    paragraphs,
)
from aggregator.models import CleanEntry, ParsedFeed
from aggregator.parse import ParseError, parse_feed

log = logging.getLogger(__name__)

# Ctrl-C and a service stop send these to every process of the group.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True)
class Parsed:
    """What parsing and cleaning one body produced (picklable, for worker processes)."""

    feed: ParsedFeed | None = None
    entries: tuple[CleanEntry, ...] = ()
    error: str | None = None
    boilerplate: frozenset[int] = frozenset()


def parse_step(content: bytes, headers: Mapping[str, str], url: str,
               boilerplate: frozenset[int] = frozenset()) -> Parsed:
    """Parse, clean and fingerprint one body: runs in a worker process or inline.

    `boilerplate` is what earlier polls learnt of this feed's footers; this
    document's own repeated paragraphs are added to it.
    """
    try:
        feed = parse_feed(content, headers, url)
    except ParseError as exc:
        return Parsed(error=str(exc))
    base_url = feed.site_url or url
    cleaned = drop_repeats([clean_entry(e, base_url)
                            for e in distrust_shared_guids(feed.entries)])
    blocks = [paragraphs(e.content or e.summary) for e in cleaned]
    learned = find_boilerplate(blocks)
    known = boilerplate | learned
    entries = tuple(
        replace(entry, fingerprint=fingerprint(entry.title, entry.link, text, known))
        for entry, text in zip(cleaned, blocks, strict=True)
    )
    # The raw entries stay behind: only what the store needs crosses the process boundary.
    title = clean_title(repair_text(feed.title), False) if feed.title else None
    summary = ParsedFeed(feed.version, title or None, clean_link(feed.site_url, url),
                         feed.language, (), feed.warning, feed.ttl)
    return Parsed(summary, entries, boilerplate=frozenset(learned))


def safe_parse(content: bytes, headers: Mapping[str, str], url: str,
               boilerplate: frozenset[int] = frozenset()) -> Parsed:
    """parse_step, with any unexpected exception turned into an error value."""
    try:
        return parse_step(content, headers, url, boilerplate)
    except Exception as exc:  # feedparser or a sanitizer bug on one hostile document
        log.exception("unexpected error while parsing %s", url)
        return Parsed(error=f"internal error while parsing: {exc!r}")


def watch_parent(parent: int) -> None:
    """In a parse worker: exit when the polling process dies, even by SIGKILL.

    Workers hold both ends of their task pipe, so they never see it close. Like
    their forkserver (see start_parse_server), they ignore SIGTERM and SIGINT.
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
