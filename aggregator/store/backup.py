"""Every stored entry as JSON lines, and back: backups, and moving from SQLite to PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aggregator.config.load import FeedConfig
from aggregator.dedup import entry_signature, find_boilerplate, fingerprint, paragraphs
from aggregator.i18n import _
from aggregator.models import CleanEntry, Enclosure, SaveCounts
from aggregator.store import Store

BATCH = 500


class BackupError(ValueError):
    """A line of the file is not an exported entry; the message says which and why."""


@dataclass(frozen=True)
class Imported:
    """One exported entry, ready to store again."""

    feed: FeedConfig
    entry: CleanEntry
    times: tuple[datetime, datetime, datetime]  # first seen, filed under, last changed


def export_lines(store: Store) -> Iterator[str]:
    """One JSON object a line per stored entry, oldest first."""
    for record in store.export_entries():
        yield json.dumps(record, ensure_ascii=False) + "\n"


def read_lines(lines: Iterable[str]) -> Iterator[Imported]:
    """Exported entries back from their lines; blank lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield _imported(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(_("line %(line)s: not an exported entry (%(error)s)")
                              % {"line": number, "error": exc}) from None


def _imported(record: dict[str, Any]) -> Imported:
    feed = record["feed"]
    if not isinstance(feed, dict):
        raise TypeError("`feed` is not an object")
    enclosures = tuple(Enclosure(str(e["url"]), e.get("type"), e.get("length"))
                       for e in _list(record, "enclosures"))
    title, link = str(record["title"]), _opt(record.get("link"))
    author = _opt(record.get("author"))
    content, summary = str(record.get("content") or ""), str(record.get("summary") or "")
    thumbnail = _opt(record.get("thumbnail"))
    entry = CleanEntry(
        identity=str(record["identity"]),
        signature=entry_signature(title, link, author, content, summary,
                                  [e.url for e in enclosures] + [thumbnail or ""]),
        title=title, link=link, author=author,
        published=_when(record.get("published")), updated=_when(record.get("updated")),
        content=content, summary=summary, excerpt=str(record.get("excerpt") or ""),
        language=_opt(record.get("language")), enclosures=enclosures, thumbnail=thumbnail,
        categories=tuple(str(c) for c in _list(record, "categories")),
    )
    times = (_required(record, "first_seen"), _required(record, "dated"),
             _required(record, "changed"))
    config = FeedConfig(name=str(feed["name"]), url=str(feed["url"]),
                        tags=tuple(str(t) for t in _list(feed, "tags")))
    return Imported(config, entry, times)


def import_lines(store: Store, lines: Iterable[str],
                 on_progress: Callable[[int], None] | None = None) -> SaveCounts:
    """Store every exported entry again, feed by feed, in batches; `on_progress(done)` is
    told how many entries are stored after each batch."""
    totals = SaveCounts()
    done = 0
    for batch in _batches(read_lines(lines)):
        totals = _add(totals, _store(store, batch))
        done += len(batch)
        if on_progress:
            on_progress(done)
    return totals


def _batches(items: Iterable[Imported]) -> Iterator[list[Imported]]:
    """Consecutive entries of one feed, BATCH at most together."""
    batch: list[Imported] = []
    for item in items:
        if batch and (item.feed.name != batch[0].feed.name or len(batch) >= BATCH):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _store(store: Store, batch: list[Imported]) -> SaveCounts:
    """One feed's entries, fingerprinted as a poll would: its repeated paragraphs left out."""
    blocks = [paragraphs(i.entry.content or i.entry.summary) for i in batch]
    boilerplate = find_boilerplate(blocks)
    entries = [replace(i.entry, fingerprint=fingerprint(i.entry.title, i.entry.link, text,
                                                        boilerplate))
               for i, text in zip(batch, blocks, strict=True)]
    store.ensure_feed(batch[0].feed)
    return store.import_entries(batch[0].feed.name, entries, [i.times for i in batch])


def _add(a: SaveCounts, b: SaveCounts) -> SaveCounts:
    return SaveCounts(a.new + b.new, a.updated + b.updated, a.duplicates + b.duplicates,
                      a.recognized + b.recognized)


def _list(record: dict[str, Any], key: str) -> list[Any]:
    value = record.get(key) or []
    if not isinstance(value, list):
        raise TypeError(f"`{key}` is not a list")
    return value


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _required(record: dict[str, Any], key: str) -> datetime:
    moment = _when(record.get(key))
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"`{key}` is missing or has no time zone")
    return moment
