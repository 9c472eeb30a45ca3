"""Cost of filing a new entry (finding its copies, storing it) as the table grows.

Usage: python benchmarks/dedup_lookup.py [--database URL] [--small 10000] [--large 200000]

Fills a fresh database with synthetic French blog posts through the store's own
save path, and at SMALL and then LARGE stored entries times the saving of new
feeds of 200 entries, half of them copies of stored articles (re-published with a
footer, another title and link) and half new. Fingerprints are computed before
timing: what is measured is the candidate lookup, the verification and the
insert. The target: the cost at LARGE at most 1.3 times the cost at SMALL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.clean import clean_entry  # noqa: E402
from aggregator.config import FeedConfig  # noqa: E402
from aggregator.dedup import fingerprint, paragraphs  # noqa: E402
from aggregator.models import CleanEntry, ParsedEntry, PollRecord  # noqa: E402
from aggregator.store import Store  # noqa: E402

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SAMPLE = (ROOT / "tests" / "data" / "blog-metier.rss").read_text("utf-8")
VOCABULARY = sorted({w.strip(".,;:!?«»()’'\"") for w in SAMPLE.split()
                     if w.isalpha() and len(w) > 2})
BATCH = 500  # entries a feed document holds while filling
PROBE = 200  # entries in each timed feed


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


def fill(store: Store, rng: random.Random, start: int, stop: int,
         texts: dict[int, str]) -> None:
    """Store posts `start`..`stop` in feeds of BATCH entries."""
    for first in range(start, stop, BATCH):
        name = f"blog {first // BATCH}"
        store.sync_feeds([FeedConfig(name=name, url=f"https://b{first}.example/feed")])
        entries = []
        for serial in range(first, min(first + BATCH, stop)):
            texts[serial] = make_text(rng, rng.randint(150, 300))
            entries.append(make_entry(serial, texts[serial], f"Billet numéro {serial}",
                                      f"https://b{first}.example/{serial}"))
        store.save_poll(name, PollRecord(polled_at=NOW, next_poll=NOW, status=200), entries)


def probe(store: Store, rng: random.Random, texts: dict[int, str], label: str,
          rounds: int) -> float:
    """Median seconds per new entry over `rounds` probe feeds (half copies, half new)."""
    footer = "<p>Cet article a été repris avec l’accord de son autrice. Bonne lecture !</p>"
    costs = []
    for round_ in range(rounds):
        name = f"probe {label} {round_}"
        store.sync_feeds([FeedConfig(name=name, url=f"https://{label}{round_}.example/feed")])
        entries = []
        copies = rng.sample(sorted(texts), PROBE // 2)
        for n in range(PROBE):
            serial = 10_000_000 + round_ * PROBE + n
            if n < len(copies):
                html, title = texts[copies[n]] + footer, f"Billet numéro {copies[n]} - Repris"
            else:
                html, title = make_text(rng, rng.randint(150, 300)), f"Nouveau {serial}"
            entries.append(make_entry(serial, html, title,
                                      f"https://{label}{round_}.example/{serial}"))
        started = time.perf_counter()
        counts = store.save_poll(name, PollRecord(polled_at=NOW, next_poll=NOW, status=200),
                                 entries)
        costs.append((time.perf_counter() - started) / PROBE)
        assert counts.duplicates == PROBE // 2, counts  # every copy found, nothing else
    return statistics.median(costs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as work:
        url = args.database or f"sqlite:///{Path(work) / 'dedup.db'}"
        store = Store.open(url)
        rng = random.Random(4)
        texts: dict[int, str] = {}
        try:
            started = time.perf_counter()
            fill(store, rng, 0, args.small, texts)
            print(f"filled {args.small} entries in {time.perf_counter() - started:.0f} s")
            small = probe(store, rng, texts, "small", args.rounds)
            started = time.perf_counter()
            fill(store, rng, args.small, args.large, texts)
            print(f"filled to {args.large} entries in {time.perf_counter() - started:.0f} s")
            large = probe(store, rng, texts, "large", args.rounds)
        finally:
            store.close()
    print(f"cost per new entry with {args.small:>7} stored: {small * 1000:.2f} ms")
    print(f"cost per new entry with {args.large:>7} stored: {large * 1000:.2f} ms")
    print(f"ratio: {large / small:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
