"""The `aggregator` group (logging, `--config`, its commands, each imported when it runs),
and how a command gets its configuration and its store: loaded and opened for it, the
store closed when the command ends."""

from __future__ import annotations

import functools
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import click

from aggregator import __version__
from aggregator.i18n import (
    _,
    cache_root,
    language_from_environment,
    translate_log_line,
    translate_log_message,
    use,
)

# Each command pays for what this module imports: the configuration loader and the store
# (SQLAlchemy) are imported by the functions that use them, not by `--help` or `--version`.
if TYPE_CHECKING:
    from aggregator.config.load import Config
    from aggregator.store import Store
    from aggregator.store.glance import Glance

P = ParamSpec("P")
R = TypeVar("R")


class TextFormatter(logging.Formatter):
    """One line a record, in the user's language, its time in `zone` with the offset shown:
    an exception logged with it is named at the end of the line, its traceback shown only
    with --debug."""

    def __init__(self, debug: bool, zone: tzinfo = UTC) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.debug = debug
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).isoformat(
            sep=" ", timespec="seconds")

    def format(self, record: logging.LogRecord) -> str:
        # The call site's English message and words, in the user's language for this line
        # only: other handlers (JSON) get the record as it was.
        saved_message = record.msg, record.args
        if isinstance(record.args, tuple):
            record.msg, record.args = translate_log_line(record.msg, record.args)
        else:
            record.msg = translate_log_message(record.msg)
        try:
            return self._format_line(record)
        finally:
            record.msg, record.args = saved_message

    def _format_line(self, record: logging.LogRecord) -> str:
        if self.debug or not record.exc_info:
            return super().format(record)
        error = record.exc_info[1]
        saved = record.exc_info, record.exc_text
        record.exc_info = record.exc_text = None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text = saved
        return f"{line} ({first_line(error)})" if error else line


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each line to sys.stderr as it is then: while a progress bar runs, rich's
    stand-in for it, which prints the line above the bar instead of into it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # Handler.handle holds the handler's lock around emit
        super().emit(record)


def first_line(error: BaseException | str) -> str:
    """An error in one line: the first of its own words, or its type when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


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


def _settings_epilog() -> str:
    """The settings of feeds.yaml for `aggregator --help`, from their table."""
    from aggregator.config.settings import settings_help

    rows = [f"  {s.name} ({s.default if s.default is not None else 'no default'}): {s.help}"
            for s in settings_help()]
    # \b: click keeps the lines as they are instead of folding them into one paragraph.
    return "\b\nSettings (under `settings:` in feeds.yaml):\n" + "\n".join(rows)


# Every command, as `module:function` in aggregator/cli/: each module is imported when its
# command runs, so that a command pays only for its own imports.
COMMANDS = {
    "fetch": "poll:fetch", "run": "daemon:run",
    "render": "site:render", "serve": "site:serve",
    "status": "status:status",
    "feeds": "feeds:feeds", "opml": "feeds:opml",
    "prune": "maintenance:prune", "export": "maintenance:export_command",
    "import": "maintenance:import_command", "vacuum": "maintenance:vacuum",
    "db": "maintenance:db",
    "demo": "demo:demo",
    "alerts": "alerts:alerts",
    "newsletter": "newsletter:newsletter",
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each imported from its module when first looked up."""

    def __init__(self, places: Mapping[str, str]) -> None:
        self.places = dict(places)
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            module, _, function = self.places[name].partition(":")
            try:
                # __import__, not importlib.import_module: -X importtime shows only the former.
                loaded = __import__(f"aggregator.cli.{module}", fromlist=[function])
            except KeyboardInterrupt:  # Ctrl-C before the command can answer it, which
                raise SystemExit(130) from None  # click would call an abort (exit 1)
            self.loaded[name] = getattr(loaded, function)
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.places.pop(name, None)
        self.loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.places.keys() | self.loaded.keys())

    def __len__(self) -> int:
        return len(self.places.keys() | self.loaded.keys())

    def short_help(self, name: str, limit: int) -> str:
        """A command's help in a line, read from its docstring if its module is not loaded."""
        command = self.loaded.get(name) or click.Command(name, help=self._docstring(name))
        return command.get_short_help_str(limit)

    def _docstring(self, name: str) -> str:
        # ast costs a few milliseconds; importing the command, up to half a second.
        import ast

        module, _, function = self.places[name].partition(":")
        tree = ast.parse(Path(__file__).with_name(f"{module}.py").read_text("utf-8"))
        return next(ast.get_docstring(node) or "" for node in tree.body
                    if isinstance(node, ast.FunctionDef) and node.name == function)


class AggregatorGroup(click.Group):
    """The command group, loading each command when it is used; whatever stops a command is
    told in one line, naming the file or database it was about (a traceback with --debug)."""

    commands: LazyCommands

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and the first sentence of each one's help, none of them imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, self.commands.short_help(name, limit)) for name in names])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The settings of feeds.yaml, read from their table only when help is shown."""
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(_settings_epilog())

    def invoke(self, ctx: click.Context) -> object:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            # Our one-line errors stand for the error they caught: --debug shows where.
            if debug and error.__context__ is not None:
                traceback.print_exception(error.__context__)
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if debug:
                raise
            raise click.ClickException(describe_failure(error, ctx.meta)) from None


def describe_failure(error: Exception, meta: dict[str, object]) -> str:
    """The one line that tells a user what failed and where."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or first_line(error)}"
    from aggregator.store.errors import StoreError

    if isinstance(error, StoreError):
        from aggregator.store.schema import describe_database  # an error's path only

        url = meta.get(DATABASE)
        return _("%(error)s (database: %(database)s)") % {
            "error": first_line(error),
            "database": describe_database(url) if isinstance(url, str) else _("unknown")}
    return _("internal error: %(type)s: %(error)s (run again with --debug to see where)") % {
        "type": type(error).__name__, "error": first_line(error)}


# Where ctx.meta keeps the URL of the database the command opened, to name it in an error.
DATABASE = "aggregator.database"


@click.group(cls=AggregatorGroup, commands=LazyCommands(COMMANDS))
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              envvar="AGGREGATOR_CONFIG", default="feeds.yaml", show_default=True,
              help="The feeds.yaml to use (or $AGGREGATOR_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object a line, for log collectors.")
@click.option("--debug", is_flag=True,
              help="Show the traceback of an error, not only its one line.")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: bool, quiet: bool,
         log_format: str, debug: bool) -> None:
    """Poll community-management blogs, keep each post once, publish a digest and a feed."""
    use(language_from_environment())  # until a feeds.yaml names its language
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(debug))
    logging.basicConfig(level=level, handlers=[handler])
    # Per-request lines from urllib3 and APScheduler drown ours out at INFO.
    for noisy in ("urllib3", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = config_path


def read_config(path: Path) -> Config:
    """The configuration at `path`; its errors, each with file:line:column, end the command."""
    from aggregator.config.kept import load_kept_config
    from aggregator.config.load import ConfigError

    try:
        config = load_kept_config(path, cache_root() / "config")
    except ConfigError as exc:
        raise click.ClickException(exc.describe()) from None
    use(config.settings.language)
    log_in_zone(ZoneInfo(config.settings.timezone))
    return config


def log_in_zone(zone: tzinfo) -> None:
    """Give the text log lines the configured time zone: one clock for the log, `status`
    and the pages (until the configuration is read, they are in UTC, with +00:00)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, TextFormatter):
            handler.formatter.zone = zone


def open_store(config: Config) -> Store:
    """The database of `config`, open until the running command ends."""
    from aggregator.store import Store, StoreError

    try:
        store = Store.open(config.settings.database)
    except StoreError as exc:
        raise click.ClickException(
            _("cannot open the database named in %(path)s (settings.database): %(error)s")
            % {"path": config.path, "error": first_line(exc.reason)}) from None
    click.get_current_context().meta[DATABASE] = config.settings.database
    click.get_current_context().call_on_close(store.close)
    return store


def open_glance(config: Config, *, synced: bool) -> Glance | None:
    """A glance at the database of `config` (store/glance.py: no ORM), closed when the
    command ends; None when the Store must open it (to create or migrate it), and, with
    `synced`, when its feeds are not as feeds.yaml says (the Store syncs them)."""
    from aggregator.store.glance import Glance

    glance = Glance.open(config.settings.database)
    if glance is None:
        return None
    click.get_current_context().meta[DATABASE] = config.settings.database
    click.get_current_context().call_on_close(glance.close)
    return glance if not synced or glance.in_step(config.feeds) else None


def pass_config(command: Callable[Concatenate[Config, P], R]) -> Callable[P, R]:
    """Call `command` with the configuration that `--config` names."""
    @functools.wraps(command)
    def with_config(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(read_config(click.get_current_context().obj), *args, **kwargs)

    return with_config


def pass_store(command: Callable[Concatenate[Config, Store, P], R]) -> Callable[P, R]:
    """Call `command` with the configuration and its store, closed when the command ends.

    Commands that must do something first (measure, check, start workers) take
    `pass_config` and call `open_store` when they are ready.
    """
    @functools.wraps(command)
    def with_store(*args: P.args, **kwargs: P.kwargs) -> R:
        config = read_config(click.get_current_context().obj)
        return command(config, open_store(config), *args, **kwargs)

    return with_store
