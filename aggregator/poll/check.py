"""`feeds check`: every feed fetched and parsed once, nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from aggregator.config.load import Config, FeedConfig
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


def check_feeds(session: requests.Session, config: Config,
                on_result: Callable[[CheckResult], None] = lambda _result: None
                ) -> list[CheckResult]:
    """Fetch and parse every feed of `config` once, without conditions and without storing;
    `on_result` hears of each feed as soon as it is tried (from the fetch threads)."""
    limiter = HostLimiter(config.settings.per_host)
    feeds = interleave_hosts(config.feeds)
    if not feeds:
        return []

    def check(feed: FeedConfig) -> CheckResult:
        result = _check(safe_fetch(session, limiter, feed, None, config.settings))
        on_result(result)
        return result

    with ThreadPoolExecutor(min(config.settings.concurrency, len(feeds)), "check") as pool:
        return list(pool.map(check, feeds))


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
