"""The `aggregator` command; the only place that prints and reads the clock.

One module per command group, each gathering, calling and printing: decisions live in
the stages. Imported only when the command runs (see aggregator/__main__.py).
"""

from __future__ import annotations

from aggregator.cli import demo, feeds, maintenance, poll, site, status
from aggregator.cli.app import main

for _command in (
    poll.fetch, poll.run,
    site.render, site.serve,
    status.status,
    feeds.feeds, feeds.opml,
    maintenance.prune, maintenance.export_command, maintenance.import_command,
    maintenance.vacuum, maintenance.db,
    demo.demo,
):
    main.add_command(_command)

__all__ = ["main"]
