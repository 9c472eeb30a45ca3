"""The `aggregator` command; the only place that prints and reads the clock."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from aggregator import __version__
from aggregator.backup import BackupError, export_lines, import_lines
from aggregator.config import (
    DEFAULT_CONFIG,
    TICK_SECONDS,
    Config,
    ConfigError,
    FeedConfig,
    Settings,
    load_config,
)
from aggregator.db import database_file, describe_database
from aggregator.demo import start_feed_server, write_demo_config
from aggregator.fetch import make_session
from aggregator.health import Monitor, PollCounters
from aggregator.memory import hold_less_memory
from aggregator.models import FeedState, UpdateOutcome
from aggregator.opml import OpmlError, read_opml, write_opml
from aggregator.runlock import AlreadyRunning, exclusive_run
from aggregator.serve import make_server, parse_address, server_url, start_server
from aggregator.store import Store
from aggregator.subscriptions import (
    SubscriptionError,
    add_feeds,
    discover_feed,
    find_duplicate,
    name_for,
    remove_feed,
)
from aggregator.update import (
    UnknownFeedError,
    check_feeds,
    describe_outcome,
    select_feeds,
    start_parse_server,
    update_feeds,
)

if TYPE_CHECKING:
    from aggregator.render import RenderReport

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


def _feed_states(config: Config) -> dict[str, FeedState]:
    """What the database knows of each feed of feeds.yaml."""
    store = _open_store(config)
    try:
        store.sync_feeds(config.feeds)
        return store.feed_states()
    finally:
        store.close()


def _address(_ctx: click.Context, _param: click.Parameter, value: str | None
             ) -> tuple[str, int] | None:
    if value is None:
        return None
    try:
        return parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


class JsonFormatter(logging.Formatter):
    """One JSON object a line; a poll's line also carries its feed, outcome and figures."""

    FIELDS = ("feed", "outcome", "new", "updated", "duplicates", "elapsed", "error")

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({f: getattr(record, f) for f in self.FIELDS if hasattr(record, f)})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


@click.group()
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              envvar="AGGREGATOR_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              help="The feeds.yaml to use (or $AGGREGATOR_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object a line, for log collectors.")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: bool, quiet: bool,
         log_format: str) -> None:
    """Poll community-management blogs, keep each post once, publish a digest and a feed."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # Per-request lines from urllib3 and APScheduler drown ours out at INFO.
    for noisy in ("urllib3", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = config_path


@main.command()
@click.option("--force", is_flag=True, help="Poll every enabled feed, due or not.")
@click.option("--feed", "only", metavar="NAME", help="Poll only the feed called NAME.")
@click.pass_context
def fetch(ctx: click.Context, force: bool, only: str | None) -> None:
    """Poll the feeds that are due and store new entries."""
    config = _load(ctx)
    hold_less_memory()  # before the fetch threads start
    # Its imports run while the store opens and the first feeds are fetched.
    start_parse_server(len(config.feeds))
    store = _open_store(config)
    started = time.monotonic()
    try:
        outcomes = _poll_with_progress(store, config, force=force, only=only)
    except UnknownFeedError:
        names = ", ".join(f.name for f in config.feeds) or "none"
        raise click.ClickException(f"no feed named {only!r} in {config.path} "
                                   f"(feeds: {names})") from None
    finally:
        store.close()
    _print_outcomes(outcomes, time.monotonic() - started)


def _poll_with_progress(store: Store, config: Config, *, force: bool = False,
                        only: str | None = None) -> list[UpdateOutcome]:
    """update_feeds, with a progress bar when a person is watching."""
    now = datetime.now(UTC)
    if not console.is_terminal:
        return update_feeds(store, make_session(), config, now, force=force, only=only,
                            clock=_utc_now)
    columns = [TextColumn("Polling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("poll", total=None)
        states = store.feed_states(count_entries=False)
        progress.update(task, total=len(select_feeds(config, states, now, force=force,
                                                     only=only)))
        return update_feeds(store, make_session(), config, now, force=force, only=only,
                            on_outcome=lambda _outcome: progress.advance(task),
                            clock=_utc_now)


def _render_site(store: Store, settings: Settings, feeds: Sequence[FeedConfig],
                 now: datetime, *, full: bool = False) -> RenderReport:
    """render_site, imported by the commands that render: Jinja2 and Babel (4 MB) stay
    out of fetch, status and the others, whose process polls beside the parse workers."""
    from aggregator.render import render_site

    return render_site(store, settings, feeds, now, full=full)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _print_outcomes(outcomes: Sequence[UpdateOutcome], elapsed: float) -> None:
    if not outcomes:
        console.print("No feed is due; use --force to poll them all now.")
        return
    by_name = sorted(outcomes, key=lambda o: o.feed.casefold())
    for outcome in by_name:
        if outcome.outcome in ("error", "gone"):
            console.print(f"{outcome.feed}: {describe_outcome(outcome)}", style="red",
                          markup=False)
        elif outcome.moved_to:
            console.print(f"{outcome.feed}: moved permanently to {outcome.moved_to}; "
                          "update feeds.yaml", style="yellow", markup=False)
    kinds = Counter(o.outcome for o in outcomes)
    console.print(
        f"{len(outcomes)} feeds polled in {elapsed:.1f} s: "
        f"{sum(o.new for o in outcomes)} new entries, "
        f"{sum(o.duplicates for o in outcomes)} already published elsewhere, "
        f"{sum(o.updated for o in outcomes)} updated, {kinds['not_modified']} not modified, "
        f"{kinds['unchanged']} unchanged, {kinds['error'] + kinds['gone']} failed.",
        markup=False)
    slowest = sorted(outcomes, key=lambda o: o.elapsed, reverse=True)[:3]
    if len(outcomes) > 1:
        console.print("Slowest: " + ", ".join(f"{o.feed} ({o.elapsed:.2f} s)"
                                              for o in slowest), markup=False)


@main.command()
@click.option("--full", is_flag=True,
              help="Render every day page, not only those whose entries changed.")
@click.pass_context
def render(ctx: click.Context, full: bool) -> None:
    """Write the output folder (digest pages and merged feeds) from the database."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        store.sync_feeds(config.feeds)
        report = _render_site(store, config.settings, config.feeds, datetime.now(UTC),
                              full=full)
    finally:
        store.close()
    pages = (f"{report.days} day pages" if report.full
             else f"{report.rendered_days} of {report.days} day pages")
    console.print(
        f"Rendered {pages} and {report.entries_in_feed} feed entries "
        f"into {config.settings.output_dir} ({report.written} files written, "
        f"{report.unchanged} unchanged).", markup=False)


@main.command()
@click.option("--serve", "address", metavar="HOST:PORT", callback=_address,
              help="Also serve the output folder, e.g. 127.0.0.1:8080.")
@click.option("--tick", type=click.FloatRange(min=0.1), default=TICK_SECONDS,
              show_default=True, metavar="SECONDS",
              help="How often to look for due feeds and for an edited feeds.yaml.")
@click.pass_context
def run(ctx: click.Context, address: tuple[str, int] | None, tick: float) -> None:
    """Run the daemon: poll on schedule, render after changes, reload feeds.yaml."""
    config = _load(ctx)
    _run(config, address, tick)


def _run(config: Config, address: tuple[str, int] | None,
         tick: float = TICK_SECONDS) -> None:
    try:
        with exclusive_run(config.settings.database, datetime.now(UTC)):
            _run_locked(config, address, tick)
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None


def _run_locked(config: Config, address: tuple[str, int] | None, tick: float) -> None:
    from aggregator.schedule import run_daemon  # see _render_site

    hold_less_memory()
    store = _open_store(config)
    server = monitor_store = None
    counters = PollCounters()
    if address:
        config.settings.output_dir.mkdir(parents=True, exist_ok=True)
        # /healthz and /metrics get connections of their own: sharing the polls' pool,
        # a request during a poll left two connections that the polls then took in
        # turns, each filling a page cache and a statement cache with the same data.
        monitor_store = Store.open(config.settings.database, upgrade=False)
        server = _bind(config.settings.output_dir, address, Monitor(monitor_store, counters))
        start_server(server)
        console.print(f"Serving {config.settings.output_dir} at {server_url(server)}",
                      markup=False)
    console.print(f"Polling {len(config.feeds)} feeds from {config.path}; Ctrl-C stops.",
                  markup=False)
    try:
        run_daemon(config, store, tick, counters=counters)
    finally:
        if server:
            server.shutdown()
        if monitor_store:
            monitor_store.close()
        store.close()


def _bind(directory: Path, address: tuple[str, int],
          monitor: Monitor | None = None) -> ThreadingHTTPServer:
    try:
        return make_server(directory, *address, monitor=monitor)
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
    store = _open_store(config)
    server = _bind(config.settings.output_dir, address, Monitor(store))
    console.print(f"Serving {config.settings.output_dir} at {server_url(server)}; "
                  "Ctrl-C stops.", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
@click.pass_context
def prune(ctx: click.Context, dry_run: bool) -> None:
    """Remove entries older than settings.retention, keeping each feed's newest ones."""
    config = _load(ctx)
    settings = config.settings
    if settings.retention is None:
        console.print(f"settings.retention is not set in {config.path}: nothing is pruned.",
                      markup=False)
        return
    now = datetime.now(UTC)
    before = now - settings.retention
    store = _open_store(config)
    try:
        removed = store.prune(before, settings.keep_per_feed, dry_run=dry_run)
        if removed and not dry_run:
            _render_site(store, settings, config.feeds, now, full=True)
    finally:
        store.close()
    for name, count in sorted(removed.items()):
        console.print(f"{name}: {count}", markup=False)
    verb = "Would remove" if dry_run else "Removed"
    console.print(f"{verb} {sum(removed.values())} entries filed before "
                  f"{before.astimezone(ZoneInfo(settings.timezone)):%Y-%m-%d %H:%M} "
                  f"(each feed keeps its newest {settings.keep_per_feed}).", markup=False)


@main.command("export")
@click.option("--format", "format_", type=click.Choice(["jsonl"]), default="jsonl",
              show_default=True, help="One JSON object a line.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
@click.pass_context
def export_command(ctx: click.Context, format_: str, output: Path | None) -> None:
    """Dump every stored entry, for a backup or a move to another database."""
    config = _load(ctx)
    store = _open_store(config)
    count = 0
    try:
        with (output.open("w", encoding="utf-8") if output
              else contextlib.nullcontext(sys.stdout)) as handle:
            for line in export_lines(store):
                handle.write(line)
                count += 1
    finally:
        store.close()
    if output:
        console.print(f"Exported {count} entries to {output}.", markup=False)


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_context
def import_command(ctx: click.Context, file: Path) -> None:
    """Load entries from an `aggregator export` file into this database."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        with file.open(encoding="utf-8") as handle:
            counts = import_lines(store, handle)
        store.sync_feeds(config.feeds)
        # Imported entries keep their own change times: only a full render finds them.
        _render_site(store, config.settings, config.feeds, datetime.now(UTC), full=True)
    except BackupError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    finally:
        store.close()
    console.print(f"Imported from {file}: {counts.new} entries, {counts.duplicates} copies "
                  f"of articles from other feeds, {counts.updated} updated.", markup=False)


@main.command()
@click.pass_context
def vacuum(ctx: click.Context) -> None:
    """Compact the database and refresh its statistics (after a large prune, say)."""
    config = _load(ctx)
    url = config.settings.database
    file = database_file(url)
    before = _file_size(file)
    store = _open_store(config)
    try:
        store.vacuum()
    finally:
        store.close()
    sizes = (f" ({before / 1e6:.1f} MB before, {_file_size(file) / 1e6:.1f} MB after)"
             if file else "")
    console.print(f"Vacuumed {describe_database(url)}{sizes}.", markup=False)


def _file_size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


@main.group()
def db() -> None:
    """Look after the database's schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the schema migrations the database lacks (every command also does it)."""
    config = _load(ctx)
    try:
        store = Store.open(config.settings.database, upgrade=False)
        before, after = store.upgrade_schema()
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot upgrade the database named in {config.path} (settings.database): "
            f"{exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}") from None
    store.close()
    where = config.settings.database.split("@")[-1]
    if before == after:
        console.print(f"{where} is up to date (revision {after}).", markup=False)
    else:
        console.print(f"Upgraded {where} from revision {before or 'none (empty)'} "
                      f"to {after}.", markup=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show every feed's health: last success, last error, failures, next poll, entries."""
    config = _load(ctx)
    states = _feed_states(config)
    excluded = _excluded_counts(config)
    if as_json:
        tz = ZoneInfo(config.settings.timezone)
        rows = [{**_status_json(f.name, f.enabled, states.get(f.name), tz),
                 "filtered_out": excluded.get(f.name, 0)} for f in config.feeds]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    tz = ZoneInfo(config.settings.timezone)
    table = Table(title=f"{len(config.feeds)} feeds in {config.path}")
    for column in ("feed", "state", "last success", "next poll", "entries"):
        table.add_column(column, no_wrap=column in ("feed", "state"))
    table.add_column("what happened", overflow="fold", ratio=1)
    colours = {"ok": "green", "failing": "red", "retired": "red", "moved": "yellow"}
    for feed in config.feeds:
        state = states.get(feed.name)
        health = _health(feed.enabled, state)
        colour = colours.get(health, "default")
        table.add_row(
            escape(feed.name), f"[{colour}]{health}[/{colour}]",
            _when(state.last_success if state else None, tz),
            _when(state.next_poll if state and health != "retired" else None, tz),
            str(state.entry_count if state else 0)
            + (f" ({excluded[feed.name]} filtered out)" if excluded.get(feed.name) else ""),
            escape(explain_state(feed.enabled, state, tz)),
        )
    console.print(table)


def _excluded_counts(config: Config) -> dict[str, int]:
    """How many stored articles of each feed the filters keep out of pages and feeds."""
    from aggregator.filters import EntryFilter  # see _render_site

    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        return {}
    store = _open_store(config)
    try:
        return {feed.name: sum(not rules.judge(e).shown for e in store.feed_entries(feed.name))
                for feed in config.feeds}
    finally:
        store.close()


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _health(enabled: bool, state: FeedState | None) -> str:
    if not enabled:
        return "disabled"
    if state is None or state.last_polled is None:
        return "never polled"
    if state.gone_at:
        return "retired"
    if state.failures:
        return "failing"
    return "moved" if state.moved_to else "ok"


def explain_state(enabled: bool, state: FeedState | None, tz: ZoneInfo) -> str:
    """What happened to a feed, in plain words: what, when, and what comes next."""
    if not enabled:
        return "disabled in feeds.yaml: not polled, its entries are kept"
    if state is None or state.last_polled is None:
        return "not polled yet"
    if state.gone_at:
        return (f"retired on {_when(state.gone_at, tz)}: {state.last_error}. It is not "
                "polled any more; edit its entry in feeds.yaml to try again.")
    parts = []
    if state.failures:
        attempts = "attempt" if state.failures == 1 else "attempts in a row"
        parts.append(
            f"failing since {_when(state.failing_since or state.last_polled, tz)} "
            f"({state.failures} {attempts}): {state.last_error}. "
            f"Next try {_when(state.next_poll, tz)}; it is never dropped.")
    if state.moved_to:
        parts.append(f"moved permanently to {state.moved_to} on "
                     f"{_when(state.moved_at, tz)}: polled there now; "
                     "put the new address in feeds.yaml.")
    return " ".join(parts) or f"ok: last polled {_when(state.last_polled, tz)}"


def _status_json(name: str, enabled: bool, state: FeedState | None, tz: ZoneInfo
                 ) -> dict[str, object]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "name": name,
        "state": _health(enabled, state),
        "url": state.url if state else None,
        "moved_to": state.moved_to if state else None,
        "last_polled": iso(state.last_polled if state else None),
        "last_success": iso(state.last_success if state else None),
        "last_error": state.last_error if state else None,
        "last_status": state.last_status if state else None,
        "failing_since": iso(state.failing_since if state else None),
        "failures": state.failures if state else 0,
        "retired_at": iso(state.gone_at if state else None),
        "next_poll": iso(state.next_poll if state and not state.gone_at else None),
        "entries": state.entry_count if state else 0,
        "what_happened": explain_state(enabled, state, tz),
    }


@main.group()
def feeds() -> None:
    """List and check the feeds of feeds.yaml."""


@feeds.command("list")
@click.pass_context
def feeds_list(ctx: click.Context) -> None:
    """The feeds of feeds.yaml, as a table."""
    config = _load(ctx)
    table = Table(title=f"{len(config.feeds)} feeds in {config.path}")
    for column in ("name", "url", "tags", "every", "enabled"):
        table.add_column(column, overflow="fold")
    for feed in config.feeds:
        every = feed.poll_interval or config.settings.poll_interval
        table.add_row(escape(feed.name), escape(feed.url), escape(", ".join(feed.tags)),
                      _duration(every),
                      "yes" if feed.enabled else "no")
    console.print(table)


@feeds.command("add")
@click.argument("address")
@click.option("--name", help="Name shown in the digest (default: the feed's title).")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.pass_context
def feeds_add(ctx: click.Context, address: str, name: str | None, tags: tuple[str, ...]) -> None:
    """Add a feed to feeds.yaml from its address or its blog's home page."""
    config = _load(ctx)
    if urlsplit(address).scheme not in ("http", "https"):
        raise click.BadParameter(f"expected an http:// or https:// address, got {address!r}")
    duplicate = find_duplicate(config, address)
    if duplicate:
        raise click.ClickException(f"{address} is already in {config.path} as "
                                   f"{duplicate.name!r} ({duplicate.url})")
    try:
        found = discover_feed(make_session(), address, config.settings.timeout)
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    duplicate = find_duplicate(config, found.url)
    if duplicate:
        raise click.ClickException(f"{address} leads to {found.url}, already in "
                                   f"{config.path} as {duplicate.name!r}")
    feed = FeedConfig(name=name or name_for(found.title, found.url), url=found.url,
                      tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())))
    _, skipped = add_feeds(config, [feed])
    if skipped:
        raise click.ClickException(f"a feed named {feed.name!r} is already in {config.path}; "
                                   "choose another with --name")
    console.print(f"Added {feed.name!r}: {feed.url} ({found.entries} entries now) "
                  f"to {config.path}.", markup=False)


@feeds.command("remove")
@click.argument("name")
@click.pass_context
def feeds_remove(ctx: click.Context, name: str) -> None:
    """Remove a feed from feeds.yaml; its stored entries stay in the digest."""
    config = _load(ctx)
    try:
        remove_feed(config, name)
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"Removed {name!r} from {config.path}.", markup=False)


@main.group()
def opml() -> None:
    """Exchange subscription lists with other feed readers."""


@opml.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_context
def opml_import(ctx: click.Context, file: Path) -> None:
    """Add the feeds of an OPML file to feeds.yaml (folders and categories become tags)."""
    config = _load(ctx)
    try:
        found = read_opml(file.read_bytes())
    except OpmlError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    added, skipped = add_feeds(config, found)
    console.print(f"Imported {len(added)} feeds from {file} into {config.path}; "
                  f"{len(skipped)} already there were skipped.", markup=False)


@opml.command("export")
@click.pass_context
def opml_export(ctx: click.Context) -> None:
    """Print feeds.yaml as OPML (the same list as feeds.opml in the output folder)."""
    config = _load(ctx)
    states = _feed_states(config)
    click.echo(write_opml(config.settings.title, config.feeds, states, datetime.now(UTC)),
               nl=False)


@feeds.command("check")
@click.option("--filters", "show_filters", is_flag=True,
              help="Show which recent stored entries the filters keep or drop.")
@click.option("--recent", type=click.IntRange(min=1), default=10, show_default=True,
              help="With --filters: entries per feed to show.")
@click.pass_context
def feeds_check(ctx: click.Context, show_filters: bool, recent: int) -> None:
    """Validate feeds.yaml, then try every feed once without storing anything."""
    config = _load(ctx)
    if show_filters:
        _check_filters(config, recent)
        return
    results = check_feeds(make_session(), config)
    table = Table(title=f"{len(results)} feeds in {config.path} tried once")
    for column in ("feed", "result", "entries"):
        table.add_column(column, no_wrap=column != "entries")
    table.add_column("details", overflow="fold", ratio=1)
    for result in results:
        details = []
        if result.moved_to:
            details.append(f"moved permanently to {result.moved_to}: "
                           "put this address in feeds.yaml")
        if result.error:
            details.append(result.error)
        elif result.title:
            details.append(f"“{result.title}”, {result.elapsed:.2f} s")
        verdict = "[red]failed[/red]" if result.error else "[green]ok[/green]"
        table.add_row(escape(result.feed), verdict, str(result.entries),
                      escape("; ".join(details)))
    console.print(table)
    failed = sum(1 for r in results if r.error)
    console.print(f"{len(results) - failed} ok, {failed} failed.")
    if failed:
        ctx.exit(1)


def _check_filters(config: Config, recent: int) -> None:
    from aggregator.filters import EntryFilter  # see _render_site

    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        console.print(f"No filters in {config.path}: every entry is shown.", markup=False)
        return
    store = _open_store(config)
    table = Table(title=f"What the filters of {config.path} do to recent entries")
    for column in ("feed", "entry", "verdict"):
        table.add_column(column, overflow="fold")
    dropped = kept = 0
    try:
        for feed in config.feeds:
            for entry in store.feed_entries(feed.name, recent):
                verdict = rules.judge(entry)
                dropped, kept = dropped + (not verdict.shown), kept + verdict.shown
                table.add_row(escape(feed.name), escape(entry.title),
                              "kept" if verdict.shown
                              else f"[red]dropped[/red]: {escape(verdict.reason)}")
    finally:
        store.close()
    console.print(table)
    console.print(f"{kept} kept, {dropped} dropped.")


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
            started = time.monotonic()
            outcomes = _poll_with_progress(store, config, force=True)
            _print_outcomes(outcomes, time.monotonic() - started)
            report = _render_site(store, config.settings, config.feeds, datetime.now(UTC))
        finally:
            store.close()
        console.print(f"Wrote {report.days} day pages to {config.settings.output_dir}; "
                      f"open {config.settings.output_dir / 'index.html'}", markup=False)
    finally:
        feeds_server.shutdown()
        feeds_server.server_close()

