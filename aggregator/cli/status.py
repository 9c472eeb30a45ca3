"""`status`: every feed's health, as a table or as JSON."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import click
from rich.markup import escape
from rich.table import Table

from aggregator.cli.app import pass_store
from aggregator.cli.output import console
from aggregator.config.load import Config
from aggregator.publish.status import count_filtered_out, status_line, status_record
from aggregator.store import Store

COLOURS = {"ok": "green", "failing": "red", "retired": "red", "moved": "yellow"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@pass_store
def status(config: Config, store: Store, as_json: bool) -> None:
    """Show every feed's health: last success, last error, failures, next poll, entries."""
    store.sync_feeds(config.feeds)
    states = store.feed_states(layout=False)
    filtered_out = _filtered_out(config, store)
    tz = ZoneInfo(config.settings.timezone)
    if as_json:
        rows = [status_record(f, states.get(f.name), filtered_out.get(f.name, 0), tz)
                for f in config.feeds]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(config.feeds)} feeds in {config.path}")
    for column in ("feed", "state", "last success", "next poll", "entries"):
        table.add_column(column, no_wrap=column in ("feed", "state"))
    table.add_column("what happened", overflow="fold", ratio=1)
    for feed in config.feeds:
        line = status_line(feed, states.get(feed.name), filtered_out.get(feed.name, 0), tz)
        colour = COLOURS.get(line.health, "default")
        table.add_row(escape(line.name), f"[{colour}]{line.health}[/{colour}]",
                      line.last_success, line.next_poll, line.entries,
                      escape(line.what_happened))
    console.print(table)


def _filtered_out(config: Config, store: Store) -> dict[str, int]:
    """How many stored entries of each feed the filters keep out of pages and feeds."""
    # Imported here: filters loads nh3, which fetch's process leaves to the parse workers.
    from aggregator.publish.filters import EntryFilter

    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        return {}
    return {feed.name: count_filtered_out(rules, store.each_feed_entry(feed.name))
            for feed in config.feeds}
