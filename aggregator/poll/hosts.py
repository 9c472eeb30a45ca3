"""Politeness per host: a few requests at a time to any one, and feeds taken in turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, zip_longest
from urllib.parse import urlsplit

from aggregator.config.load import FeedConfig


def host_key(url: str) -> str:
    """The host a URL's requests go to, as the limits count it."""
    return (urlsplit(url).hostname or "").lower()


def same_host(url: str, other: str) -> bool:
    """Whether two URLs are on one host and port; http moving to https counts as one."""
    first, second = urlsplit(url), urlsplit(other)
    if (first.hostname or "").lower() != (second.hostname or "").lower():
        return False
    defaults = {"http": 80, "https": 443}
    return (first.port or defaults.get(first.scheme)) == (second.port or defaults.get(
        second.scheme)) or (first.port is None and second.port is None)


class HostLimiter:
    """At most `per_host` requests at a time to any one host."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Wait for a free slot on `url`'s host, and hold it."""
        with self._lock:
            semaphore = self._slots.setdefault(host_key(url),
                                               threading.Semaphore(self.per_host))
        with semaphore:
            yield


def interleave_hosts(feeds: Sequence[FeedConfig]) -> list[FeedConfig]:
    """Order feeds round-robin by host, so fetch threads do not queue on one busy host."""
    by_host: dict[str, list[FeedConfig]] = {}
    for feed in feeds:
        by_host.setdefault(host_key(feed.url), []).append(feed)
    rounds = zip_longest(*by_host.values())
    return [feed for feed in chain.from_iterable(rounds) if feed is not None]
