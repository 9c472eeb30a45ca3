"""One feed through fetch, parse, clean, dedup and store; errors become values."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import requests
from sqlalchemy.exc import SQLAlchemyError

from aggregator.clean import clean_entry
from aggregator.config import Config, FeedConfig, Settings
from aggregator.dedup import distrust_shared_guids, drop_repeats
from aggregator.fetch import fetch_feed
from aggregator.models import (
    CleanEntry,
    FeedState,
    FetchResult,
    Outcome,
    ParsedFeed,
    SaveCounts,
    UpdateOutcome,
)
from aggregator.parse import ParseError, parse_feed
from aggregator.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)


@dataclass(frozen=True)
class Poll:
    """What fetching and parsing one feed produced, before anything is stored."""

    feed: FeedConfig
    fetched: FetchResult
    parsed: ParsedFeed | None = None
    entries: tuple[CleanEntry, ...] = ()
    error: str | None = None


class UnknownFeedError(KeyError):
    """`--feed NAME` names no feed of feeds.yaml."""


def is_due(state: FeedState | None, now: datetime) -> bool:
    """True when a feed has never been polled or its next poll time has come."""
    return state is None or state.next_poll is None or state.next_poll <= now


def next_poll_time(interval: timedelta, failures: int, now: datetime) -> datetime:
    """When to poll again: the interval, doubled for each failure in a row, capped at a day."""
    delay = interval
    if failures > 0:
        delay = min(interval * 2 ** (failures - 1), max(interval, MAX_BACKOFF))
    return now + delay


def poll_feed(
    session: requests.Session, feed: FeedConfig, state: FeedState | None, settings: Settings
) -> Poll:
    """Fetch, parse and clean one feed; touches no database, so it can run in a thread."""
    fetched = fetch_feed(
        session, feed.url,
        etag=state.etag if state else None,
        last_modified=state.last_modified if state else None,
        timeout=settings.timeout, max_size=settings.max_size,
    )
    if fetched.error or fetched.not_modified or fetched.content is None:
        return Poll(feed, fetched, error=fetched.error)
    try:
        parsed = parse_feed(fetched.content, fetched.headers, fetched.final_url)
    except ParseError as exc:
        return Poll(feed, fetched, error=str(exc))
    base_url = parsed.site_url or fetched.final_url
    cleaned = [clean_entry(e, base_url) for e in distrust_shared_guids(parsed.entries)]
    return Poll(feed, fetched, parsed, tuple(drop_repeats(cleaned)))


def store_poll(
    store: Store, poll: Poll, failures: int, settings: Settings, now: datetime
) -> UpdateOutcome:
    """Save what a poll found and the feed's new state; report it as an outcome.

    `failures` is how many polls in a row had failed before this one.
    """
    feed, fetched = poll.feed, poll.fetched
    interval = feed.poll_interval or settings.poll_interval
    counts = SaveCounts()
    if not poll.error:
        try:
            counts = store.save_entries(feed.name, poll.entries, now)
        except SQLAlchemyError as exc:  # one feed's bad data must not stop the batch
            log.exception("%s: could not store entries", feed.name)
            poll = replace(poll, error=f"could not store entries: {exc}")
    if poll.error:
        store.record_failure(feed.name, now=now, error=poll.error,
                             next_poll=next_poll_time(interval, failures + 1, now))
        return UpdateOutcome(feed.name, "error", error=poll.error, elapsed=fetched.elapsed)
    store.record_success(
        feed.name, now=now, next_poll=next_poll_time(interval, 0, now),
        etag=fetched.etag, last_modified=fetched.last_modified,
        title=poll.parsed.title if poll.parsed else None,
        site_url=poll.parsed.site_url if poll.parsed else None,
    )
    if poll.parsed and poll.parsed.warning:
        log.warning("%s: %s", feed.name, poll.parsed.warning)
    outcome: Outcome = "new" if counts.new or counts.updated else "unchanged"
    if fetched.not_modified:
        outcome = "not_modified"
    return UpdateOutcome(feed.name, outcome, counts.new, counts.updated,
                         elapsed=fetched.elapsed)


def poll_feed_safely(
    session: requests.Session, feed: FeedConfig, state: FeedState | None, settings: Settings
) -> Poll:
    """poll_feed, with any unexpected exception turned into an error value."""
    try:
        return poll_feed(session, feed, state, settings)
    except Exception as exc:  # a parser or sanitizer bug must not stop the batch
        log.exception("%s: unexpected error while polling", feed.name)
        return Poll(feed, FetchResult(feed.url, feed.url, None), error=f"internal error: {exc!r}")


def select_feeds(
    config: Config, states: dict[str, FeedState], now: datetime, *,
    force: bool = False, only: str | None = None,
) -> list[FeedConfig]:
    """The enabled feeds to poll now: those due, or all of them with `force`."""
    if only is not None and config.feed(only) is None:
        raise UnknownFeedError(only)
    return [
        feed for feed in config.feeds
        if feed.enabled
        and (only is None or feed.name == only)
        and (force or only is not None or is_due(states.get(feed.name), now))
    ]


def update_feeds(
    store: Store, session: requests.Session, config: Config, now: datetime, *,
    force: bool = False, only: str | None = None,
) -> list[UpdateOutcome]:
    """Poll the due feeds concurrently and store each one as it completes."""
    store.sync_feeds(config.feeds)
    states = store.feed_states()
    feeds = select_feeds(config, states, now, force=force, only=only)
    return _poll_all(store, session, feeds, states, config.settings, now)


def _poll_all(
    store: Store, session: requests.Session, feeds: Sequence[FeedConfig],
    states: dict[str, FeedState], settings: Settings, now: datetime,
) -> list[UpdateOutcome]:
    outcomes = []
    workers = max(1, min(settings.concurrency, len(feeds)))
    with ThreadPoolExecutor(workers, thread_name_prefix="poll") as pool:
        futures = [
            pool.submit(poll_feed_safely, session, feed, states.get(feed.name), settings)
            for feed in feeds
        ]
        # Polls run in threads; the store is written from this thread only.
        for future in as_completed(futures):
            poll = future.result()
            state = states.get(poll.feed.name)
            outcome = store_poll(store, poll, state.failures if state else 0, settings, now)
            outcomes.append(outcome)
    return outcomes


def describe_outcome(outcome: UpdateOutcome) -> str:
    """A short human line for logs and the CLI."""
    if outcome.outcome == "error":
        return f"error: {outcome.error}"
    if outcome.outcome == "not_modified":
        return f"not modified (304) in {outcome.elapsed:.2f} s"
    return f"{outcome.new} new, {outcome.updated} updated in {outcome.elapsed:.2f} s"
