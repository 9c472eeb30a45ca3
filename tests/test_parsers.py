"""The readers of feeds.yaml's values: durations and sizes as people write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.config.parsers import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        ("1.5h", timedelta(minutes=90)),
        (" 2 H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "2 hours", "-5m", "0", "0m", True, None, [1]])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10_000_000),
        ("512KiB", 524_288),
        ("1 MiB", 1_048_576),
        ("2kb", 2000),
        ("1GiB", 1024**3),
        (4096, 4096),
        ("100", 100),
        ("100B", 100),
    ],
)
def test_parse_size(text: object, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "big", "10 TB", "0", "-1MB", False, None])
def test_parse_size_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)
