"""`fetch`: one round of polls (the daemon, `run`, is in daemon.py)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from aggregator.cli.app import open_glance, open_store, pass_config
from aggregator.cli.output import console, print_outcomes, progress_bar
from aggregator.config.load import Config
from aggregator.i18n import _, counted, seconds
from aggregator.models import UpdateOutcome
from aggregator.poll.decide import UnknownFeedError, select_feeds
from aggregator.poll.memory import hold_less_memory

if TYPE_CHECKING:  # the ORM, imported by open_store once some feed is due
    from aggregator.store import Store


def utc_now() -> datetime:
    """The clock handed to the polls."""
    return datetime.now(UTC)


# The exit status of a command a signal stopped: 128 + SIGINT's number, as shells give it;
# a service manager's SIGTERM is a normal end (exit 0), as for the daemon.
STOPPED_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 0}


class Stop(threading.Event):
    """Set by the first SIGINT or SIGTERM, which it names; a second one exits at once."""

    signal: signal.Signals | None = None

    def on_signal(self, number: int, _frame: object) -> None:
        if self.is_set():
            message = _("Stopped at once: the polls under way are abandoned.")
            os.write(2, f"{message}\n".encode())
            os._exit(STOPPED_STATUS[signal.SIGINT])
        self.signal = signal.Signals(number)
        self.set()


@contextmanager
def stopping_on_signals() -> Iterator[Stop]:
    """SIGINT and SIGTERM set the Stop handed out, instead of killing the command."""
    stop = Stop()
    previous = {number: signal.signal(number, stop.on_signal) for number in STOPPED_STATUS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def exit_abandoning(status: int) -> None:
    """End the command now: the store closed, the output flushed, the fetches a stop
    abandoned not waited for (the interpreter would wait for their threads to end)."""
    click.get_current_context().close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@click.command()
@click.option("--force", is_flag=True, help="Poll every enabled feed, due or not.")
@click.option("--feed", "only", metavar="NAME", help="Poll only the feed called NAME.")
@click.option("--full-text", is_flag=True,
              help="With --feed: fetch the article page of each of its entries, whatever "
                   "its full_text says.")
@pass_config
def fetch(config: Config, force: bool, only: str | None, full_text: bool) -> None:
    """Poll the feeds that are due and store new entries (Ctrl-C stores what is fetched)."""
    if full_text and not only:
        raise click.UsageError(_("--full-text needs --feed NAME"))
    started = time.monotonic()
    if not _any_due(config, force, only):  # said before the ORM, requests and the parse
        print_outcomes([], 0.0)           # server are even imported (issue 21)
        if full_text:
            _force_pages(open_store(config), config, only)
        return
    # The first fetch of a database not at HEAD_REVISION opened the Store already: once
    # more here, each closed when the command ends.
    store = open_store(config)
    from aggregator.poll.pool import start_parse_server  # the parse workers' code

    hold_less_memory()  # before the fetch threads start
    start_parse_server(len(config.feeds))
    # A database's first fetch: what it stores may alert (a later one starts where the
    # last round of alerts did, so that a fetch stopped before its alerts loses none).
    store.alerts_mark(utc_now())
    with stopping_on_signals() as stop:
        outcomes = poll_with_progress(store, config, force=force, only=only, stop=stop)
    print_outcomes(outcomes, time.monotonic() - started)
    if full_text and stop.signal is None:
        _force_pages(store, config, only)
    if stop.signal is not None:
        console.print(counted(
            "Stopped by %(signal)s: the %(n)s poll finished is stored; the feeds not polled "
            "wait for the next fetch.",
            "Stopped by %(signal)s: the %(n)s polls finished are stored; the feeds not "
            "polled wait for the next fetch.", len(outcomes), signal=stop.signal.name),
            style="yellow", markup=False)
        exit_abandoning(STOPPED_STATUS[stop.signal])
    from aggregator.cli.alerts import send_alerts  # the table code, after the polls only

    send_alerts(store, config)


def _any_due(config: Config, force: bool, only: str | None) -> bool:
    """Whether some feed is to be polled now, read with the glance (no ORM) from a database
    at HEAD_REVISION, else from the Store, which brings it there."""
    reads = open_glance(config, synced=False) or open_store(config)
    try:
        return bool(select_feeds(config, reads.feed_states(count_entries=False, layout=False),
                                 utc_now(), force=force, only=only))
    except UnknownFeedError:
        names = ", ".join(f.name for f in config.feeds) or _("none")
        raise click.ClickException(
            _("no feed named %(name)r in %(path)s (feeds: %(names)s)")
            % {"name": only, "path": config.path, "names": names}) from None


def _force_pages(store: Store, config: Config, name: str | None) -> None:
    """`fetch --feed NAME --full-text`: every entry's article page of the feed, and say so."""
    from aggregator.fulltext.queue import fetch_pages
    from aggregator.poll.fetch import make_session

    report = fetch_pages(store, make_session(), config, utc_now(), forced=name)
    counts = [counted("%(n)s fetched", "%(n)s fetched", report.fetched),
              counted("%(n)s forbidden by robots.txt", "%(n)s forbidden by robots.txt",
                      report.forbidden),
              counted("%(n)s failed", "%(n)s failed", report.failed),
              counted("%(n)s now a copy of another feed's article",
                      "%(n)s now copies of another feed's article", report.copies)]
    console.print(_("Article pages: %(counts)s.") % {"counts": ", ".join(counts)},
                  markup=False)


def poll_with_progress(store: Store, config: Config, *, force: bool = False,
                       only: str | None = None, stop: Stop | None = None
                       ) -> list[UpdateOutcome]:
    """update_feeds, with a progress bar when a person is watching."""
    from aggregator.poll.fetch import make_session  # requests: only once a feed is due
    from aggregator.poll.run import update_feeds

    now = utc_now()
    with _telling_stop(stop):
        if not console.is_terminal:
            return update_feeds(store, make_session(), config, now, force=force, only=only,
                                clock=utc_now, stop=stop)
        with progress_bar(_("Polling")) as progress:
            task = progress.add_task("poll", total=None)
            states = store.feed_states(count_entries=False, layout=False)
            progress.update(task, total=len(select_feeds(config, states, now, force=force,
                                                         only=only)))
            return update_feeds(store, make_session(), config, now, force=force, only=only,
                                on_outcome=lambda _outcome: progress.advance(task),
                                clock=utc_now, stop=stop)


@contextmanager
def _telling_stop(stop: Stop | None) -> Iterator[None]:
    """Say, as soon as a signal comes, what the polls do about it (from a thread: a signal
    handler must not print while the progress bar may be drawing)."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def tell() -> None:
        from aggregator.poll.run import STOP_GRACE

        while not (stop.wait(0.1) or done.is_set()):
            pass
        if stop.signal is not None and not done.is_set():
            console.print(_("%(signal)s: storing the polls fetched; those under way get "
                            "%(grace)s. Ctrl-C again quits at once.")
                          % {"signal": stop.signal.name, "grace": seconds(STOP_GRACE)},
                          style="yellow", markup=False)

    teller = threading.Thread(target=tell, name="stop-teller", daemon=True)
    teller.start()
    try:
        yield
    finally:
        done.set()
        teller.join()
