"""Whole numbers and moments from the kept pieces of Babel's locale data write what Babel
writes (aggregator/formats.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton
from babel.numbers import format_decimal

from aggregator import formats

LANGUAGES = ("fr", "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_whole_numbers_are_written_as_babel_writes_them(language: str) -> None:
    pieces = formats.make_pieces(language)
    for value in (0, 7, -7, 999, 1000, -1234, 12345, 1234567, 10**12):
        assert formats.whole_number(value, pieces) == format_decimal(
            value, format="#,##0", locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_moments_are_written_as_babel_writes_them(language: str) -> None:
    pieces = formats.make_pieces(language)
    paris = ZoneInfo("Europe/Paris")
    for month in range(1, 13):
        local = datetime(2026, month, month * 2, month + 8, month * 4, tzinfo=UTC).astimezone(paris)
        for skeleton, pattern in ((formats.DATE_SKELETON, pieces.date_pattern),
                                  (formats.TIME_SKELETON, pieces.time_pattern)):
            assert formats.formatted(pattern, local, pieces) == format_skeleton(
                skeleton, local, locale=language)


def test_a_pattern_with_a_field_not_known_here_is_left_to_babel() -> None:
    pieces = formats.make_pieces("fr")
    when = datetime(2026, 11, 21, 9, 5, tzinfo=UTC)
    assert formats.formatted("EEEE d MMM y", when, pieces) is None
    assert formats.formatted("d 'de' MMM y, HH'h'mm", when, pieces) == "21 de nov. 2026, 09h05"


def test_the_pieces_are_made_once_then_read(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    made = formats.kept_pieces("fr", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [
        f"formats-fr-{formats._stamp('fr')}.json"]

    def unused(language: str) -> formats.Pieces:
        raise AssertionError("made again")

    monkeypatch.setattr(formats, "make_pieces", unused)
    assert formats.kept_pieces("fr", tmp_path) == made


def test_without_a_writable_cache_the_pieces_are_made_each_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", "utf-8")
    assert formats.kept_pieces("en", blocked / "cache") == formats.make_pieces("en")
