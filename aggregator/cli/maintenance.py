"""Looking after the database: `prune`, `export`, `import`, `vacuum`, `db upgrade`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from aggregator.cli.app import open_store, pass_config, pass_store
from aggregator.cli.output import console, progress_reporter
from aggregator.cli.site import render_site
from aggregator.config.load import Config
from aggregator.i18n import _, counted, number, translate_message
from aggregator.publish.output import OutputError, replacing
from aggregator.publish.status import local_time, zone_name
from aggregator.store import Store, StoreError
from aggregator.store.backup import BackupError, export_lines, import_lines
from aggregator.store.schema import database_file, describe_database


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
@pass_config
def prune(config: Config, dry_run: bool) -> None:
    """Remove entries older than settings.retention, keeping each feed's newest ones."""
    settings = config.settings
    if settings.retention is None:
        console.print(_("settings.retention is not set in %(path)s: nothing is pruned.")
                      % {"path": config.path}, markup=False)
        return
    now = datetime.now(UTC)
    before = now - settings.retention
    store = open_store(config)
    with progress_reporter(_("Pruning")) as tell:
        removed = store.prune(before, settings.keep_per_feed, dry_run=dry_run, on_progress=tell)
    if removed and not dry_run:
        with progress_reporter(_("Rendering")) as tell:
            render_site(store, settings, config.feeds, now, full=True, on_progress=tell)
    for name, count in sorted(removed.items()):
        console.print(_("%(feed)s: %(count)s") % {"feed": name, "count": number(count)},
                      markup=False)
    tz = ZoneInfo(settings.timezone)
    values = {"time": local_time(before, tz), "zone": zone_name(tz, before),
              "keep": number(settings.keep_per_feed)}
    if dry_run:
        said = counted("Would remove %(n)s entry filed before %(time)s, %(zone)s (each feed "
                       "keeps its newest %(keep)s).",
                       "Would remove %(n)s entries filed before %(time)s, %(zone)s (each feed "
                       "keeps its newest %(keep)s).", sum(removed.values()), **values)
    else:
        said = counted("Removed %(n)s entry filed before %(time)s, %(zone)s (each feed keeps "
                       "its newest %(keep)s).",
                       "Removed %(n)s entries filed before %(time)s, %(zone)s (each feed "
                       "keeps its newest %(keep)s).", sum(removed.values()), **values)
    console.print(said, markup=False)


@click.command("export")
@click.option("--format", "format_", type=click.Choice(["jsonl"]), default="jsonl",
              show_default=True, help="One JSON object a line.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
@pass_store
def export_command(_config: Config, store: Store, format_: str, output: Path | None) -> None:
    """Dump every stored entry, for a backup or a move to another database."""
    if output is None:
        for line in export_lines(store):
            sys.stdout.write(line)
        return
    count = 0
    try:
        # Into a new file that replaces the old one once complete: a failed export
        # leaves the previous backup whole.
        with replacing(output) as handle:
            for line in export_lines(store):
                handle.write(line.encode("utf-8"))
                count += 1
    except OutputError as exc:
        raise click.ClickException(_("%(error)s; nothing was exported") % {
            "error": translate_message(str(exc))}) from None
    console.print(counted("Exported %(n)s entry to %(file)s.", "Exported %(n)s entries to "
                          "%(file)s.", count, file=output), markup=False)


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_store
def import_command(config: Config, store: Store, file: Path) -> None:
    """Load entries from an `aggregator export` file into this database."""
    total = check_utf8(file)
    try:
        with file.open(encoding="utf-8") as handle, progress_reporter(_("Importing")) as tell:
            counts = import_lines(store, handle, lambda done: tell(done, total))
    except BackupError as exc:
        raise click.ClickException(_("%(file)s: %(error)s") % {
            "file": file, "error": exc}) from None
    store.sync_feeds(config.feeds)
    # Imported entries keep their own change times: only a full render finds them.
    with progress_reporter(_("Rendering")) as tell:
        render_site(store, config.settings, config.feeds, datetime.now(UTC), full=True,
                    on_progress=tell)
    console.print(_("Imported from %(file)s: %(entries)s, %(copies)s, %(updated)s.") % {
        "file": file,
        "entries": counted("%(n)s entry", "%(n)s entries", counts.new),
        "copies": counted("%(n)s copy of an article from another feed",
                          "%(n)s copies of articles from other feeds", counts.duplicates),
        "updated": counted("%(n)s updated", "%(n)s updated", counts.updated)}, markup=False)


def check_utf8(file: Path) -> int:
    """End the command, before anything is stored, if `file` is not UTF-8 text; else its
    number of lines that are not blank (the entries to import, for the progress)."""
    entries = 0
    with file.open("rb") as handle:
        for index, line in enumerate(handle, 1):
            try:
                entries += bool(line.decode("utf-8").strip())
            except UnicodeDecodeError as exc:
                raise click.ClickException(
                    _("%(file)s:%(line)s: not UTF-8 (byte 0x%(byte)02x at column %(column)s); "
                      "is it an `aggregator export` file? Nothing was imported") % {
                        "file": file, "line": index, "byte": line[exc.start],
                        "column": exc.start + 1}) from None
    return entries


@click.command()
@pass_config
def vacuum(config: Config) -> None:
    """Compact the database and refresh its statistics (after a large prune, say)."""
    url = config.settings.database
    file = database_file(url)
    before = _file_size(file)  # before the store opens: opening may migrate
    store = open_store(config)
    store.vacuum()
    store.close()  # now, not when the command ends: SQLite folds its WAL in on closing
    where = describe_database(url)
    if file:
        console.print(_("Vacuumed %(database)s (%(before)s MB before, %(after)s MB after).")
                      % {"database": where, "before": number(before / 1e6, 1),
                         "after": number(_file_size(file) / 1e6, 1)}, markup=False)
    else:
        console.print(_("Vacuumed %(database)s.") % {"database": where}, markup=False)


def _file_size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


@click.group()
def db() -> None:
    """Look after the database's schema."""


@db.command("upgrade")
@pass_config
def db_upgrade(config: Config) -> None:
    """Apply the schema migrations the database lacks (every command also does it)."""
    try:
        store = Store.open(config.settings.database, upgrade=False)
        before, after = store.upgrade_schema()
    except StoreError as exc:
        raise click.ClickException(
            _("cannot upgrade the database named in %(path)s (settings.database): %(reason)s")
            % {"path": config.path, "reason": translate_message(exc.reason)}) from None
    store.close()
    where = config.settings.database.split("@")[-1]
    if before == after:
        console.print(_("%(database)s is up to date (revision %(revision)s).")
                      % {"database": where, "revision": after}, markup=False)
    else:
        console.print(_("Upgraded %(database)s from revision %(before)s to %(after)s.") % {
            "database": where, "before": before or _("none (empty)"), "after": after},
            markup=False)
