"""`feeds check`: every feed fetched and parsed once, nothing stored."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from aggregator.config.load import Config
from aggregator.poll.hosts import HostLimiter, interleave_hosts
from aggregator.poll.steps import Poll, needs_parse, safe_fetch
from aggregator.poll.workers import parse_body


@dataclass(frozen=True)
class CheckResult:
    """One feed tried once by `feeds check`, nothing stored."""

    feed: str
    url: str
    status: int | None
    entries: int = 0
    title: str | None = None
    moved_to: str | None = None
    error: str | None = None
    elapsed: float = 0.0


def check_feeds(session: requests.Session, config: Config) -> list[CheckResult]:
    """Fetch and parse every feed of `config` once, without conditions and without storing."""
    limiter = HostLimiter(config.settings.per_host)
    feeds = interleave_hosts(config.feeds)
    if not feeds:
        return []
    with ThreadPoolExecutor(min(config.settings.concurrency, len(feeds)), "check") as pool:
        polls = pool.map(lambda f: safe_fetch(session, limiter, f, None, config.settings),
                         feeds)
        return [_check(poll) for poll in polls]


def _check(poll: Poll) -> CheckResult:
    fetched = poll.fetched
    parsed = None
    if needs_parse(poll) and fetched.content is not None:
        parsed = parse_body(fetched.content, fetched.headers, fetched.final_url)
    return CheckResult(
        feed=poll.feed.name, url=poll.feed.url, status=fetched.status,
        entries=len(parsed.entries) if parsed else 0,
        title=parsed.feed.title if parsed and parsed.feed else None,
        moved_to=fetched.permanent_url,
        error=fetched.error or (parsed.error if parsed else None),
        elapsed=fetched.elapsed,
    )
