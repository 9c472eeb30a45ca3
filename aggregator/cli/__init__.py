"""The `aggregator` command; the only place that prints and reads the clock.

One module per command group, each gathering, calling and printing: decisions live in
the stages. Imported only when the command runs (see aggregator/__main__.py), and each
command's module only when that command runs (see app.COMMANDS).
"""

from __future__ import annotations

from aggregator.cli.app import main

__all__ = ["main"]
