"""The subscriptions of feeds.yaml: `feeds list|add|remove|check`, `opml import|export`."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.markup import escape
from rich.table import Table

from aggregator.cli.app import open_store, pass_config, pass_store
from aggregator.cli.output import console, natural_width, progress_bar, shorten_url, width_left
from aggregator.config.edit import (
    SubscriptionError,
    add_feeds,
    discover_feed,
    find_duplicate,
    name_for,
    remove_feed,
)
from aggregator.config.load import Config, FeedConfig
from aggregator.config.opml import OpmlError, read_opml, write_opml
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.check import CheckResult, check_feeds
from aggregator.poll.fetch import make_session
from aggregator.publish.filters import EntryFilter
from aggregator.store import Store

# Below this an address says too little; names and tags wrap narrower instead.
URL_MIN_WIDTH = 32


@click.group()
def feeds() -> None:
    """List and check the feeds of feeds.yaml."""


@feeds.command("list")
@click.option("--wide", is_flag=True, help="Show every address whole, however long.")
@pass_config
def feeds_list(config: Config, wide: bool) -> None:
    """The feeds of feeds.yaml, as a table that fits the terminal."""
    rows = [(feed.name, feed.url, ", ".join(feed.tags),
             _duration(feed.poll_interval or config.settings.poll_interval),
             "yes" if feed.enabled else "no") for feed in config.feeds]
    headers = ("name", "url", "tags", "every", "enabled")
    # Names and tags wrap within these widths; the address keeps one line, its middle cut.
    caps = {"name": None if wide else 20, "tags": None if wide else 16}
    others = [natural_width(header, (row[i] for row in rows), caps.get(header))
              for i, header in enumerate(headers) if header != "url"]
    url_width = max(URL_MIN_WIDTH, width_left(console.width, others))
    table = Table(title=f"{len(config.feeds)} feeds in {config.path}")
    for header in headers:
        if header == "url":
            table.add_column(header, no_wrap=not wide, overflow="fold" if wide else "ellipsis")
        else:
            table.add_column(header, overflow="fold", max_width=caps.get(header))
    for name, url, tags, every, enabled in rows:
        table.add_row(escape(name), escape(url if wide else shorten_url(url, url_width)),
                      escape(tags), every, enabled)
    console.print(table)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@feeds.command("add")
@click.argument("address")
@click.option("--name", help="Name shown in the digest (default: the feed's title).")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@pass_config
def feeds_add(config: Config, address: str, name: str | None, tags: tuple[str, ...]) -> None:
    """Add a feed to feeds.yaml from its address or its blog's home page."""
    if urlsplit(address).scheme not in ("http", "https"):
        raise click.BadParameter(f"expected an http:// or https:// address, got {address!r}")
    duplicate = find_duplicate(config, address)
    if duplicate:
        raise click.ClickException(f"{address} is already in {config.path} as "
                                   f"{duplicate.name!r} ({duplicate.url})")
    try:
        found = discover_feed(make_session(), address, config.settings.timeout,
                              AddressPolicy(config.settings.allow_private_networks))
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
@pass_config
def feeds_remove(config: Config, name: str) -> None:
    """Remove a feed from feeds.yaml; its stored entries stay in the digest."""
    try:
        remove_feed(config, name)
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"Removed {name!r} from {config.path}.", markup=False)


@feeds.command("check")
@click.option("--filters", "show_filters", is_flag=True,
              help="Show which recent stored entries the filters keep or drop.")
@click.option("--recent", type=click.IntRange(min=1), default=10, show_default=True,
              help="With --filters: entries per feed to show.")
@pass_config
def feeds_check(config: Config, show_filters: bool, recent: int) -> None:
    """Validate feeds.yaml, then try every feed once without storing anything."""
    if show_filters:
        _check_filters(config, recent)
        return
    results = _check_with_progress(config)
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
        click.get_current_context().exit(1)


def _check_with_progress(config: Config) -> list[CheckResult]:
    """check_feeds, with a progress bar when a person is watching, else a line a feed on
    stderr (stdout keeps only the table, for scripts)."""
    total = len(config.feeds)
    if not console.is_terminal:
        done = itertools.count(1)

        def tell(result: CheckResult) -> None:
            click.echo(f"checked {next(done)}/{total}: {result.feed} "
                       f"({'failed' if result.error else 'ok'})", err=True)

        return check_feeds(make_session(), config, tell)
    with progress_bar("Checking") as progress:
        task = progress.add_task("check", total=total)
        return check_feeds(make_session(), config, lambda _result: progress.advance(task))


def _check_filters(config: Config, recent: int) -> None:
    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        console.print(f"No filters in {config.path}: every entry is shown.", markup=False)
        return
    store = open_store(config)
    table = Table(title=f"What the filters of {config.path} do to recent entries")
    for column in ("feed", "entry", "verdict"):
        table.add_column(column, overflow="fold")
    dropped = kept = 0
    for feed in config.feeds:
        for entry in store.feed_entries(feed.name, recent):
            verdict = rules.judge(entry)
            dropped, kept = dropped + (not verdict.shown), kept + verdict.shown
            table.add_row(escape(feed.name), escape(entry.title),
                          "kept" if verdict.shown
                          else f"[red]dropped[/red]: {escape(verdict.reason)}")
    console.print(table)
    console.print(f"{kept} kept, {dropped} dropped.")


@click.group()
def opml() -> None:
    """Exchange subscription lists with other feed readers."""


@opml.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--check", is_flag=True,
              help="Try each feed once first; add only those that answer with a feed.")
@pass_config
def opml_import(config: Config, file: Path, check: bool) -> None:
    """Add the feeds of an OPML file to feeds.yaml (folders and categories become tags)."""
    try:
        found = read_opml(file.read_bytes())
    except OpmlError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    refused: list[CheckResult] = []
    if check:
        results = _check_with_progress(replace(config, feeds=tuple(found)))
        refused = [result for result in results if result.error]
        found = [feed for feed in found if feed.name not in {r.feed for r in refused}]
    added, skipped = add_feeds(config, found)
    for result in refused:
        console.print(f"Not added: {result.feed} ({result.url}): {result.error}", markup=False)
    left_out = f", {len(refused)} that failed were left out" if check else ""
    console.print(f"Imported {len(added)} feeds from {file} into {config.path}; "
                  f"{len(skipped)} already there were skipped{left_out}.", markup=False)


@opml.command("export")
@pass_store
def opml_export(config: Config, store: Store) -> None:
    """Print feeds.yaml as OPML (the same list as feeds.opml in the output folder)."""
    store.sync_feeds(config.feeds)
    click.echo(write_opml(config.settings.title, config.feeds, store.feed_states(layout=False),
                          datetime.now(UTC)), nl=False)
