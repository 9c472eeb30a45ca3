"""What a poll does to a feed, and where an entry is filed: pure functions of data and `now`.

Like reader's Decider (lemon24/reader, `src/reader/_update/`), nothing here touches the
network, the database or the clock: the run hands in the feed's state, what the fetch
and the parse gave and the moment, and the store writes the PollRecord that comes back
as it is. Each rule is written here once: the next poll (interval, server hints,
backoff, Retry-After, jitter), failures in a row, retirement on 410, the validators
and the other things learnt from a document that are kept, the filing date.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.config.load import Config, FeedConfig
from aggregator.models import FeedState, FetchResult, Parsed, PollRecord
from aggregator.poll.values import (
    MAX_ERROR,
    MAX_LINK,
    MAX_VALIDATOR,
    bounded_count,
    cap_text,
    stored_text,
    valid_text,
)

MAX_DELAY = timedelta(hours=24)  # the longest wait between polls (backoff, hints, Retry-After)
JITTER = 0.1  # polls spread over up to 10% more than their interval
RATE_LIMITED = frozenset({429, 503})  # answers whose Retry-After is honoured
MAX_BOILERPLATE = 1000  # paragraph hashes remembered per feed


def is_due(state: FeedState | None, now: datetime) -> bool:
    """True when a feed has never been polled or its next poll time has come."""
    return state is None or state.next_poll is None or state.next_poll <= now


def is_retired(state: FeedState | None) -> bool:
    """True when the server said 410 Gone and feeds.yaml has not changed since."""
    return state is not None and state.gone_at is not None


def decide_poll(state: FeedState, fetched: FetchResult, parsed: Parsed | None,
                interval: timedelta, now: datetime) -> PollRecord:
    """The feed's state after a poll at `now`; `interval` is the configured one."""
    error = fetched.error or (parsed.error if parsed else None)
    hint = interval_hint(state, fetched, parsed)
    failures = state.failures + 1 if error else 0
    retry_after = None
    if fetched.status in RATE_LIMITED:
        retry_after = parse_retry_after(fetched.headers.get("Retry-After"), now)
    next_poll = next_poll_time(poll_interval(interval, hint), failures, now,
                               spread=jitter(state.name, now), retry_after=retry_after)
    record = _unchanged(state, now, next_poll, fetched.status)
    moved = stored_text(fetched.permanent_url, MAX_LINK)
    if moved and moved != state.moved_to:
        record = replace(record, moved_to=moved, moved_at=now)
    if error:
        return _failed(record, state, explain_error(error, fetched), gone=fetched.gone)
    document = parsed.feed if parsed else None
    return replace(
        record, error=None, failures=0, failing_since=None, last_success=now,
        # A 304 may omit the validators: the ones we have are kept then (and when
        # the new ones could not be sent back as they are).
        etag=stored_text(fetched.etag, MAX_VALIDATOR) or state.etag,
        last_modified=stored_text(fetched.last_modified, MAX_VALIDATOR) or state.last_modified,
        content_hash=fetched.content_hash or state.content_hash,
        title=(document.title if document else None) or state.title,
        site_url=(document.site_url if document else None) or state.site_url,
        interval_hint=hint,
        boilerplate=remember_boilerplate(state.boilerplate,
                                         parsed.boilerplate if parsed else frozenset()),
        entry_digests=parsed.digests if parsed else state.entry_digests,
    )


def decide_unstored(state: FeedState, record: PollRecord, error: str) -> PollRecord:
    """The feed's state after a poll whose result could not be stored: a failure, which
    changes nothing else, polled again when the poll had decided."""
    return _failed(_unchanged(state, record.polled_at, record.next_poll, record.status),
                   state, error, gone=False)


def _unchanged(state: FeedState, polled_at: datetime, next_poll: datetime,
               status: int | None) -> PollRecord:
    """A poll's record that keeps everything the feed's state knows."""
    return PollRecord(
        polled_at=polled_at, next_poll=next_poll, status=status, error=state.last_error,
        failures=state.failures, failing_since=state.failing_since, gone_at=state.gone_at,
        last_success=state.last_success, etag=state.etag,
        last_modified=state.last_modified, content_hash=state.content_hash,
        moved_to=state.moved_to, moved_at=state.moved_at, title=state.title,
        site_url=state.site_url, interval_hint=state.interval_hint,
        boilerplate=state.boilerplate, entry_digests=state.entry_digests,
    )


def _failed(record: PollRecord, state: FeedState, error: str, *, gone: bool) -> PollRecord:
    """`record` as a failure: one more in a row; a 410 retires the feed. The error is
    stored valid and bounded: it may quote what a server sent."""
    error = cap_text(valid_text(error), MAX_ERROR)
    return replace(record, error=error, failures=state.failures + 1,
                   failing_since=state.failing_since or record.polled_at,
                   gone_at=record.polled_at if gone else state.gone_at)


def explain_error(error: str, fetched: FetchResult) -> str:
    """Error words for `status`, with what the server asked for when it said something."""
    if fetched.gone:
        return f"{error}: the server says this feed is gone for good"
    retry = fetched.headers.get("Retry-After")
    if fetched.status in RATE_LIMITED and retry:
        return f"{error} (the server asked to wait: Retry-After {retry})"
    return error


def next_poll_time(
    interval: timedelta, failures: int, now: datetime, *,
    spread: float = 0.0, retry_after: timedelta | None = None,
) -> datetime:
    """When to poll again.

    The interval, doubled for each failure in a row (capped at a day), stretched
    by up to JITTER × `spread` so feeds drift apart, and never before a server's
    Retry-After (itself capped at a day).
    """
    delay = interval
    if failures > 0:
        delay = min(interval * 2 ** (failures - 1), max(interval, MAX_DELAY))
    delay *= 1 + JITTER * spread
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return now + delay


def poll_interval(configured: timedelta, hint: timedelta | None) -> timedelta:
    """The feed's interval, lengthened (never shortened) by its ttl or max-age, up to a day."""
    if hint is None or hint <= configured:
        return configured
    return min(hint, max(configured, MAX_DELAY))


def interval_hint(state: FeedState, fetched: FetchResult,
                  parsed: Parsed | None) -> timedelta | None:
    """The longer of the answer's max-age and the document's ttl; else the hint learnt
    before (a 304 carries no document)."""
    ttl = parsed.feed.ttl if parsed and parsed.feed else None
    hints = [hint for hint in (parse_max_age(fetched.headers), ttl) if hint]
    return max(hints) if hints else state.interval_hint or None


def jitter(key: str, now: datetime) -> float:
    """A stable pseudo-random fraction in [0, 1) for a feed and a moment."""
    digest = hashlib.blake2b(f"{key}\x1f{now.isoformat()}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date, relative to `now`; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    seconds = bounded_count(value, _LONGEST)
    if seconds is not None:
        return timedelta(seconds=seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when - now, timedelta(0)), MAX_DELAY)


# Server hints are numbers of any size: longer than a day is a day (MAX_DELAY), which
# changes no wait (each is capped at a day, or at a longer configured interval, where
# a longer hint gives way to the interval) and fits any timedelta and any column.
_LONGEST = int(MAX_DELAY.total_seconds())
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)


def parse_max_age(headers: Mapping[str, str]) -> timedelta | None:
    """The `max-age` of a Cache-Control header, if any, up to a day."""
    value = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
    match = _MAX_AGE.search(value)
    seconds = bounded_count(match.group(1), _LONGEST) if match else None
    return timedelta(seconds=seconds) if seconds is not None else None


def remember_boilerplate(known: frozenset[int], found: frozenset[int]) -> frozenset[int]:
    """The paragraph hashes a feed repeats, those of its new document added, at most
    MAX_BOILERPLATE of them (the smallest: a stable choice)."""
    if found <= known:
        return known
    return frozenset(sorted(known | found)[:MAX_BOILERPLATE])


def filing_date(published: datetime | None, updated: datetime | None, first_seen: datetime,
                filed: datetime | None = None) -> datetime:
    """The date an entry is filed under: when published, else when last updated, else
    when first seen.

    A date after `first_seen` is not believed (a mistaken clock, a scheduled post
    shown too early): the entry goes under when we first saw it. A stored entry
    (`filed`: its date now) without a publication date only ever moves earlier:
    its last update changes with every edit.
    """
    if published is not None:
        return min(published, first_seen)
    if updated is None:
        return first_seen if filed is None else filed
    dated = min(updated, first_seen)
    return dated if filed is None else min(filed, dated)


def is_redated(stored_published: datetime | None, filed: datetime,
               published: datetime | None, dated: datetime) -> bool:
    """Whether a stored entry that did not change moves to the date its feed now gives.

    An earlier publication date is taken; a later one alone is ignored: some blogs
    re-date a post on every poll, and it must not climb back to the top. Without a
    publication date the entry moves when its filing date (`dated`) does.
    """
    if published is not None:
        return stored_published is None or published < stored_published
    return dated != filed


class UnknownFeedError(KeyError):
    """`--feed NAME` names no feed of feeds.yaml."""


def select_feeds(
    config: Config, states: Mapping[str, FeedState], now: datetime, *,
    force: bool = False, only: str | None = None,
) -> list[FeedConfig]:
    """The enabled feeds to poll now: those due, or all with `force`; never retired ones."""
    if only is not None and config.feed(only) is None:
        raise UnknownFeedError(only)
    return [
        feed for feed in config.feeds
        if feed.enabled
        and not is_retired(states.get(feed.name))
        and (only is None or feed.name == only)
        and (force or only is not None or is_due(states.get(feed.name), now))
    ]
