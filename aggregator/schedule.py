"""APScheduler wiring: poll on a tick, render after changes, reload an edited feeds.yaml."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from apscheduler.schedulers.blocking import BlockingScheduler

from aggregator.config import Config, ConfigError, load_config
from aggregator.fetch import make_session
from aggregator.render import render_site
from aggregator.store import Store
from aggregator.update import describe_outcome, update_feeds

log = logging.getLogger(__name__)

TICK_SECONDS = 60


@dataclass
class Daemon:
    """The state the daemon keeps between ticks."""

    config: Config
    store: Store
    session: requests.Session = field(default_factory=make_session)
    # (mtime, size) of feeds.yaml when last read: a file caught half-written by an
    # editor reads again when its size changes, even within one mtime tick.
    config_stamp: tuple[int, int] | None = None
    rendered: bool = False

    def tick(self) -> None:
        """One scheduler tick: reload the config if edited, poll what is due, render."""
        now = datetime.now(UTC)
        changed = self.reload_config()
        outcomes = update_feeds(self.store, self.session, self.config, now)
        for outcome in outcomes:
            level = logging.WARNING if outcome.outcome == "error" else logging.INFO
            log.log(level, "%s: %s", outcome.feed, describe_outcome(outcome))
        stored = sum(o.new + o.updated for o in outcomes)
        if stored or changed or not self.rendered:
            report = render_site(self.store, self.config.settings, self.config.feeds, now)
            self.rendered = True
            log.info("rendered %d day pages, %d files written", report.days, report.written)
        if outcomes:
            failed = sum(o.outcome == "error" for o in outcomes)
            log.info("polled %d feeds: %d entries stored, %d failed",
                     len(outcomes), stored, failed)

    def reload_config(self) -> bool:
        """Re-read feeds.yaml when its file changed; a broken edit keeps the last good one."""
        try:
            stat = self.config.path.stat()
        except OSError:
            return False
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self.config_stamp:
            return False
        first = self.config_stamp is None
        self.config_stamp = stamp
        if first:
            return False
        try:
            self.config = load_config(self.config.path)
        except ConfigError as exc:
            log.error("feeds.yaml changed but is not valid; keeping the previous one:\n%s",
                      exc.describe())
            return False
        log.info("reloaded %s: %d feeds", self.config.path, len(self.config.feeds))
        return True


def run_daemon(config: Config, store: Store, tick_seconds: float = TICK_SECONDS) -> None:
    """Poll and render on schedule until interrupted (Ctrl-C)."""
    daemon = Daemon(config=config, store=store)
    daemon.reload_config()
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        daemon.tick, "interval", seconds=tick_seconds, next_run_time=datetime.now(UTC),
        max_instances=1, coalesce=True, id="poll", misfire_grace_time=None,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("stopping")

