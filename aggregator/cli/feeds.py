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
from aggregator.cli.output import (
    console,
    natural_width,
    progress_bar,
    shorten_url,
    title_with_path,
    width_left,
)
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
from aggregator.i18n import _, counted, number, seconds, translate_message
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
             _("yes") if feed.enabled else _("no")) for feed in config.feeds]
    headers = {"name": _("name"), "url": _("url"), "tags": _("tags"), "every": _("every"),
               "enabled": _("enabled")}
    # Names and tags wrap at spaces within these widths, a word too long for them cut
    # with "…" (whole with --wide); the address keeps one line, its middle cut.
    caps = {"name": None if wide else 20, "tags": None if wide else 16}
    others = [natural_width(header, (row[i] for row in rows), caps.get(key))
              for i, (key, header) in enumerate(headers.items()) if key != "url"]
    url_width = max(URL_MIN_WIDTH, width_left(console.width, others))
    table = Table(title=title_with_path(
        lambda path: counted("%(n)s feed in %(path)s", "%(n)s feeds in %(path)s",
                             len(config.feeds), path=path),
        config.path, None if wide else console.width))
    for key, header in headers.items():
        if key == "url":
            table.add_column(header, no_wrap=not wide, overflow="fold" if wide else "ellipsis")
        else:
            table.add_column(header, overflow="fold" if wide else "ellipsis",
                             max_width=caps.get(key))
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
        raise click.BadParameter(_("expected an http:// or https:// address, got %(address)r")
                                 % {"address": address})
    duplicate = find_duplicate(config, address)
    if duplicate:
        raise click.ClickException(_("%(address)s is already in %(path)s as %(name)r (%(url)s)")
                                   % {"address": address, "path": config.path,
                                      "name": duplicate.name, "url": duplicate.url})
    try:
        found = discover_feed(make_session(), address, config.settings.timeout,
                              AddressPolicy(config.settings.allow_private_networks))
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    duplicate = find_duplicate(config, found.url)
    if duplicate:
        raise click.ClickException(_("%(address)s leads to %(url)s, already in %(path)s as "
                                     "%(name)r") % {"address": address, "url": found.url,
                                                    "path": config.path, "name": duplicate.name})
    feed = FeedConfig(name=name or name_for(found.title, found.url), url=found.url,
                      tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())))
    _added, skipped = add_feeds(config, [feed])
    if skipped:
        raise click.ClickException(_("a feed named %(name)r is already in %(path)s; choose "
                                     "another with --name") % {"name": feed.name,
                                                               "path": config.path})
    console.print(counted("Added %(name)r: %(url)s (%(n)s entry now) to %(path)s.",
                          "Added %(name)r: %(url)s (%(n)s entries now) to %(path)s.",
                          found.entries, name=feed.name, url=feed.url, path=config.path),
                  markup=False)


@feeds.command("remove")
@click.argument("name")
@pass_config
def feeds_remove(config: Config, name: str) -> None:
    """Remove a feed from feeds.yaml; its stored entries stay in the digest."""
    try:
        remove_feed(config, name)
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(_("Removed %(name)r from %(path)s.") % {"name": name, "path": config.path},
                  markup=False)


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
    table = Table(title=title_with_path(
        lambda path: counted("%(n)s feed in %(path)s tried once",
                             "%(n)s feeds in %(path)s tried once", len(results), path=path),
        config.path, console.width))
    table.add_column(_("feed"), no_wrap=True)
    table.add_column(_("result"), no_wrap=True)
    table.add_column(_("entries"))
    table.add_column(_("details"), overflow="fold", ratio=1)
    for result in results:
        verdict = (f"[red]{_('failed')}[/red]" if result.error
                   else f"[green]{_('ok')}[/green]")
        table.add_row(escape(result.feed), verdict, str(result.entries),
                      escape(_("; ").join(_check_details(result))))
    console.print(table)
    failed = sum(1 for r in results if r.error)
    console.print(_("%(ok)s ok, %(failed)s failed.") % {"ok": number(len(results) - failed),
                                                        "failed": number(failed)})
    if failed:
        click.get_current_context().exit(1)


def _check_details(result: CheckResult) -> list[str]:
    """What a check found beside its verdict: a move, the error, or the feed's title."""
    details = []
    if result.moved_to:
        details.append(_("moved permanently to %(url)s: put this address in feeds.yaml")
                       % {"url": result.moved_to})
    if result.error:
        details.append(translate_message(result.error))
    elif result.title:
        details.append(_("“%(title)s”, %(time)s") % {"title": result.title,
                                                     "time": seconds(result.elapsed, 2)})
    return details


def _check_with_progress(config: Config) -> list[CheckResult]:
    """check_feeds, with a progress bar when a person is watching, else a line a feed on
    stderr (stdout keeps only the table, for scripts)."""
    total = len(config.feeds)
    if not console.is_terminal:
        done = itertools.count(1)

        def tell(result: CheckResult) -> None:
            click.echo(_("checked %(done)s/%(total)s: %(feed)s (%(verdict)s)") % {
                "done": next(done), "total": total, "feed": result.feed,
                "verdict": _("failed") if result.error else _("ok")}, err=True)

        return check_feeds(make_session(), config, tell)
    with progress_bar(_("Checking")) as progress:
        task = progress.add_task("check", total=total)
        return check_feeds(make_session(), config, lambda _result: progress.advance(task))


def _check_filters(config: Config, recent: int) -> None:
    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        console.print(_("No filters in %(path)s: every entry is shown.") % {"path": config.path},
                      markup=False)
        return
    store = open_store(config)
    table = Table(title=_("What the filters of %(path)s do to recent entries")
                  % {"path": config.path})
    for column in (_("feed"), _("entry"), _("verdict")):
        table.add_column(column, overflow="fold")
    dropped = kept = 0
    for feed in config.feeds:
        for entry in store.feed_entries(feed.name, recent):
            verdict = rules.judge(entry)
            dropped, kept = dropped + (not verdict.shown), kept + verdict.shown
            table.add_row(escape(feed.name), escape(entry.title),
                          _("kept") if verdict.shown
                          else _("[red]dropped[/red]: %(reason)s") % {
                              "reason": escape(translate_message(verdict.reason))})
    console.print(table)
    # Two counts, each with its own plural ("1 gardé, 2 écartés").
    console.print(_("%(kept)s, %(dropped)s.") % {
        "kept": counted("%(n)s kept", "%(n)s kept", kept),
        "dropped": counted("%(n)s dropped", "%(n)s dropped", dropped)})


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
        raise click.ClickException(_("%(file)s: %(error)s") % {
            "file": file, "error": exc}) from None
    refused: list[CheckResult] = []
    if check:
        results = _check_with_progress(replace(config, feeds=tuple(found)))
        refused = [result for result in results if result.error]
        found = [feed for feed in found if feed.name not in {r.feed for r in refused}]
    added, skipped = add_feeds(config, found)
    for result in refused:
        console.print(_("Not added: %(feed)s (%(url)s): %(error)s") % {
            "feed": result.feed, "url": result.url,
            "error": translate_message(result.error or "")}, markup=False)
    imported = counted("Imported %(n)s feed from %(file)s into %(path)s",
                       "Imported %(n)s feeds from %(file)s into %(path)s", len(added),
                       file=file, path=config.path)
    skipped_words = counted("%(n)s already there was skipped",
                            "%(n)s already there were skipped", len(skipped))
    if check:
        skipped_words += counted(", %(n)s that failed was left out",
                                 ", %(n)s that failed were left out", len(refused))
    console.print(_("%(imported)s; %(skipped)s.") % {"imported": imported,
                                                     "skipped": skipped_words}, markup=False)


@opml.command("export")
@pass_store
def opml_export(config: Config, store: Store) -> None:
    """Print feeds.yaml as OPML (the same list as feeds.opml in the output folder)."""
    store.sync_feeds(config.feeds)
    click.echo(write_opml(config.settings.title, config.feeds, store.feed_states(layout=False),
                          datetime.now(UTC)), nl=False)
