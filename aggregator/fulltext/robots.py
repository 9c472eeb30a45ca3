"""robots.txt for article pages: fetched once per host and kept for the process (a
daemon's runs share it) as long as RFC 9309 allows, read with urllib.robotparser, asked
before every page (feeds themselves are not crawled pages)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from aggregator import USER_AGENT
from aggregator.models import FetchResult

ROBOTS_MAX_SIZE = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
# RFC 9309 2.4: a cached robots.txt SHOULD NOT be used for more than 24 hours.
ROBOTS_LIFETIME = timedelta(hours=24)
# A file we could not read forbids all "until the next try": not every run, nor a day.
ROBOTS_RETRY = timedelta(hours=1)
ROBOTS_HOSTS = 2000  # hosts kept; the least recently asked goes first

# GET of an address: the polite fetch of fulltext.pages, given in by the caller.
Getter = Callable[[str], FetchResult]


def robots_url(url: str) -> str:
    """The robots.txt that rules `url`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def read_robots(fetched: FetchResult) -> tuple[RobotFileParser, timedelta]:
    """A host's rules from the fetch of its robots.txt, and how long they hold (RFC 9309:
    a 4xx allows all; a server error or no answer forbids all until the next try)."""
    status, rules = fetched.status, RobotFileParser()
    if status is not None and status < 300 and fetched.content is not None:
        rules.parse(fetched.content.decode("utf-8", "replace").splitlines())
    elif status is not None and 400 <= status < 500:
        rules.parse([])  # there is no file
    else:
        rules.parse(["User-agent: *", "Disallow: /"])
        return rules, ROBOTS_RETRY
    return rules, ROBOTS_LIFETIME


class RobotsCache:
    """Each host's robots.txt, fetched the first time one of its pages is asked for, and
    again once its lifetime is over; at most `hosts` kept, whatever the threads."""

    def __init__(self, hosts: int = ROBOTS_HOSTS) -> None:
        self.hosts = hosts
        self._rules: OrderedDict[str, tuple[datetime, RobotFileParser]] = OrderedDict()
        self._lock = threading.Lock()  # one fetch of a host's file, whatever the threads

    def allows(self, url: str, now: datetime, get: Getter) -> bool:
        """Whether our User-Agent may fetch `url` at `now` (`get` fetches the file)."""
        where = robots_url(url)
        with self._lock:
            kept = self._rules.get(where)
            if kept is None or now >= kept[0]:
                rules, lifetime = read_robots(get(where))
                kept = self._rules[where] = (now + lifetime, rules)
            self._rules.move_to_end(where)
            while len(self._rules) > self.hosts:
                self._rules.popitem(last=False)
        return kept[1].can_fetch(USER_AGENT, url)
