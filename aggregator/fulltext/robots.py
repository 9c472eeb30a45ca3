"""robots.txt for article pages: fetched once per host and run, read with
urllib.robotparser, asked before every page (feeds themselves are not crawled pages)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from aggregator import USER_AGENT
from aggregator.models import FetchResult

ROBOTS_MAX_SIZE = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB

# GET of an address: the polite fetch of fulltext.pages, given in by the caller.
Getter = Callable[[str], FetchResult]


def robots_url(url: str) -> str:
    """The robots.txt that rules `url`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def read_robots(fetched: FetchResult) -> RobotFileParser:
    """A host's rules from the fetch of its robots.txt (RFC 9309: a 4xx allows all, a
    server error or no answer forbids all until the next try)."""
    rules = RobotFileParser()
    if fetched.content is not None and fetched.status is not None and fetched.status < 300:
        rules.parse(fetched.content.decode("utf-8", "replace").splitlines())
    elif fetched.status is not None and 400 <= fetched.status < 500:
        rules.parse([])
    else:
        rules.parse(["User-agent: *", "Disallow: /"])
    return rules


class RobotsCache:
    """Each host's robots.txt, fetched the first time one of its pages is asked for."""

    def __init__(self, get: Getter) -> None:
        self._get = get
        self._rules: dict[str, RobotFileParser] = {}
        self._lock = threading.Lock()  # one fetch of a host's file, whatever the threads

    def allows(self, url: str) -> bool:
        """Whether our User-Agent may fetch `url`."""
        where = robots_url(url)
        with self._lock:
            rules = self._rules.get(where)
            if rules is None:
                rules = self._rules[where] = read_robots(self._get(where))
        return rules.can_fetch(USER_AGENT, url)
