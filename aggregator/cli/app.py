"""The `aggregator` group (logging, `--config`), and how a command gets its configuration
and its store: loaded and opened for it, the store closed when the command ends."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import click

from aggregator import __version__
from aggregator.config.load import DEFAULT_CONFIG, Config, ConfigError, load_config
from aggregator.config.settings import settings_help
from aggregator.store import Store, StoreError

P = ParamSpec("P")
R = TypeVar("R")


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
    rows = [f"  {s.name} ({s.default if s.default is not None else 'no default'}): {s.help}"
            for s in settings_help()]
    # \b: click keeps the lines as they are instead of folding them into one paragraph.
    return "\b\nSettings (under `settings:` in feeds.yaml):\n" + "\n".join(rows)


@click.group(epilog=_settings_epilog())
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


def read_config(path: Path) -> Config:
    """The configuration at `path`; its errors, each with file:line:column, end the command."""
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration:\n{exc.describe()}") from None


def open_store(config: Config) -> Store:
    """The database of `config`, open until the running command ends."""
    try:
        store = Store.open(config.settings.database)
    except StoreError as exc:
        raise click.ClickException(
            f"cannot open the database named in {config.path} (settings.database): "
            f"{exc.reason}"
        ) from None
    click.get_current_context().call_on_close(store.close)
    return store


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
