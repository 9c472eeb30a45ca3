"""Cost of filing a new entry (finding its copies, storing it) as the table grows.

Usage: python benchmarks/dedup_lookup.py [--style prose|templated] [--database URL]
                                         [--small 10000] [--large 200000] [--rounds 5]
                                         [--keep DIR | --reuse DIR] [--json]

Fills a fresh database with synthetic French posts through the store's own save path,
and at SMALL and then LARGE stored entries times the saving of new feeds of 200
entries, half of them copies of stored articles (re-published with a footer, another
title and link) and half new. Fingerprints are computed before timing: what is
measured is the candidate lookup, the verification and the insert. The target: the
cost at LARGE at most 1.3 times the cost at SMALL. Every copy must be found and
nothing else merged: how each probe entry was filed (copy found, copy missed, new,
new merged, ...) is printed with the figures, then asserted (the quality check).

Two styles of text:

  prose      words drawn at random from a sample blog's vocabulary: a five-word run
             almost never recurs in another text (the texts of the earlier runs)
  templated  posts of bench_corpus.py's templated style (job ads, press reviews, agency
             blogs, SEO pieces, press releases): about half of a post's five-word runs
             recur in other posts, as in text written from templates

It also counts the copy search's full comparisons (same_article calls) per new entry
of the timed feeds, mean and maximum (comparisons.py).

The cost is CPU time (time.process_time, SQLite's work included): other jobs on the
machine change the wall-clock time, not it. It is the mean over the rounds, a round
that also merged the recent index keys counting for its share of the entries between
two merges (amortized(); the plain mean is printed too). Filling 200,000 entries takes
minutes: --keep DIR saves the SQLite stores as filled (STYLE-small.db, STYLE-large.db),
--reuse DIR probes copies of them, so that two versions of the store can be timed on
the same stores in turns (the store's package comes first from PYTHONPATH, then from
this tree).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This tree's store last: PYTHONPATH may name another version of it to time.
sys.path[:0] = [str(HERE)]
sys.path.append(str(ROOT))

import bench_corpus as corpus  # noqa: E402
import comparisons  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, aliased  # noqa: E402

from aggregator.config.load import FeedConfig  # noqa: E402
from aggregator.dedup import fingerprint, paragraphs  # noqa: E402
from aggregator.models import CleanEntry, ParsedEntry, PollRecord, SaveCounts  # noqa: E402
from aggregator.poll.clean import clean_entry  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.store.copies import RECENT_ENTRIES, RECENT_SHARE  # noqa: E402
from aggregator.store.schema import EntryRow, FeedRow  # noqa: E402

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SAMPLE = (ROOT / "tests" / "data" / "blog-metier.rss").read_text("utf-8")
VOCABULARY = sorted({w.strip(".,;:!?«»()’'\"") for w in SAMPLE.split()
                     if w.isalpha() and len(w) > 2})
BATCH = 500  # entries a feed document holds while filling (the prose style)
TEMPLATED_BATCH = 2000  # the templated style's: its texts cost more, its fill is longer
PROBE = 200  # entries in each timed feed
FOOTER = "<p>Cet article a été repris avec l’accord de son autrice. Bonne lecture !</p>"
FIRST_NEW_FEED = 1_000_000  # templated posts for the probes' new entries: feeds from here
# Serials of the probes' entries, from here on for each size: a store kept after the
# small probe holds its new posts, which the large probe's must not be again.
FIRST_PROBE = {"small": 10_000_000, "large": 20_000_000}

Text = tuple[str, str]  # (HTML, title)


def make_text(rng: random.Random, words: int) -> str:
    paragraphs_ = [" ".join(rng.choices(VOCABULARY, k=words // 4)) for _ in range(4)]
    return "".join(f"<p>{p}.</p>" for p in paragraphs_)


def make_entry(serial: int, html: str, title: str, link: str) -> CleanEntry:
    parsed = ParsedEntry(guid=f"post-{serial}", link=link, title=title, title_is_html=False,
                         author=None, published=NOW - timedelta(minutes=serial),
                         updated=None, content=html, summary=None)
    entry = clean_entry(parsed, link)
    return replace(entry, fingerprint=fingerprint(entry.title, entry.link,
                                                  paragraphs(entry.content)))


class ProseTexts:
    """Random words, stored post `serial`'s drawn from a generator seeded with `serial`:
    made again when a copy needs it (nothing kept, and a reused store's texts known)."""

    batch = BATCH

    def __init__(self) -> None:
        self.rng = random.Random(4)

    def stored(self, serial: int) -> Text:
        """Stored post `serial`'s text."""
        rng = random.Random(serial)
        return make_text(rng, rng.randint(150, 300)), f"Billet numéro {serial}"

    def new(self, serial: int) -> Text:
        return make_text(self.rng, self.rng.randint(150, 300)), f"Nouveau {serial}"


class TemplatedTexts:
    """bench_corpus's templated posts: stored post `serial` is post serial % 20 of feed
    serial // 20, rebuilt from its seed when a copy needs it (nothing kept); new post
    `serial` the same from FIRST_NEW_FEED on."""

    batch = TEMPLATED_BATCH

    def __init__(self) -> None:
        self.rng = random.Random(4)

    def stored(self, serial: int) -> Text:
        feed, number = divmod(serial, corpus.ENTRIES)
        return self._text(feed, number)

    def new(self, serial: int) -> Text:
        feed, number = divmod(serial - FIRST_PROBE["small"], corpus.ENTRIES)
        return self._text(FIRST_NEW_FEED + feed, number)

    @staticmethod
    def _text(feed: int, number: int) -> Text:
        post = corpus.make_templated_post(corpus.blog(feed, "templated"), number)
        return post.html, post.title


def fill(store: Store, texts: ProseTexts | TemplatedTexts, start: int, stop: int) -> None:
    """Store posts `start`..`stop` in feeds of `texts.batch` entries."""
    spans = [(first, min(first + texts.batch, stop))
             for first in range(start, stop, texts.batch)]
    batches = _prepared_aside(type(texts), spans)
    for (first, _), entries in zip(spans, batches, strict=True):
        name = f"blog {first // texts.batch}"
        store.sync_feeds([FeedConfig(name=name, url=f"https://b{first}.example/feed")])
        store.save_poll(name, PollRecord(polled_at=NOW, next_poll=NOW, status=200), entries)


def stored_entries(texts: ProseTexts | TemplatedTexts, span: tuple[int, int]
                   ) -> list[CleanEntry]:
    """Stored posts span[0]..span[1], cleaned and fingerprinted, in one feed's document."""
    first, stop = span
    return [make_entry(serial, *texts.stored(serial), f"https://b{first}.example/{serial}")
            for serial in range(first, stop)]


def _entries_of(kind: type[ProseTexts | TemplatedTexts], span: tuple[int, int]
                ) -> list[CleanEntry]:
    return stored_entries(kind(), span)


def _prepared_aside(kind: type[ProseTexts | TemplatedTexts], spans: list[tuple[int, int]]
                    ) -> Iterator[list[CleanEntry]]:
    """The batches, made by two worker processes while this one stores.

    Making a templated entry (generating, cleaning, fingerprinting) costs more than
    storing it: alone, filling 200,000 took about eight minutes. At most four batches
    wait, so that memory stays bounded when storing falls behind.
    """
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pending: deque[AsyncResult[list[CleanEntry]]] = deque()
        for span in spans:
            pending.append(pool.apply_async(_entries_of, (kind, span)))
            if len(pending) >= 4:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def probe(store: Store, rng: random.Random, texts: ProseTexts | TemplatedTexts, stored: int,
          label: str, rounds: int, counts: comparisons.Comparisons) -> dict[str, Any]:
    """Mean CPU seconds per new entry over `rounds` probe feeds (half copies, half new),
    the comparisons per new entry over all of them, and how each entry was filed."""
    cpu, wall, waiting = [], [], [recent_keys(store)]
    filed: Counter[str] = Counter()
    counts.reset()
    for round_ in range(rounds):
        name = f"probe {label} {round_}"
        store.sync_feeds([FeedConfig(name=name, url=f"https://{label}{round_}.example/feed")])
        copies = rng.sample(range(stored), PROBE // 2)
        entries = probe_entries(texts, label, round_, copies)
        started, started_cpu = time.perf_counter(), time.process_time()
        saved = store.save_poll(name, PollRecord(polled_at=NOW, next_poll=NOW, status=200),
                                entries)
        cpu.append((time.process_time() - started_cpu) / PROBE)
        wall.append((time.perf_counter() - started) / PROBE)
        waiting.append(recent_keys(store))
        filed.update(filing(store, name, [f"blog {c // texts.batch}" for c in copies], saved))
    return {"cost": amortized(cpu, waiting, stored + rounds * PROBE),
            "mean": statistics.fmean(cpu), "median": statistics.median(cpu),
            "wall": statistics.fmean(wall), "rounds_cpu": cpu,
            "recent_keys": waiting[1:], "comparisons": counts.summary(), "filed": dict(filed)}


def amortized(cpu: list[float], waiting: list[int | None], newest: int) -> float:
    """CPU per new entry with the merges of recent index keys charged their true share.

    A merge moves the keys of max(RECENT_ENTRIES, newest / RECENT_SHARE) entries (12,500
    at 200,000): a probe of a few rounds meets one or none, and its plain mean charged
    a merge to 1,000 entries, not 12,500 (2.7 ms in one round of 0.4). The rounds whose
    recent level emptied are merges (`waiting`: its keys before the first round and after
    each): their excess over the others is spread over the entries between two merges.
    Without a recent level, or all rounds merges: the mean.
    """
    merged = [i for i in range(len(cpu)) if (waiting[i + 1] or 0) < (waiting[i] or 0)]
    steady = [c for i, c in enumerate(cpu) if i not in merged]
    if not merged or not steady:
        return statistics.fmean(cpu)
    interval = max(RECENT_ENTRIES, newest // RECENT_SHARE)
    excess = sum(cpu[i] - statistics.fmean(steady) for i in merged) * PROBE / len(merged)
    return statistics.fmean(steady) + excess / interval


def probe_entries(texts: ProseTexts | TemplatedTexts, label: str, round_: int,
                  copies: list[int]) -> list[CleanEntry]:
    """A probe feed's entries: copies of the stored posts `copies`, then new posts."""
    entries = []
    for n in range(PROBE):
        serial = FIRST_PROBE[label] + round_ * PROBE + n
        if n < len(copies):
            html, title = texts.stored(copies[n])
            html, title = html + FOOTER, f"{title} - Repris"
        else:
            html, title = texts.new(serial)
        entries.append(make_entry(serial, html, title,
                                  f"https://{label}{round_}.example/{serial}"))
    return entries


def recent_keys(store: Store) -> int | None:
    """Index keys waiting in a recent level (recent_keys), for stores that have one."""
    with store.engine.connect() as connection:
        if not connection.dialect.has_table(connection, "recent_keys"):
            return None
        return int(connection.exec_driver_sql("SELECT count(*) FROM recent_keys").scalar_one())


def filing(store: Store, name: str, originals: list[str], saved: SaveCounts) -> Counter[str]:
    """How a probe feed's entries were filed: each copy with its original's feed (found)
    or not (missed, or merged with another), each new entry alone (new) or not (merged)."""
    filed: Counter[str] = Counter()
    for link, article_feed in _articles(store, name):
        n = int(link.rsplit("/", 1)[1]) % PROBE  # its place in the probe
        if n < len(originals):
            filed["copy found" if article_feed == originals[n] else
                  "copy missed" if article_feed == name else "copy merged elsewhere"] += 1
        else:
            filed["new" if article_feed == name else "new merged"] += 1
    # The store's own count says the same, or the reading above is wrong.
    assert filed["copy found"] + filed["copy merged elsewhere"] + filed["new merged"] == (
        saved.duplicates), (filed, saved)
    return filed


def _articles(store: Store, name: str) -> list[tuple[str, str]]:
    """(link, feed of its article's first entry) of every entry of a feed, copies too
    (the store's readers return only the copy each article shows)."""
    founder, founder_feed, own_feed = aliased(EntryRow), aliased(FeedRow), aliased(FeedRow)
    query = (select(EntryRow.link, founder_feed.name)
             .join(own_feed, EntryRow.feed_id == own_feed.id)
             .join(founder, founder.id == EntryRow.article_id)
             .join(founder_feed, founder_feed.id == founder.feed_id)
             .where(own_feed.name == name))
    with Session(store.engine) as session:
        return [(link, feed) for link, feed in session.execute(query)]


def timed(label: str, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label} in {elapsed:.0f} s", flush=True)
    return elapsed


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", choices=corpus.STYLES, default="prose")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    stores = parser.add_mutually_exclusive_group()
    stores.add_argument("--keep", type=Path, metavar="DIR",
                        help="save the filled SQLite stores in DIR")
    stores.add_argument("--reuse", type=Path, metavar="DIR",
                        help="probe copies of the stores --keep saved in DIR")
    parser.add_argument("--json", action="store_true",
                        help="print the results as one JSON line at the end too")
    return parser.parse_args()


def saved_store(directory: Path, style: str, size: str) -> Path:
    return directory / f"{style}-{size}.db"


def keep(store: Store, url: str, target: Path) -> Store:
    """Save a SQLite store's file as it is (its log folded in) to `target`; the store
    opened again."""
    store.close()
    source = make_url(url).database
    assert source, "--keep saves SQLite stores only"
    with sqlite3.connect(source) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return Store.open(url)


def main() -> None:
    args = parse_arguments()
    counts = comparisons.install()
    texts = ProseTexts() if args.style == "prose" else TemplatedTexts()
    # The probes' own generator: the copies they pick do not depend on the style's texts.
    rng = texts.rng
    result: dict[str, Any] = {"style": args.style, "small": args.small, "large": args.large}
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as work:
        for size, stored, store in filled_stores(args, texts, Path(work), result):
            result[f"at_{size}"] = probe(store, rng, texts, stored, size, args.rounds, counts)
    report(args, result)


def filled_stores(args: argparse.Namespace, texts: ProseTexts | TemplatedTexts, work: Path,
                  result: dict[str, Any]) -> Iterator[tuple[str, int, Store]]:
    """The store filled to SMALL, then to LARGE entries: filled here (and kept), or
    copies of the kept ones."""
    url = args.database or f"sqlite:///{work / 'dedup.db'}"
    sizes = (("small", 0, args.small), ("large", args.small, args.large))
    if args.reuse:
        for size, _, stored in sizes:
            shutil.copyfile(saved_store(args.reuse, args.style, size), work / "dedup.db")
            store = Store.open(url)
            try:
                yield size, stored, store
            finally:
                store.close()
        return
    store = Store.open(url)
    try:
        for size, start, stored in sizes:
            result[f"fill_{size}_s"] = timed(f"filled to {stored} entries",
                                             partial(fill, store, texts, start, stored))
            if args.keep:
                store = keep(store, url, saved_store(args.keep, args.style, size))
            yield size, stored, store
    finally:
        store.close()


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    small, large = result["at_small"], result["at_large"]
    result["ratio"] = large["cost"] / small["cost"]
    for size, measured in ((args.small, small), (args.large, large)):
        print(f"CPU per new entry with {size:>7} stored: {measured['cost'] * 1000:.3f} ms "
              f"(plain mean {measured['mean'] * 1000:.3f}, "
              f"median round {measured['median'] * 1000:.3f}, "
              f"wall {measured['wall'] * 1000:.3f}); "
              f"comparisons per new entry: {comparisons.describe(measured['comparisons'])}")
    print(f"ratio: {result['ratio']:.2f} (target <= 1.3)")
    found = [result[size]["filed"] for size in ("at_small", "at_large")]
    print("filed: " + "; ".join(f"{size:,} stored: {dict(sorted(f.items()))}"
                                for size, f in zip((args.small, args.large), found, strict=True)))
    if args.json:
        print(json.dumps(result))
    # The quality check, after the figures: every copy found, nothing else merged.
    assert all(set(f) <= {"copy found", "new"} for f in found), found


if __name__ == "__main__":
    main()
