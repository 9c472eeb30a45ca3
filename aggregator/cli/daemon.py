"""`run`: the daemon that polls on schedule, renders after changes and reloads feeds.yaml;
apart from `fetch` (poll.py), which finds that no feed is due without importing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from aggregator.cli.app import open_store, pass_config
from aggregator.cli.output import console
from aggregator.cli.poll import exit_abandoning, utc_now
from aggregator.cli.site import bind, parse_address_option
from aggregator.config.load import TICK_SECONDS, Config
from aggregator.i18n import _, counted
from aggregator.poll.memory import hold_less_memory
from aggregator.poll.runlock import AlreadyRunning, exclusive_run
from aggregator.publish.health import Monitor, PollCounters
from aggregator.store import Store

if TYPE_CHECKING:  # http.server comes with serving
    from http.server import ThreadingHTTPServer


@click.command()
@click.option("--serve", "address", metavar="HOST:PORT", callback=parse_address_option,
              help="Also serve the output folder, e.g. 127.0.0.1:8080.")
@click.option("--tick", type=click.FloatRange(min=0.1), default=TICK_SECONDS,
              show_default=True, metavar="SECONDS",
              help="How often to look for due feeds and for an edited feeds.yaml.")
@pass_config
def run(config: Config, address: tuple[str, int] | None, tick: float) -> None:
    """Run the daemon: poll on schedule, render after changes, reload feeds.yaml."""
    poll_on_schedule(config, address, tick)


def poll_on_schedule(config: Config, address: tuple[str, int] | None,
               tick: float = TICK_SECONDS) -> None:
    """Hold the database's run lock and poll on schedule until stopped (`run`, `demo`).

    Everything it opens is closed when the command ends, the lock last.
    """
    ctx = click.get_current_context()
    try:
        ctx.with_resource(exclusive_run(config.settings.database, datetime.now(UTC)))
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    from aggregator.poll import schedule  # APScheduler: see cli.site.render_site

    hold_less_memory()
    store = open_store(config)
    counters = PollCounters()
    if address:
        _serve_beside(config, address, counters)
    console.print(counted("Polling %(n)s feed from %(path)s; Ctrl-C stops.",
                          "Polling %(n)s feeds from %(path)s; Ctrl-C stops.",
                          len(config.feeds), path=config.path), markup=False)
    schedule.run_daemon(config, store, tick, counters=counters)
    exit_abandoning(0)  # a poll the stop abandoned must not hold the exit


def _serve_beside(config: Config, address: tuple[str, int], counters: PollCounters) -> None:
    """Serve the output folder, /healthz and /metrics while the daemon polls."""
    from aggregator.publish.serve import server_url, start_server

    ctx = click.get_current_context()
    config.settings.output_dir.mkdir(parents=True, exist_ok=True)
    # /healthz and /metrics get connections of their own: sharing the polls' pool,
    # a request during a poll left two connections that the polls then took in
    # turns, each filling a page cache and a statement cache with the same data.
    monitor_store = Store.open(config.settings.database, upgrade=False)
    ctx.call_on_close(monitor_store.close)
    server = bind(config.settings.output_dir, address, Monitor(monitor_store, counters))
    if config.settings.websub_callback:
        _answer_hubs(server, config)
    start_server(server)
    ctx.call_on_close(server.shutdown)
    console.print(_("Serving %(folder)s at %(url)s")
                  % {"folder": config.settings.output_dir, "url": server_url(server)},
                  markup=False)


def _answer_hubs(server: ThreadingHTTPServer, config: Config) -> None:
    """The WebSub callback beside the files: hubs verify our subscriptions and push
    there; a verified push is stored as a poll would store it. Its own connections,
    as for /healthz."""
    from aggregator.poll.push import PushReceiver
    from aggregator.publish.serve import attach_websub
    from aggregator.publish.websub_callback import WebSubCallback

    store = Store.open(config.settings.database, upgrade=False)
    click.get_current_context().call_on_close(store.close)
    receiver = PushReceiver(store, config, utc_now)
    attach_websub(server, WebSubCallback(store, receiver, config.settings.max_size, utc_now))
