"""`status`: every feed's health, and what alerts, newsletters and WebSub did, as tables or
as JSON."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol
from zoneinfo import ZoneInfo

import click
from rich.markup import escape
from rich.table import Table

from aggregator.cli.app import open_glance, open_store, pass_config
from aggregator.cli.output import console, natural_width, title_with_path, width_left
from aggregator.config.load import Config
from aggregator.i18n import _, counted
from aggregator.models import FeedState, PageCounts, PingRecord, StoredEntry, Subscription
from aggregator.publish.filters import EntryFilter
from aggregator.publish.status import (
    Health,
    StatusLine,
    count_filtered_out,
    delivery_problems,
    describe_pages,
    status_line,
    status_record,
    zone_name,
)

if TYPE_CHECKING:  # the ORM, imported only when the Store is opened (open_store)
    from aggregator.store import Store
    from aggregator.store.glance import Delivery
    from aggregator.store.status_rows import TargetRecord

COLOURS = {"ok": "green", "failing": "red", "retired": "red", "moved": "yellow"}
# Narrow, no column is wider than this (names wrap) and what happened keeps at least
# SENTENCE_WIDTH cells: last success, then next poll make way for it.
NAME_WIDTH = 20
SENTENCE_WIDTH = 30
MAKE_WAY = ("last success", "next poll")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@click.option("--all", "everything", is_flag=True,
              help="With --json: one object with the feeds, alerts, newsletters and WebSub "
                   "instead of the list of feeds.")
@click.option("--wide", is_flag=True,
              help="Show every column and what happened in full, over several lines if need be.")
@pass_config
def status(config: Config, as_json: bool, everything: bool, wide: bool) -> None:
    """Show every feed's health: last success, last error, failures, next poll, entries."""
    if everything and not as_json:
        raise click.UsageError(_("--all goes with --json: the tables show everything"))
    # Issue 21 (status in 0.5 s): without SQLAlchemy's ORM, unless the database is the
    # Store's to create, migrate or sync; --all reads the newsletters one by one through it.
    glance = None if everything else open_glance(config, synced=True)
    if glance is not None:
        _show(config, glance, None, as_json, wide)
        return
    store = open_store(config)
    store.sync_feeds(config.feeds)
    _show(config, store, store if everything else None, as_json, wide)


class StatusReads(Protocol):
    """What the tables read: the Store's methods, or the glance's."""

    def feed_states(self, *, count_entries: bool = ...,
                    layout: Literal[False]) -> dict[str, FeedState]: ...

    def page_counts(self) -> dict[str, PageCounts]: ...

    def each_shown_entry(self, names: Collection[str]) -> Iterator[StoredEntry]: ...

    def deliveries(self) -> list[Delivery]: ...

    def alert_records(self, now: datetime, retry_after: datetime) -> list[TargetRecord]: ...

    def subscriptions(self) -> dict[str, Subscription]: ...

    def pings(self) -> list[PingRecord]: ...


def _show(config: Config, reads: StatusReads, store: Store | None, as_json: bool,
          wide: bool) -> None:
    """The feeds' table or JSON from `reads`, and under the table what the newsletters,
    alerts and WebSub did; `store` given for --all (with --json)."""
    states = reads.feed_states(layout=False)
    filtered_out = _filtered_out(config, reads)
    tz = ZoneInfo(config.settings.timezone)
    modes = {f.name: f.full_text or config.settings.full_text for f in config.feeds}
    # Each feature's rows are read when it is shown (issue 21: status in 0.5 s): the table
    # says nothing of the article pages of a feed whose full_text is never.
    pages = reads.page_counts() if as_json or set(modes.values()) - {"never"} else {}
    if as_json:
        rows = [status_record(f, states.get(f.name), filtered_out.get(f.name, 0), tz)
                | _pages_record(pages.get(f.name), modes[f.name]) for f in config.feeds]
        shown = _everything(config, store, rows, tz) if store else rows
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    lines = [status_line(f, states.get(f.name), filtered_out.get(f.name, 0), tz,
                         describe_pages(modes[f.name], pages.get(f.name)))
             for f in config.feeds]
    _print_feed_table(config, lines, tz, wide)
    if config.newsletters:
        for problem in delivery_problems(reads.deliveries(), datetime.now(UTC), tz):
            console.print(problem, style="red", markup=False)
    if config.alerts:
        from aggregator.cli.alert_table import alert_lines, print_alert_table  # Apprise

        print_alert_table(config, alert_lines(config, reads))
    _print_websub(config, reads, tz)


def _print_feed_table(config: Config, lines: list[StatusLine], tz: ZoneInfo,
                      wide: bool) -> None:
    """The feeds' table: narrow, it fills the terminal and what happened gets one line,
    cut with "…"; wide, every column and what happened in full."""
    columns = _columns(lines, console.width, wide)
    zone = _("times in %(zone)s") % {"zone": zone_name(tz, datetime.now(UTC))}
    heading = title_with_path(
        lambda path: counted("%(n)s feed in %(path)s", "%(n)s feeds in %(path)s",
                             len(config.feeds), path=path),
        config.path, None if wide else console.width)
    table = Table(title=heading + "\n" + zone, expand=not wide)
    headers = column_headers()
    for column in columns:
        table.add_column(headers[column], no_wrap=column == "state",
                         max_width=None if wide else NAME_WIDTH)
    table.add_column(headers["what happened"], ratio=1, no_wrap=not wide,
                     overflow="fold" if wide else "ellipsis")
    for line in lines:
        colour = COLOURS.get(line.health, "default")
        state = health_word(line.health)
        cells = {"feed": escape(line.name), "state": f"[{colour}]{state}[/{colour}]",
                 "last success": line.last_success, "next poll": line.next_poll,
                 "entries": line.entries}
        table.add_row(*(cells[column] for column in columns), escape(line.what_happened))
    console.print(table)


def _print_websub(config: Config, reads: StatusReads, tz: ZoneInfo) -> None:
    """Our hub's last pings and the feeds pushed to us, under the table, when there are.

    The pings are read when settings.websub_hub names our hub; the subscriptions always,
    in one query: those left from a removed settings.websub_callback are shown."""
    hub, subscriptions = config.settings.websub_hub, reads.subscriptions()
    if hub is None and not subscriptions:
        return
    from aggregator.publish.websub_status import ping_summary, push_summary

    lines = [*ping_summary(hub, reads.pings() if hub else [], tz),
             *push_summary(subscriptions, datetime.now(UTC), tz)]
    for line in lines:
        console.print(line, markup=False)


def _everything(config: Config, store: Store, feeds: list[dict[str, object]],
                tz: ZoneInfo) -> dict[str, object]:
    """`status --json --all`: the feeds' list of `--json` and what the tables under it show
    (publish/status_json.py; the README describes the shape)."""
    from aggregator.deliver.targets import shown_address, target_key
    from aggregator.publish.status_json import (
        SHAPE_VERSION,
        alert_record,
        newsletter_record,
        websub_record,
    )

    now = datetime.now(UTC)
    sends = {(r.alert, r.target): r
             for r in store.alert_records(now, now - config.settings.alert_max_age)}
    return {
        "version": SHAPE_VERSION, "feeds": feeds,
        "alerts": [alert_record(alert.name, shown_address(url),
                                sends.get((alert.name, target_key(url))))
                   for alert in config.alerts for url in alert.notify],
        "newsletters": [newsletter_record(n.name, store.deliveries(n.name), now, tz)
                        for n in config.newsletters],
        "websub": websub_record(config.settings.websub_hub, store.pings(),
                                store.subscriptions(), now),
    }


def _pages_record(pages: PageCounts | None, mode: str) -> dict[str, object]:
    """A feed's article pages for `status --json`: its full_text, counts by status."""
    return {"full_text": mode, "pages": dict(pages.counts) if pages else {},
            "page_error": pages.last_error if pages else None}


def column_headers() -> dict[str, str]:
    """The status table's columns, by their names in the code, to their headers."""
    return {"feed": _("feed"), "state": _("state"), "last success": _("last success"),
            "next poll": _("next poll"), "entries": _("entries"),
            "what happened": _("what happened")}


def health_word(health: Health) -> str:
    """A feed's health in the user's language (the JSON keeps the English word)."""
    words: dict[Health, str] = {
        "disabled": _("disabled"), "never polled": _("never polled"), "retired": _("retired"),
        "failing": _("failing"), "moved": _("moved"), "ok": _("ok")}
    return words[health]


def _columns(lines: list[StatusLine], width: int, wide: bool) -> list[str]:
    """The columns before what happened: all of them when wide, else without those of
    MAKE_WAY that what happened needs (the sentence tells their times in words)."""
    values: dict[str, list[str]] = {
        "feed": [line.name for line in lines],
        "state": [health_word(line.health) for line in lines],
        "last success": [line.last_success for line in lines],
        "next poll": [line.next_poll for line in lines],
        "entries": [line.entries for line in lines]}
    headers = column_headers()
    widths = {column: natural_width(headers[column], cells, NAME_WIDTH)
              for column, cells in values.items()}
    columns = list(values)
    for column in MAKE_WAY:
        if wide or width_left(width, [widths[c] for c in columns]) >= SENTENCE_WIDTH:
            break
        columns.remove(column)
    return columns


def _filtered_out(config: Config, reads: StatusReads) -> dict[str, int]:
    """How many stored entries of each feed the filters keep out of pages and feeds."""
    rules = EntryFilter(config.settings.filters, config.feeds)
    if not rules:
        return {}
    judged = [feed.name for feed in config.feeds
              if config.settings.filters or feed.filters]
    return count_filtered_out(rules, reads.each_shown_entry(judged))
