"""`render` and `serve`: the output folder written from the database, and previewed."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aggregator.cli.app import pass_store
from aggregator.cli.output import console, progress_reporter
from aggregator.config.load import Config, FeedConfig, Settings
from aggregator.publish.health import Monitor
from aggregator.store import Store

# http.server comes with publish.serve, imported by the functions that serve: not by fetch.
if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

    from aggregator.publish.render import RenderReport


def render_site(store: Store, settings: Settings, feeds: Sequence[FeedConfig],
                now: datetime, *, full: bool = False,
                on_progress: Callable[[int, int], None] | None = None) -> RenderReport:
    """render_site, imported by the commands that render: Jinja2 and Babel (4 MB) stay
    out of fetch, status and the others, whose process polls beside the parse workers."""
    from aggregator.publish.output import OutputError
    from aggregator.publish.render import render_site

    try:
        return render_site(store, settings, feeds, now, full=full, on_progress=on_progress)
    except OutputError as exc:
        raise click.ClickException(f"{exc} (in settings.output_dir, {settings.output_dir}); "
                                   "the database is unchanged") from None


def parse_address_option(_ctx: click.Context, _param: click.Parameter, value: str | None
                         ) -> tuple[str, int] | None:
    """The HOST:PORT of a --serve or --bind option, as a click callback."""
    if value is None:
        return None
    from aggregator.publish.serve import parse_address

    try:
        return parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def bind(directory: Path, address: tuple[str, int], monitor: Monitor | None = None, *,
         option: str = "--serve") -> ThreadingHTTPServer:
    """A server for `directory` listening on `address`; a clear error if it cannot, and
    for a port in use, how to pick another (`option` is the command's HOST:PORT option)."""
    from aggregator.publish.serve import make_server

    try:
        return make_server(directory, *address, monitor=monitor)
    except OSError as exc:
        way_out = ""
        if exc.errno == errno.EADDRINUSE:
            port = 9001 if address[1] == 9000 else 9000
            way_out = (f"; another program listens there: pick another port with "
                       f"{option} {address[0]}:{port}")
            if option == "--serve":  # `run` and `demo`, which make starts
                way_out += f" (with make: make run PORT={port})"
        raise click.ClickException(f"cannot listen on {address[0]}:{address[1]}: "
                                   f"{exc.strerror or exc}{way_out}") from None


@click.command()
@click.option("--full", is_flag=True,
              help="Render every day page, not only those whose entries changed.")
@pass_store
def render(config: Config, store: Store, full: bool) -> None:
    """Write the output folder (digest pages and merged feeds) from the database."""
    store.sync_feeds(config.feeds)
    # Only a full render goes through every page; an incremental one is over at once.
    with (progress_reporter("Rendering") if full else contextlib.nullcontext(None)) as tell:
        report = render_site(store, config.settings, config.feeds, datetime.now(UTC),
                             full=full, on_progress=tell)
    pages = (f"{report.days} day pages" if report.full
             else f"{report.rendered_days} of {report.days} day pages")
    console.print(
        f"Rendered {pages} and {report.entries_in_feed} feed entries "
        f"into {config.settings.output_dir} ({report.written} files written, "
        f"{report.unchanged} unchanged).", markup=False)


@click.command()
@click.option("--bind", "address", metavar="HOST:PORT", default="127.0.0.1:8080",
              show_default=True, callback=parse_address_option, help="Where to listen.")
@pass_store
def serve(config: Config, store: Store, address: tuple[str, int]) -> None:
    """Preview the output folder over HTTP."""
    from aggregator.publish.serve import server_url

    server = bind(config.settings.output_dir, address, Monitor(store), option="--bind")
    console.print(f"Serving {config.settings.output_dir} at {server_url(server)}; "
                  "Ctrl-C stops.", markup=False)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()

