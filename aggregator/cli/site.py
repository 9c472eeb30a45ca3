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
from aggregator.i18n import _, counted, number, translate_message
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
        raise click.ClickException(
            _("%(error)s (in settings.output_dir, %(folder)s); the database is unchanged")
            % {"error": translate_message(str(exc)), "folder": settings.output_dir}) from None


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
            way_out = _("; another program listens there: pick another port with "
                        "%(option)s %(host)s:%(port)s") % {"option": option, "host": address[0],
                                                           "port": port}
            if option == "--serve":  # `run` and `demo`, which make starts
                way_out += _(" (with make: make run PORT=%(port)s)") % {"port": port}
        raise click.ClickException(_("cannot listen on %(host)s:%(port)s: %(reason)s") % {
            "host": address[0], "port": address[1],
            "reason": exc.strerror or exc} + way_out) from None


@click.command()
@click.option("--full", is_flag=True,
              help="Render every day page, not only those whose entries changed.")
@pass_store
def render(config: Config, store: Store, full: bool) -> None:
    """Write the output folder (digest pages and merged feeds) from the database."""
    store.sync_feeds(config.feeds)
    # Only a full render goes through every page; an incremental one is over at once.
    with (progress_reporter(_("Rendering")) if full else contextlib.nullcontext(None)) as tell:
        report = render_site(store, config.settings, config.feeds, datetime.now(UTC),
                             full=full, on_progress=tell)
    pages = (counted("%(n)s day page", "%(n)s day pages", report.days) if report.full
             else counted("%(done)s of %(n)s day page", "%(done)s of %(n)s day pages",
                          report.days, done=number(report.rendered_days)))
    console.print(_("Rendered %(pages)s and %(entries)s into %(folder)s (%(written)s, "
                    "%(unchanged)s).") % {
        "pages": pages,
        "entries": counted("%(n)s feed entry", "%(n)s feed entries", report.entries_in_feed),
        "folder": config.settings.output_dir,
        "written": counted("%(n)s file written", "%(n)s files written", report.written),
        "unchanged": counted("%(n)s unchanged", "%(n)s unchanged", report.unchanged)},
        markup=False)
    if config.settings.websub_hub:
        tell_hub(store, config.settings, report.changed)


def tell_hub(store: Store, settings: Settings, changed: Sequence[str]) -> None:
    """Ping settings.websub_hub for the feeds a render changed (and those whose last ping
    failed), as the daemon does after its renders; say how it went. A hub that cannot be
    told fails no render: the next one tells it again."""
    from aggregator.poll.fetch import make_session  # requests: only with a hub
    from aggregator.publish.websub import announce

    records = announce(store, make_session(), settings, changed, datetime.now(UTC))
    told = sum(record.ok for record in records)
    if told:
        console.print(counted("WebSub hub %(hub)s told of %(n)s changed feed.",
                              "WebSub hub %(hub)s told of %(n)s changed feeds.", told,
                              hub=settings.websub_hub), markup=False)
    failed = len(records) - told
    if failed:  # which and why: the warnings logged above
        console.print(counted(
            "WebSub hub %(hub)s not told of %(n)s changed feed; told again at the next "
            "render (see `aggregator status`).",
            "WebSub hub %(hub)s not told of %(n)s changed feeds; told again at the next "
            "render (see `aggregator status`).", failed, hub=settings.websub_hub),
            style="red", markup=False)


@click.command()
@click.option("--bind", "address", metavar="HOST:PORT", default="127.0.0.1:8080",
              show_default=True, callback=parse_address_option, help="Where to listen.")
@pass_store
def serve(config: Config, store: Store, address: tuple[str, int]) -> None:
    """Preview the output folder over HTTP."""
    from aggregator.publish.serve import server_url

    server = bind(config.settings.output_dir, address, Monitor(store), option="--bind")
    console.print(_("Serving %(folder)s at %(url)s; Ctrl-C stops.") % {
        "folder": config.settings.output_dir, "url": server_url(server)}, markup=False)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()

