"""A verified WebSub push taken as a fetched body: the same parse, clean, dedup and store
as a poll (steps.py, decide.py, save.py), one push at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from aggregator.config.load import Config, ConfigError, load_config
from aggregator.models import FetchResult, Subscription, UpdateOutcome
from aggregator.poll.decide import decide_poll
from aggregator.poll.pool import parse_pool
from aggregator.poll.save import describe_outcome, store_polls
from aggregator.poll.steps import Poll, submit_parse, with_parse
from aggregator.poll.websub_rules import polling_interval
from aggregator.store import Store

log = logging.getLogger(__name__)

# Pushes arrive on the server's threads: one at a time is plenty, and two pushes of one
# feed never race to store the same entry.
_ONE_AT_A_TIME = threading.Lock()
# Set when a push stored something: the daemon's next tick renders (see take_pushed).
_STORED = threading.Event()


def take_pushed() -> bool:
    """Whether a push stored entries since the last call: the pages must show them."""
    stored = _STORED.is_set()
    _STORED.clear()
    return stored


class PushReceiver:
    """Pushes stored for the feeds of feeds.yaml as it is now: the daemon may have
    reloaded it since the server started (an edit that breaks it keeps the last one)."""

    def __init__(self, store: Store, config: Config,
                 clock: Callable[[], datetime]) -> None:
        self.store, self.config, self.clock = store, config, clock
        self._stamp = _stamp(config.path)

    def __call__(self, subscription: Subscription, body: bytes,
                 headers: Mapping[str, str]) -> UpdateOutcome | None:
        stamp = _stamp(self.config.path)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.config = load_config(self.config.path)
            except ConfigError:
                log.warning("feeds.yaml is not valid: pushes go by the previous one")
        return receive_push(self.store, self.config, subscription, body, headers,
                            self.clock())


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def receive_push(store: Store, config: Config, subscription: Subscription, body: bytes,
                 headers: Mapping[str, str], now: datetime) -> UpdateOutcome | None:
    """Store the entries of a pushed document of `subscription`'s feed, as a poll at `now`
    would have; None when feeds.yaml no longer lists that feed."""
    feed = config.feed(subscription.feed_name)
    if feed is None or not feed.enabled:
        log.warning("%s: WebSub push ignored: the feed is not in feeds.yaml or disabled",
                    subscription.feed_name)
        return None
    with _ONE_AT_A_TIME:
        state = store.feed_states([feed.name], count_entries=False)[feed.name]
        # Never a 304, no validators and no body hash: the next poll is conditional on
        # what the last poll saw, as a pushed document may be only the new entries.
        fetched = FetchResult(subscription.topic, subscription.topic, 200, content=body,
                              headers=dict(headers))
        with parse_pool(1) as parsers:
            parsed = submit_parse(parsers, Poll(feed, fetched), state).result()
        poll = with_parse(Poll(feed, fetched), parsed)
        interval = polling_interval(feed.poll_interval or config.settings.poll_interval,
                                    subscription, config.settings.websub_poll_interval, now)
        record = decide_poll(state, fetched, parsed, interval, now)
        outcome = store_polls(store, [(poll, record)], {feed.name: state})[0]
        if outcome.new or outcome.updated:
            _STORED.set()
    log.info("%s: WebSub push: %s", feed.name, describe_outcome(outcome))
    return outcome
