"""Time and peak memory of rendering one crowded day, and of `status` with a filter set.

    .venv/bin/python benchmarks/render_day.py                 (1,000, 3,000 and 10,000)
    .venv/bin/python benchmarks/render_day.py --entries 200000 --cap-gb 8

For each N, a SQLite store is filled through the store's own save path (the
feed's documents through poll.prepare.parse_step, then Store.save_poll, as a
poll does) with one feed of N entries without dates: all are filed when first
seen, on one day. The feed's row keeps the digests of its N entries, as after a
real poll. The filled database is cached in benchmarks/.cache. Then, each in a
fresh process whose peak RSS is read with resource.getrusage:

  render            render_site into an empty folder (a first, full render)
  render, filtered  the same with an exclude rule in settings.filters
  render again      a full render into an empty folder after a first one (not
                    measured) on the same database: what the first kept there
                    (the trends' key phrases) serves
  status, filtered  `aggregator status --json` with that rule (it counts what
                    the filters keep out of each feed)

Each process runs under an address-space limit (--cap-gb) so that a render
whose memory grows without bound fails alone instead of taking the machine.
Prints a Markdown table (the figures of benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

CACHE = HERE / ".cache"
FILL_VERSION = 1  # bump when the generated feed changes: cached databases are rebuilt
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FEED = "Le fil sans dates"
FEED_URL = "https://sans-dates.example/feed.xml"
CHUNK = 5_000  # items per document saved: one poll's worth, as big feeds come
WORDS = ("communauté", "modération", "réseaux", "sociaux", "contenu", "éditorial",
         "stratégie", "engagement", "audience", "marque", "conversation", "veille", "outil",
         "publication", "abonnés", "mœurs", "algorithme", "pratiques", "données", "mesure",
         "influence", "hashtag", "œuvre", "réponse", "commentaire", "crise", "calendrier",
         "ligne", "ton", "humour", "métier")
EXCLUDE = "zzz-jamais-vu"  # an exclude rule that keeps everything: every entry is judged
CASES = ("render", "render, filtered", "render again", "status, filtered")


def document(first: int, count: int) -> bytes:
    """An RSS document of `count` undated items, numbered from `first`."""
    rng = random.Random(first)
    items = []
    for n in range(first, first + count):
        text = " ".join(rng.choice(WORDS) for _ in range(24))
        items.append(f"<item><title>Billet {n} : {escape(text[:40])}</title>"
                     f"<link>https://sans-dates.example/billets/{n}</link>"
                     f"<description>{escape(text)} ({n})</description></item>")
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{FEED}</title><link>https://sans-dates.example/</link>"
            f"<description>Des billets sans dates</description>{''.join(items)}"
            "</channel></rss>").encode()


def fill(path: Path, count: int) -> None:
    """Store `count` undated entries of one feed through parse_step and Store.save_poll."""
    from aggregator.config.load import FeedConfig
    from aggregator.models import PollRecord
    from aggregator.poll.prepare import parse_step
    from aggregator.store import Store

    store = Store.open(f"sqlite:///{path}")
    try:
        store.sync_feeds([FeedConfig(FEED, FEED_URL)])
        digests: dict[str, str] = {}
        for first in range(0, count, CHUNK):
            parsed = parse_step(document(first, min(CHUNK, count - first)),
                                {"content-type": "application/rss+xml"}, FEED_URL)
            assert parsed.error is None, parsed.error
            digests |= parsed.digests
            record = PollRecord(polled_at=NOW, next_poll=NOW + timedelta(hours=1), status=200,
                                last_success=NOW, title=FEED, site_url="https://sans-dates.example/",
                                entry_digests=digests)
            store.save_poll(FEED, record, parsed.entries)
        stored = store.feed_states()[FEED].entry_count
        assert stored == count, f"{stored} entries stored, {count} expected"
    finally:
        store.close()


def database(count: int) -> Path:
    """The filled database for `count` entries, from the cache or built."""
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"render-day-{count}-v{FILL_VERSION}.db"
    if not cached.exists():
        building = CACHE / f".building-{cached.name}"
        building.unlink(missing_ok=True)
        started = time.perf_counter()
        fill(building, count)
        building.rename(cached)
        print(f"filled {count:,} entries in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    return cached


def write_config(folder: Path, db: Path, filtered: bool) -> Path:
    """A feeds.yaml for the case: the database, an output folder, the rule when filtered."""
    filters = f"  filters: {{exclude: [{EXCLUDE}]}}\n" if filtered else ""
    path = folder / "feeds.yaml"
    path.write_text(
        f"settings:\n  database: {db}\n  output_dir: {folder / 'public'}\n"
        f"  timezone: Europe/Paris\n  language: fr\n  title: Veille\n{filters}"
        f"feeds:\n  - name: {FEED}\n    url: {FEED_URL}\n", "utf-8")
    return path


def child(case: str, config_path: Path) -> None:
    """Run one case in this process and print its time and peak RSS as JSON."""
    from aggregator.config.load import load_config

    config = load_config(config_path)
    started, cpu = time.perf_counter(), time.process_time()
    detail = ""
    if case.startswith("render"):
        from aggregator.publish.render import render_site
        from aggregator.store import Store

        store = Store.open(config.settings.database)
        report = render_site(store, config.settings, config.feeds, NOW + timedelta(hours=1))
        store.close()
        pages = len(list((config.settings.output_dir / "digest").glob("*.html")))
        detail = f"{report.days} day, {pages} day page files, {report.written} files written"
    else:
        from aggregator.__main__ import main

        sys.argv = ["aggregator", "--config", str(config_path), "status", "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main()
        [row] = json.loads(out.getvalue())
        detail = f"{row['entries']:,} entries, {row['filtered_out']} filtered out"
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "cpu": time.process_time() - cpu, "peak_mb": peak_kib / 1024,
                      "detail": detail}))


def measure(case: str, db: Path, cap_gb: float, timeout: float) -> dict[str, object]:
    """One case in a fresh process under the address-space cap; its figures or its failure."""
    cap = int(cap_gb * 1024**3)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryDirectory(prefix="render-day-") as folder:
        # A copy: a render or a status may write (feed rows, moves), the cache stays as filled.
        copy = Path(folder) / "bench.db"
        shutil.copyfile(db, copy)
        config = write_config(Path(folder), copy, filtered=case.endswith("filtered"))
        try:
            if case == "render again":
                subprocess.run([sys.executable, __file__, "--child", case, str(config)],
                               preexec_fn=limit, capture_output=True, timeout=timeout,
                               check=True)
                shutil.rmtree(Path(folder) / "public")
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, "--child", case, str(config)], preexec_fn=limit,
                capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"failed": f"stopped after {timeout:.0f} s"}
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            return {"failed": f"{last[:80]} after {time.perf_counter() - started:.0f} s "
                              f"(cap {cap_gb:g} GB)"}
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000, 3_000, 10_000])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--cap-gb", type=float, default=8.0,
                        help="address-space limit of each measured process")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per case")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    print(f"render_day.py at {commit or '?'}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print("| entries on the day | case | s | CPU s | peak RSS MB | detail |")
    print("| --- | --- | --- | --- | --- | --- |")
    for count in args.entries:
        db = database(count)
        for case in args.cases:
            found = measure(case, db, args.cap_gb, args.timeout)
            if "failed" in found:
                print(f"| {count:,} | {case} | | | | FAILED: {found['failed']} |", flush=True)
            else:
                print(f"| {count:,} | {case} | {found['seconds']:.2f} | {found['cpu']:.2f} "
                      f"| {found['peak_mb']:.0f} | {found['detail']} |", flush=True)


if __name__ == "__main__":
    main()
