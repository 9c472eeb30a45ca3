"""One feed's poll on its way through a run: fetched in a thread, then parsed if new."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace

import requests

from aggregator.config.load import FeedConfig, Settings
from aggregator.models import FeedState, FetchResult, Parsed
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.fetch import fetch_feed
from aggregator.poll.hosts import HostLimiter, same_host
from aggregator.poll.workers import parse_body

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poll:
    """One feed's fetch, and its parse when the body was new."""

    feed: FeedConfig
    fetched: FetchResult
    parsed: Parsed | None = None
    unchanged: bool = False  # same body as last time: nothing to parse


def fetch_step(
    session: requests.Session, limiter: HostLimiter, feed: FeedConfig,
    state: FeedState | None, settings: Settings,
) -> Poll:
    """Fetch one feed (no database, no parsing): runs in a fetch thread."""
    url = state.poll_url if state else feed.url
    with limiter.slot(url):
        fetched = fetch_feed(
            session, url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            timeout=settings.timeout, max_size=settings.max_size,
            addresses=AddressPolicy(settings.allow_private_networks),
        )
    same_body = (state is not None and fetched.content_hash is not None
                 and fetched.content_hash == state.content_hash)
    return Poll(feed, fetched, unchanged=same_body)


def safe_fetch(session: requests.Session, limiter: HostLimiter, feed: FeedConfig,
               state: FeedState | None, settings: Settings) -> Poll:
    """fetch_step, with any unexpected exception turned into an error value."""
    try:
        return fetch_step(session, limiter, feed, state, settings)
    except Exception as exc:  # a bug in one feed's handling must not stop the batch
        log.exception("%s: unexpected error while fetching", feed.name)
        return Poll(feed, FetchResult(feed.url, feed.url, None,
                                      error=f"internal error: {exc!r}"))


def with_parse(poll: Poll, parsed: Parsed) -> Poll:
    """`poll` with its parse; a move to another host is kept only when it gave a feed."""
    moved = poll.fetched.permanent_url
    if parsed.error and moved and not same_host(poll.fetched.url, moved):
        return Poll(poll.feed, replace(poll.fetched, permanent_url=None), parsed)
    return replace(poll, parsed=parsed)


def needs_parse(poll: Poll) -> bool:
    """Whether a fetched poll carries a new body to parse."""
    fetched = poll.fetched
    return fetched.error is None and fetched.content is not None and not poll.unchanged


def submit_parse(parsers: Executor, poll: Poll, state: FeedState | None) -> Future[Parsed]:
    """Hand a fetched body to the parse workers, with what the feed's last document taught."""
    fetched = poll.fetched
    assert fetched.content is not None
    return parsers.submit(parse_body, fetched.content, fetched.headers, fetched.final_url,
                          state.boilerplate if state else frozenset(),
                          state.entry_digests if state else None)
