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


def read_robots(fetched: FetchResult) -> RobotFileParser:
    """A host's rules from the fetch of its robots.txt (RFC 9309: a 4xx allows all, a
    server error or no answer forbids all until the next try)."""
    rules = RobotFileParser()
    if not _answered(fetched):
        rules.parse(["User-agent: *", "Disallow: /"])
    elif fetched.content is not None and fetched.status is not None and fetched.status < 300:
        rules.parse(fetched.content.decode("utf-8", "replace").splitlines())
    else:
        rules.parse([])
    return rules


def _answered(fetched: FetchResult) -> bool:
    # The file, or a 4xx saying there is none; a server error or no answer is not one.
    status = fetched.status
    return status is not None and ((status < 300 and fetched.content is not None)
                                   or 400 <= status < 500)


def robots_lifetime(fetched: FetchResult) -> timedelta:
    """How long the rules read from `fetched` hold before the file is asked for again."""
    return ROBOTS_LIFETIME if _answered(fetched) else ROBOTS_RETRY


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
                fetched = get(where)
                kept = self._rules[where] = (now + robots_lifetime(fetched),
                                             read_robots(fetched))
            self._rules.move_to_end(where)
            while len(self._rules) > self.hosts:
                self._rules.popitem(last=False)
        return kept[1].can_fetch(USER_AGENT, url)
