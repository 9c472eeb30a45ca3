"""APScheduler wiring: poll on a tick, alerts and a render after changes, reload an edited
feeds.yaml."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from aggregator.config.load import TICK_SECONDS, Config, ConfigError, load_config
from aggregator.deliver.alerts_send import alert_round
from aggregator.deliver.background import BackgroundNewsletters
from aggregator.fulltext.background import BackgroundPages
from aggregator.i18n import N_, Deferred, Plural, _, seconds, use
from aggregator.poll.background import BackgroundRunner
from aggregator.poll.claims import worker_name
from aggregator.poll.fetch import make_session
from aggregator.poll.memory import hold_less_memory, return_free_memory
from aggregator.poll.pool import start_parse_server
from aggregator.poll.push import take_pushed
from aggregator.poll.run import STOP_GRACE, update_feeds
from aggregator.poll.save import describe_outcome
from aggregator.poll.subscribe import keep_subscriptions
from aggregator.poll.summary import common_failure
from aggregator.publish.health import PollCounters
from aggregator.publish.render import render_site
from aggregator.publish.websub import announce
from aggregator.store import Store

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 30.0  # seconds a render under way gets to finish on SIGTERM


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
    stopping: threading.Event = field(default_factory=threading.Event)
    idle: threading.Event = field(default_factory=threading.Event)
    counters: PollCounters = field(default_factory=PollCounters)
    doing: Deferred | None = None  # what a tick or the digest job is busy with, when stopped
    # A round of alerts is due: at the start (the last process may have stopped before its
    # round; the database's mark says where it starts), after new articles, and while a
    # send fails. Alerts are sent by a thread of their own: a slow chat never delays a poll.
    alerts_due: bool = True
    alerts: BackgroundRunner[None] = field(init=False)
    pages: BackgroundPages = field(init=False)
    newsletters: BackgroundNewsletters = field(init=False)

    def __post_init__(self) -> None:
        self.alerts = BackgroundRunner("alerts", N_("alerts not sent: %s"), self.stopping)
        self.pages = BackgroundPages(self.store, self.session, self.stopping)
        self.newsletters = BackgroundNewsletters(self.store, self.stopping)
        # A database's first daemon: what its first poll stores may alert.
        self.store.alerts_mark(datetime.now(UTC))

    def tick(self) -> None:
        """One scheduler tick: reload the config if edited, poll what is due, render."""
        if self.stopping.is_set():
            return
        self.idle.clear()
        try:
            self._tick()
        finally:
            return_free_memory()
            self.doing = None
            self.idle.set()

    def _tick(self) -> None:
        now = datetime.now(UTC)
        changed = self.reload_config()
        self.doing = _busy(N_("the polls under way to be stored (at most %(time)s)"), STOP_GRACE)
        outcomes = update_feeds(self.store, self.session, self.config, now, stop=self.stopping,
                                clock=_utc_now, pages=False)
        self.counters.record(outcomes, datetime.now(UTC))
        for outcome in outcomes:
            level = logging.WARNING if outcome.outcome == "error" else logging.INFO
            log.log(level, "%s: %s", outcome.feed, Deferred(partial(describe_outcome, outcome)),
                    extra={
                "feed": outcome.feed, "outcome": outcome.outcome, "new": outcome.new,
                "updated": outcome.updated, "duplicates": outcome.duplicates,
                "elapsed": round(outcome.elapsed, 3), "error": outcome.error})
        stored = sum(o.new + o.updated for o in outcomes)
        if self.stopping.is_set():
            return  # the next start renders what was stored (its first tick always renders)
        if self.alerts_due or any(o.new for o in outcomes):
            self.alerts_due = False  # before the start: the round may fail at once
            if self.alerts.start(partial(self.send_alerts, self.config)) is None:
                self.alerts_due = True  # a round under way: the next tick starts one
        self.websub(lambda: keep_subscriptions(self.store, self.session, self.config,
                                               outcomes, _utc_now()))
        self.pages.start(self.config, _utc_now())
        if (take_pushed() or self.pages.take_changed() or stored or changed
                or not self.rendered):
            self.doing = _busy(N_("the render under way (at most %(time)s)"), SHUTDOWN_GRACE)
            report = render_site(self.store, self.config.settings, self.config.feeds, now)
            self.rendered = True
            log.info("day pages rendered: %d of %d; files written: %d", report.rendered_days,
                     report.days, report.written)
            self.tell_hub(report.changed)
        self.send_newsletters()
        if outcomes:
            failed = sum(o.outcome == "error" for o in outcomes)
            log.info(Plural("%d entry stored; feeds polled: %d, failed: %d",
                            "%d entries stored; feeds polled: %d, failed: %d", stored),
                     stored, len(outcomes), failed)
            if common_failure(outcomes):
                log.warning("%s", Deferred(lambda: common_failure(outcomes) or ""))

    def send_alerts(self, config: Config) -> None:
        """A round of alerts (alert_round); when it fails, the mark stays where it was and
        the next tick tries again."""
        try:
            run = alert_round(self.store, config, datetime.now(UTC))
        except Exception:
            self.alerts_due = True
            raise  # the runner says it
        if run.failed:
            self.alerts_due = True

    def tell_hub(self, changed: tuple[str, ...]) -> None:
        """Ping our WebSub hub for the feeds a render changed."""
        self.websub(lambda: announce(self.store, self.session, self.config.settings, changed,
                                     _utc_now()))

    @staticmethod
    def websub(step: Callable[[], object]) -> None:
        """A WebSub step, whose failure costs only itself: polls and renders go on."""
        try:
            step()
        except Exception:
            log.exception("WebSub step failed; the next tick tries again")

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
                      Deferred(exc.describe))  # English in the JSON log
            return False
        use(self.config.settings.language)
        log.info(Plural("reloaded %s: %d feed", "reloaded %s: %d feeds", len(self.config.feeds)),
                 self.config.path, len(self.config.feeds))
        return True


    def stop_helpers(self) -> None:
        """No new round of alerts, newsletters or run of the page queue; those under way
        end soon."""
        self.alerts.shutdown()
        self.pages.shutdown()
        self.newsletters.shutdown()

    def tell_stopping(self, signal_name: str, again: str) -> None:
        """Say the daemon stops, what it waits for first, and what exits at once."""
        if self.doing:
            log.warning("%s: stopping, waiting for %s; %s again exits at once", signal_name,
                        self.doing, again)
        else:
            log.warning("%s: stopping; %s again exits at once", signal_name, again)

    def render_digest(self) -> None:
        """The morning job: prune what retention says, then render the day complete."""
        if self.stopping.is_set():
            return
        self.doing = _busy(N_("the daily render under way (at most %(time)s)"),
                           SHUTDOWN_GRACE)
        try:
            self._render_digest()
        finally:
            self.doing = None

    def _render_digest(self) -> None:
        now = datetime.now(UTC)
        settings = self.config.settings
        if settings.retention is not None:
            removed = self.store.prune(now - settings.retention, settings.keep_per_feed)
            if removed:
                count = sum(removed.values())
                log.info(Plural("pruned %d entry older than %s", "pruned %d entries older than %s",
                                count), count, settings.retention)
        # Pruned entries leave no trace an incremental render could follow, and
        # another worker may have pruned them: with a retention, render every page.
        report = render_site(self.store, settings, self.config.feeds, now,
                             full=settings.retention is not None)
        self.rendered = True
        log.info("daily digest rendered: day pages: %d of %d; files written: %d",
                 report.rendered_days, report.days, report.written)
        self.tell_hub(report.changed)
        self.send_newsletters()

    def send_newsletters(self, now: datetime | None = None) -> Future[None] | None:
        """The newsletters due now, after a render, sent by a thread of their own (the
        round started, or None): each period once, however many workers and restarts
        (the store claims it); a slow or failing server never holds the polls."""
        if not self.config.newsletters or not self.rendered:
            return None
        return self.newsletters.start(self.config, now or datetime.now(UTC), worker_name())


def _busy(message: str, grace: float) -> Deferred:
    """What the daemon waits for when stopped: `message` (marked with N_) and its grace."""
    return Deferred(lambda: _(message) % {"time": seconds(grace)})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _QuietSkips(logging.Filter):
    """APScheduler warns on every tick that finds the last poll still running; a long
    first poll is normal, so say it at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" in str(record.msg):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_QUIET_SKIPS = _QuietSkips()


def build_scheduler(daemon: Daemon, tick_seconds: float = TICK_SECONDS
                    ) -> BackgroundScheduler:
    """The poll tick, from now on, and the daily render at settings.digest_time."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        daemon.tick, "interval", seconds=tick_seconds, next_run_time=datetime.now(UTC),
        max_instances=1, coalesce=True, id="poll", misfire_grace_time=None,
    )
    settings = daemon.config.settings
    scheduler.add_job(
        daemon.render_digest, CronTrigger(hour=settings.digest_time.hour,
                                          minute=settings.digest_time.minute,
                                          timezone=ZoneInfo(settings.timezone)),
        id="digest", max_instances=1, coalesce=True, misfire_grace_time=3600,
    )
    return scheduler


def run_daemon(config: Config, store: Store, tick_seconds: float = TICK_SECONDS,
               grace: float = SHUTDOWN_GRACE, counters: PollCounters | None = None) -> None:
    """Poll and render on schedule until SIGTERM or SIGINT.

    The first signal starts no new poll, stores the polls fetched (those still under
    way get STOP_GRACE seconds) and waits up to `grace` seconds for a render under way;
    it says what it waits for. A second one exits at once.
    """
    daemon = Daemon(config=config, store=store, counters=counters or PollCounters())
    daemon.idle.set()
    hold_less_memory()  # the CLI did already, before starting its server thread
    logging.getLogger("apscheduler.scheduler").addFilter(_QUIET_SKIPS)
    daemon.reload_config()
    scheduler = build_scheduler(daemon, tick_seconds)

    # The handler only raises a flag: the main thread, asleep on it, does the stopping.
    def on_signal(number: int, _frame: object) -> None:
        if daemon.stopping.is_set():
            log.warning("second %s: exiting now", signal.Signals(number).name)
            os._exit(1)
        name = signal.Signals(number).name
        daemon.tell_stopping(name, "Ctrl-C" if number == signal.SIGINT else name)
        daemon.stopping.set()

    start_parse_server(len(config.feeds))
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    scheduler.start()
    log.info(Plural("running: %d feed, a tick every %s, the daily digest at %s",
                    "running: %d feeds, a tick every %s, the daily digest at %s",
                    len(config.feeds)), len(config.feeds), Deferred(partial(seconds, tick_seconds)),
             config.settings.digest_time.strftime("%H:%M"))
    daemon.stopping.wait()
    scheduler.shutdown(wait=False)
    daemon.stop_helpers()
    if not daemon.idle.wait(grace):
        log.warning("a poll still runs after %s; leaving it (each feed is stored whole "
                    "or not at all)", Deferred(partial(seconds, grace)))
        os._exit(0)
    log.info("stopped")

