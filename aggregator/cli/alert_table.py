"""The alerts' table of `alerts list` and `status`: each alert's targets, what the database
recorded of their sends, read by the Store or the glance (no ORM: issue 21)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table

from aggregator.cli.output import console
from aggregator.config.load import Config
from aggregator.deliver.targets import shown_address, target_key
from aggregator.i18n import _, counted
from aggregator.publish.status import AlertLine, alert_line
from aggregator.store.status_rows import TargetRecord


class AlertReads(Protocol):
    """What the alerts' table reads: the Store's method, or the glance's."""

    def alert_records(self, now: datetime, retry_after: datetime) -> list[TargetRecord]: ...


def alert_lines(config: Config, reads: AlertReads) -> list[AlertLine]:
    """Every target of every alert, with what the database recorded of its sends."""
    now = datetime.now(UTC)
    records = {(r.alert, r.target): r
               for r in reads.alert_records(now, now - config.settings.alert_max_age)}
    tz = ZoneInfo(config.settings.timezone)
    return [alert_line(alert.name, shown_address(url),
                       records.get((alert.name, target_key(url))), tz)
            for alert in config.alerts for url in alert.notify]


def print_alert_table(config: Config, lines: list[AlertLine]) -> None:
    """The alerts' targets as a table: sends, the last one, and what went wrong."""
    table = Table(title=counted("%(n)s alert", "%(n)s alerts", len(config.alerts)),
                  expand=True)
    for header in (_("alert"), _("target"), _("sent"), _("last sent")):
        table.add_column(header)
    table.add_column(_("what happened"), ratio=1, overflow="fold")
    for line in lines:
        colour = "red" if line.failing else "default"
        table.add_row(escape(line.alert), escape(line.target), line.sent, line.last_sent,
                      f"[{colour}]{escape(line.what_happened)}[/{colour}]")
    console.print(table)
