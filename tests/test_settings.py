"""The settings tables: a row for every field of Settings and FeedConfig and a field for every
row, defaults of the fields' types, and defaults written as feeds.yaml would read them back."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import pytest

from aggregator.config.load import load_config
from aggregator.config.settings import (
    FEED_DEFAULTS,
    FEED_KEYS,
    SETTING_DEFAULTS,
    SETTINGS,
    FeedConfig,
    Key,
    Settings,
    settings_help,
)

TABLES = [(Settings, SETTINGS), (FeedConfig, FEED_KEYS)]
DEFAULTS = {Settings: SETTING_DEFAULTS, FeedConfig: FEED_DEFAULTS}


@pytest.mark.parametrize(("cls", "keys"), TABLES, ids=["settings", "feeds"])
def test_every_field_has_a_row_and_every_row_a_field(cls: type, keys: tuple[Key, ...]) -> None:
    # In the same order too: the loader reports problems in the table's order.
    assert [key.name for key in keys] == [field.name for field in dataclasses.fields(cls)]


def _accepts(hint: object, value: object) -> bool:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return any(isinstance(value, typing.get_origin(option) or option) for option in options)


@pytest.mark.parametrize("cls", DEFAULTS, ids=["settings", "feeds"])
def test_defaults_are_of_the_fields_types(cls: type) -> None:
    hints = typing.get_type_hints(cls)
    defaulted = [f.name for f in dataclasses.fields(cls)
                 if f.default is not dataclasses.MISSING]
    wrong = {name: DEFAULTS[cls][name] for name in defaulted
             if not _accepts(hints[name], DEFAULTS[cls][name])}
    assert wrong == {}


def test_settings_help_writes_defaults_as_feeds_yaml_does() -> None:
    shown = {setting.name: setting.default for setting in settings_help()}
    assert list(shown) == [key.name for key in SETTINGS]
    assert shown["poll_interval"] == "1h"
    assert shown["feed_entries"] == "50"
    assert shown["filters"] == "{}"
    assert shown["retention"] is None
    assert all(setting.help for setting in settings_help())


def test_the_written_defaults_are_the_defaults(tmp_path: Path) -> None:
    written = tmp_path / "written.yaml"
    written.write_text("settings:\n" + "".join(
        f"  {setting.name}: {setting.default}\n"
        for setting in settings_help() if setting.default is not None), "utf-8")
    empty = tmp_path / "empty.yaml"
    empty.write_text("feeds: []\n", "utf-8")
    assert load_config(written).settings == load_config(empty).settings
