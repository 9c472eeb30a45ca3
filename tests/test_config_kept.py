"""The validated feeds.yaml kept between commands (aggregator/config/kept.py): the same
Config as load_config, checked again whenever the file, its place or the code changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aggregator.config import kept
from aggregator.config.load import Config, ConfigError, load_config

FEEDS = """\
settings:
  database: data/feeds.db
  language: en
  filters:
    exclude: [sponsored]
alerts:
- name: launches
  match: [launch]
  notify: json://127.0.0.1:9/hook
feeds:
- name: One
  url: http://127.0.0.1:9/one.rss
  tags: [a, b]
"""


def _unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, data: bytes) -> Config:
        raise AssertionError("checked again")

    monkeypatch.setattr(kept, "config_from_bytes", refuse)


def test_a_kept_configuration_is_the_one_load_config_makes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    path.write_text(FEEDS, "utf-8")
    first = kept.load_kept_config(path, folder)
    assert first == load_config(path) and len(list(folder.iterdir())) == 1
    _unchecked(monkeypatch)
    assert kept.load_kept_config(path, folder) == first


def test_the_kept_file_is_readable_by_its_user_alone(tmp_path: Path) -> None:
    # Alert addresses may hold chat tokens: the copy is no more readable than a private file.
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    path.write_text(FEEDS, "utf-8")
    kept.load_kept_config(path, folder)
    [copy] = folder.iterdir()
    assert (folder.stat().st_mode & 0o777, copy.stat().st_mode & 0o777) == (0o700, 0o600)


def test_an_edited_file_is_checked_again_and_replaces_what_was_kept(tmp_path: Path) -> None:
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    path.write_text(FEEDS, "utf-8")
    kept.load_kept_config(path, folder)
    path.write_text(FEEDS.replace("name: One", "name: Two"), "utf-8")
    assert [f.name for f in kept.load_kept_config(path, folder).feeds] == ["Two"]
    assert len(list(folder.iterdir())) == 1


def test_the_same_bytes_elsewhere_are_another_configuration(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    for place in ("one", "two"):
        (tmp_path / place).mkdir()
        (tmp_path / place / "feeds.yaml").write_text(FEEDS, "utf-8")
    one = kept.load_kept_config(tmp_path / "one" / "feeds.yaml", folder)
    two = kept.load_kept_config(tmp_path / "two" / "feeds.yaml", folder)
    assert one.settings.database != two.settings.database  # each beside its feeds.yaml
    assert "two" in two.settings.database


def test_errors_are_raised_each_time_with_their_place(tmp_path: Path) -> None:
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    path.write_text(FEEDS.replace("  url: http://127.0.0.1:9/one.rss\n", ""), "utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"feeds\.yaml:\d+:\d+: feeds\[0\]\.url"):
            kept.load_kept_config(path, folder)
    with pytest.raises(ConfigError, match="file not found"):
        kept.load_kept_config(tmp_path / "missing.yaml", folder)


def test_an_unreadable_kept_file_is_checked_again(tmp_path: Path) -> None:
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    path.write_text(FEEDS, "utf-8")
    first = kept.load_kept_config(path, folder)
    for spoilt in folder.iterdir():
        spoilt.write_bytes(b"not a pickle")
    assert kept.load_kept_config(path, folder) == first


def test_without_a_writable_cache_the_file_is_checked_each_time(tmp_path: Path) -> None:
    path, blocked = tmp_path / "feeds.yaml", tmp_path / "file"
    path.write_text(FEEDS, "utf-8")
    blocked.write_text("not a folder", "utf-8")
    assert kept.load_kept_config(path, blocked / "cache") == load_config(path)


def test_files_long_unused_are_forgotten_when_another_is_kept(tmp_path: Path) -> None:
    path, folder = tmp_path / "feeds.yaml", tmp_path / "cache"
    folder.mkdir()
    old, recent = folder / "old.pickle", folder / "recent.pickle"
    for file in (old, recent):
        file.write_bytes(b"")
    long_ago = time.time() - kept.FORGET_AFTER_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    path.write_text(FEEDS, "utf-8")
    kept.load_kept_config(path, folder)
    assert recent.exists() and not old.exists()
