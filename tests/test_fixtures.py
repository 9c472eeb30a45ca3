"""Issue 19: each fixture feed of tests/data beside the full result our pipeline gives for it.

`tests/data/<name>.expected.json` holds what `prepare.parse_step` (parse, clean,
fingerprint) returns for `tests/data/<name>`: the feed's fields and every entry as parsed
and cleaned, each field of CleanEntry (of the fingerprint only link, title, size and
lead). The files are the reviewed truth, not a snapshot: see tests/data/README.md.

Regenerate them with `python -m tests.test_fixtures --write` (without `--write`: only
list the files that would change), then read the diff before committing it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.models import CleanEntry, Enclosure, Fingerprint, Parsed, ParsedFeed
from aggregator.poll.prepare import parse_step
from tests.conftest import CONTENT_TYPES, DATA

FEED_SUFFIXES = (".rss", ".atom", ".rdf", ".xml")
EXPECTED_SUFFIX = ".expected.json"
FINGERPRINT_KEPT = ("link", "title", "size", "lead")  # sketch and shingles are left out


def fixture_feeds() -> list[Path]:
    """Every fixture feed document directly under tests/data."""
    return sorted(p for p in DATA.iterdir() if p.is_file() and p.suffix in FEED_SUFFIXES)


def expected_path(feed: Path) -> Path:
    return feed.with_name(feed.name + EXPECTED_SUFFIX)


def source_of(feed: Path) -> dict[str, str]:
    """The fixed address and the Content-Type a fixture is parsed with."""
    stem = feed.name.split(".")[0]
    return {"url": f"https://{stem}.example/feed", "content_type": CONTENT_TYPES[feed.suffix]}


def _plain(value: Any) -> Any:
    """A field's value as JSON: ISO 8601 dates, seconds for durations, lists for tuples."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enclosure):
        return {key: _plain(item) for key, item in asdict(value).items()}
    if isinstance(value, Fingerprint):
        return {key: _plain(getattr(value, key)) for key in FINGERPRINT_KEPT}
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [_plain(item) for item in items]
    return value


def feed_json(feed: ParsedFeed) -> dict[str, Any]:
    return {f.name: _plain(getattr(feed, f.name)) for f in fields(feed) if f.name != "entries"}


def entry_json(entry: CleanEntry) -> dict[str, Any]:
    return {f.name: _plain(getattr(entry, f.name)) for f in fields(entry)}


def result_json(feed: Path) -> dict[str, Any]:
    """What the pipeline gives for a fixture, as the expected file holds it."""
    source = source_of(feed)
    parsed: Parsed = parse_step(feed.read_bytes(), {"Content-Type": source["content_type"]},
                                source["url"])
    result = {
        "source": source,
        "error": parsed.error,
        "feed": feed_json(parsed.feed) if parsed.feed else None,
        "entries": [entry_json(entry) for entry in parsed.entries],
    }
    # Through JSON and back: tuples become lists, as in the expected file.
    loaded: dict[str, Any] = json.loads(json.dumps(result))
    return loaded


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2) + "\n"


def differences(expected: Any, actual: Any, where: str) -> Iterator[str]:
    """One line per field that differs, naming it by its path (entry 2 (id:…).title)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() | actual.keys()):
            if key not in actual:
                yield f"{where}.{key}: expected {expected[key]!r}, missing from the result"
            elif key not in expected:
                yield f"{where}.{key}: not in the expected file, result {actual[key]!r}"
            else:
                yield from differences(expected[key], actual[key], f"{where}.{key}")
    elif expected != actual:
        yield f"{where}: expected {expected!r}, got {actual!r}"


def _entry_name(index: int, entry: dict[str, Any] | None) -> str:
    identity = entry.get("identity") if entry else None
    return f"entry {index} ({identity})"


def compare(name: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every difference between an expected file and a result, each naming file and field."""
    found: list[str] = []
    for key in ("source", "error", "feed"):
        found += differences(expected.get(key), actual.get(key), key)
    wanted, got = expected.get("entries", []), actual.get("entries", [])
    if len(wanted) != len(got):
        found.append(f"entries: expected {len(wanted)}, got {len(got)}")
    for index in range(max(len(wanted), len(got))):
        old = wanted[index] if index < len(wanted) else None
        new = got[index] if index < len(got) else None
        label = _entry_name(index, old or new)
        if old is None or new is None:
            found.append(f"{label}: {'missing from the result' if new is None else 'not expected'}")
            continue
        found += differences(old, new, label)
    return [f"{name}{EXPECTED_SUFFIX}: {line}" for line in found]


FEEDS = fixture_feeds()
WITH_EXPECTED = [feed for feed in FEEDS if expected_path(feed).exists()]


def test_every_fixture_feed_has_its_expected_file() -> None:
    assert len(FEEDS) >= 8, [feed.name for feed in FEEDS]
    missing = [expected_path(feed).name for feed in FEEDS if not expected_path(feed).exists()]
    assert not missing, f"no expected file (python -m tests.test_fixtures --write): {missing}"


def test_every_expected_file_has_its_fixture() -> None:
    stray = [path.name for path in DATA.glob("*" + EXPECTED_SUFFIX)
             if not (DATA / path.name.removesuffix(EXPECTED_SUFFIX)).is_file()]
    assert not stray


@pytest.mark.parametrize("feed", WITH_EXPECTED, ids=[feed.name for feed in WITH_EXPECTED])
def test_fixture_gives_its_expected_result(feed: Path) -> None:
    expected = json.loads(expected_path(feed).read_text("utf-8"))
    found = compare(feed.name, expected, result_json(feed))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("feed", WITH_EXPECTED, ids=[feed.name for feed in WITH_EXPECTED])
def test_expected_file_is_written_as_the_generator_writes_it(feed: Path) -> None:
    """Hand edits are welcome, but in the generator's layout, so that diffs stay small."""
    text = expected_path(feed).read_text("utf-8")
    assert text == dump(json.loads(text)), f"{expected_path(feed).name}: not in dump() layout"


def main(argv: list[str] | None = None) -> int:
    """Write (--write) or list the expected files that differ from the pipeline's result."""
    parser = argparse.ArgumentParser(prog="python -m tests.test_fixtures", description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="write the files that differ")
    parser.add_argument("names", nargs="*", help="fixture file names (default: all)")
    args = parser.parse_args(argv)
    feeds = [DATA / name for name in args.names] if args.names else FEEDS
    changed = 0
    for feed in feeds:
        path = expected_path(feed)
        text = dump(result_json(feed))
        if path.exists() and path.read_text("utf-8") == text:
            continue
        changed += 1
        print(("wrote " if args.write else "differs: ") + str(path.relative_to(DATA.parent.parent)))
        if args.write:
            path.write_text(text, encoding="utf-8")
    if changed and args.write:
        print("Read the diff (git diff tests/data) before committing: see tests/data/README.md.")
    return 1 if changed and not args.write else 0


if __name__ == "__main__":
    raise SystemExit(main())
