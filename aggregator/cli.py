"""The `aggregator` command; the only place that prints and reads the clock."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from aggregator import __version__
from aggregator.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from aggregator.demo import start_feed_server, write_demo_config
from aggregator.fetch import make_session
from aggregator.models import FeedState, UpdateOutcome
from aggregator.render import render_site
from aggregator.schedule import run_daemon
from aggregator.serve import make_server, parse_address, server_url, start_server
from aggregator.store import Store
from aggregator.update import UnknownFeedError, describe_outcome, update_feeds

# soft_wrap: long paths and URLs stay on one line, for people and for scripts reading them.
console = Console(highlight=False, soft_wrap=True)


def _load(ctx: click.Context) -> Config:
    return _load_path(ctx.obj)


def _load_path(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration:\n{exc.describe()}") from None


def _open_store(config: Config) -> Store:
    try:
        return Store.open(config.settings.database)
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot open the database named in {config.path} (settings.database): "
            f"{exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}"
        ) from None


def _address(_ctx: click.Context, _param: click.Parameter, value: str | None
             ) -> tuple[str, int] | None:
    if value is None:
        return None
    try:
        return parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              envvar="AGGREGATOR_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              help="The feeds.yaml to use (or $AGGREGATOR_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: bool, quiet: bool) -> None:
    """Poll community-management blogs, keep each post once, publish a digest and a feed."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    # Per-request lines from urllib3 and APScheduler drown ours out at INFO.
    for noisy in ("urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = config_path


@main.command()
@click.option("--force", is_flag=True, help="Poll every enabled feed, due or not.")
@click.option("--feed", "only", metavar="NAME", help="Poll only the feed called NAME.")
@click.pass_context
def fetch(ctx: click.Context, force: bool, only: str | None) -> None:
    """Poll the feeds that are due and store new entries."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        outcomes = update_feeds(store, make_session(), config, datetime.now(UTC),
                                force=force, only=only)
    except UnknownFeedError:
        names = ", ".join(f.name for f in config.feeds) or "none"
        raise click.ClickException(f"no feed named {only!r} in {config.path} "
                                   f"(feeds: {names})") from None
    finally:
        store.close()
    _print_outcomes(outcomes)


def _print_outcomes(outcomes: Sequence[UpdateOutcome]) -> None:
    if not outcomes:
        console.print("No feed is due; use --force to poll them all now.")
        return
    for outcome in sorted(outcomes, key=lambda o: o.feed.casefold()):
        style = "red" if outcome.outcome == "error" else ""
        console.print(f"{outcome.feed}: {describe_outcome(outcome)}", style=style,
                      markup=False)
    new = sum(o.new for o in outcomes)
    updated = sum(o.updated for o in outcomes)
    failed = sum(o.outcome == "error" for o in outcomes)
    console.print(f"{len(outcomes)} feeds polled: {new} new entries, {updated} updated, "
                  f"{failed} failed.")


@main.command()
@click.pass_context
def render(ctx: click.Context) -> None:
    """Write the output folder (digest pages and merged feeds) from the database."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        store.sync_feeds(config.feeds)
        report = render_site(store, config.settings, config.feeds, datetime.now(UTC))
    finally:
        store.close()
    console.print(
        f"Rendered {report.days} day pages and {report.entries_in_feed} feed entries "
        f"into {config.settings.output_dir} ({report.written} files written, "
        f"{report.unchanged} unchanged).", markup=False)


@main.command()
@click.option("--serve", "address", metavar="HOST:PORT", callback=_address,
              help="Also serve the output folder, e.g. 127.0.0.1:8080.")
@click.pass_context
def run(ctx: click.Context, address: tuple[str, int] | None) -> None:
    """Run the daemon: poll on schedule, render after changes, reload feeds.yaml."""
    config = _load(ctx)
    _run(config, address)


def _run(config: Config, address: tuple[str, int] | None) -> None:
    store = _open_store(config)
    server = None
    if address:
        config.settings.output_dir.mkdir(parents=True, exist_ok=True)
        server = _bind(config.settings.output_dir, address)
        start_server(server)
        console.print(f"Serving {config.settings.output_dir} at {server_url(server)}",
                      markup=False)
    console.print(f"Polling {len(config.feeds)} feeds from {config.path}; Ctrl-C stops.",
                  markup=False)
    try:
        run_daemon(config, store)
    finally:
        if server:
            server.shutdown()
        store.close()


def _bind(directory: Path, address: tuple[str, int]) -> ThreadingHTTPServer:
    try:
        return make_server(directory, *address)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {address[0]}:{address[1]}: "
                                   f"{exc.strerror or exc}") from None


@main.command()
@click.option("--bind", "address", metavar="HOST:PORT", default="127.0.0.1:8080",
              show_default=True, callback=_address, help="Where to listen.")
@click.pass_context
def serve(ctx: click.Context, address: tuple[str, int]) -> None:
    """Preview the output folder over HTTP."""
    config = _load(ctx)
    server = _bind(config.settings.output_dir, address)
    console.print(f"Serving {config.settings.output_dir} at {server_url(server)}; "
                  "Ctrl-C stops.", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show every feed's health: last success, last error, failures, next poll, entries."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        store.sync_feeds(config.feeds)
        states = store.feed_states()
    finally:
        store.close()
    if as_json:
        rows = [_status_json(f.name, f.enabled, states.get(f.name)) for f in config.feeds]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    tz = ZoneInfo(config.settings.timezone)
    table = Table(title=f"{len(config.feeds)} feeds in {config.path}")
    for column in ("feed", "state", "last success", "failures", "next poll", "entries"):
        table.add_column(column, no_wrap=column in ("feed", "state"))
    table.add_column("last error", overflow="fold", ratio=1)
    for feed in config.feeds:
        table.add_row(*_status_row(feed.name, feed.enabled, states.get(feed.name), tz))
    console.print(table)


def _health(enabled: bool, state: FeedState | None) -> str:
    if not enabled:
        return "disabled"
    if state is None or state.last_polled is None:
        return "never polled"
    return "failing" if state.failures else "ok"


def _status_json(name: str, enabled: bool, state: FeedState | None) -> dict[str, object]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "name": name,
        "state": _health(enabled, state),
        "url": state.url if state else None,
        "last_polled": iso(state.last_polled if state else None),
        "last_success": iso(state.last_success if state else None),
        "last_error": state.last_error if state else None,
        "failures": state.failures if state else 0,
        "next_poll": iso(state.next_poll if state else None),
        "entries": state.entry_count if state else 0,
    }


def _status_row(name: str, enabled: bool, state: FeedState | None, tz: ZoneInfo
                ) -> list[str]:
    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"

    health = _health(enabled, state)
    colour = {"ok": "green", "failing": "red"}.get(health)
    if colour:
        health = f"[{colour}]{health}[/{colour}]"
    return [
        name, health,
        when(state.last_success if state else None),
        str(state.failures if state else 0),
        when(state.next_poll if state else None),
        str(state.entry_count if state else 0),
        (state.last_error or "") if state else "",
    ]


@main.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default="demo-site", show_default=True,
              help="Where to write the demo's feeds.yaml, database and pages.")
@click.option("--serve", "address", metavar="HOST:PORT", default="127.0.0.1:8080",
              show_default=True, callback=_address, help="Where to serve the pages.")
@click.option("--once", is_flag=True, help="Poll and render once, then exit.")
def demo(directory: Path, address: tuple[str, int], once: bool) -> None:
    """Run the whole flow on bundled sample feeds served from loopback (no network)."""
    feeds_server = start_feed_server()
    try:
        site_url = f"http://{address[0]}:{address[1]}/"
        path = write_demo_config(directory, server_url(feeds_server), site_url)
        config = _load_path(path)
        console.print(f"Sample feeds served at {server_url(feeds_server)}; "
                      f"configuration written to {path}", markup=False)
        if not once:
            _run(config, address)
            return
        store = _open_store(config)
        try:
            now = datetime.now(UTC)
            _print_outcomes(update_feeds(store, make_session(), config, now, force=True))
            report = render_site(store, config.settings, config.feeds, now)
        finally:
            store.close()
        console.print(f"Wrote {report.days} day pages to {config.settings.output_dir}; "
                      f"open {config.settings.output_dir / 'index.html'}", markup=False)
    finally:
        feeds_server.shutdown()
        feeds_server.server_close()

