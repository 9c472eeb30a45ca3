"""Poll 1,000 synthetic blog feeds served from loopback and report time and peak memory.

Usage: python benchmarks/fetch_1000.py [--feeds 1000] [--entries 20]

Cases, all in one run so the numbers compare:
  floor        feedparser alone, parsing every document once in this process
  first poll   fetch, parse, clean, dedup and store into a fresh SQLite file
               (parse workers on every core, then again all in one process)
  304          nothing changed, the server answers 304
  same bytes   nothing changed, the server ignores validators and resends the body
Two hostile feeds ride along in every poll: a 20 MB body (over the 10 MB cap) and a
1 MB gzip body that inflates to 1 GB. The server runs in its own process so that
it does not compete with the poller for the GIL.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aggregator.update  # noqa: E402
from aggregator.config import load_config  # noqa: E402
from aggregator.fetch import make_session  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.update import update_feeds  # noqa: E402
from tests.conftest import write_config  # noqa: E402

SAMPLE = (ROOT / "tests" / "data" / "blog-metier.rss").read_text("utf-8")
# Whole <p> elements of real French posts, so the synthetic feeds are well-formed.
PARAGRAPHS = [p for p in re.findall(r"<p>(.*?)</p>", SAMPLE, re.S) if len(p) > 80][:16]


def make_feed(index: int, entries: int) -> bytes:
    """An RSS 2.0 blog feed of about 100 KB, French text, distinct per feed."""
    items = []
    for n in range(entries):
        when = datetime(2026, 1, 1 + (index + n) % 28, 8 + n % 10, tzinfo=UTC)
        body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[n % 4:n % 4 + 12])
        items.append(
            f"<item><title>Billet {n} du blog {index} : « métier »</title>"
            f"<link>https://blog{index}.example/{n}</link>"
            f"<guid isPermaLink='false'>blog{index}-{n}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description><![CDATA[Résumé {n} — {PARAGRAPHS[n % 12]}]]></description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
            f"<title>Blog {index}</title><link>https://blog{index}.example/</link>"
            f"<description>Blog {index}</description>{''.join(items)}</channel></rss>"
            ).encode()


def gzip_bomb(size: int) -> bytes:
    """A gzip body of about size/1000 bytes that inflates to `size` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def serve(directory: Path, validators: bool) -> None:
    """Serve `directory` on a free loopback port; print the port; honour ETags if asked."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = directory / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            if validators and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            if path.suffix == ".gz":
                self.send_header("Content-Encoding", "gzip")
            if validators:
                self.send_header("ETag", etag)
            self.end_headers()
            # The poller hangs up on the oversized bodies.
            with contextlib.suppress(ConnectionError):
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def start_server(directory: Path, validators: bool) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(directory)]
        + ([] if validators else ["--no-validators"]),
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout
    return process, int(process.stdout.readline())


# VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's before exec.
HOSTILE_PROBE = """
import re, sys
from aggregator.fetch import fetch_feed, make_session
result = fetch_feed(make_session(), sys.argv[1], max_size=10_000_000)
status = open("/proc/self/status").read()
print(int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024, result.error or "ok")
"""


def hostile_memory(port: int) -> None:
    """Peak RSS of a fresh process fetching one feed: a normal one, then each hostile one."""
    for name in ("f0.xml", "huge.xml", "bomb.gz"):
        out = subprocess.run([sys.executable, "-c", HOSTILE_PROBE,
                              f"http://127.0.0.1:{port}/{name}"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split(None, 1)
        print(f"{'one process fetching ' + name:<34} peak RSS {float(out[0]):6.0f} MB   "
              f"{out[1].strip()}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def poll(store: Store, config: Any, label: str, force: bool = True) -> dict[str, Any]:
    started = time.perf_counter()
    outcomes = update_feeds(store, make_session(), config, datetime.now(UTC), force=force)
    elapsed = time.perf_counter() - started
    kinds: dict[str, int] = {}
    for outcome in outcomes:
        kinds[outcome.outcome] = kinds.get(outcome.outcome, 0) + 1
    errors = sorted({o.error or "" for o in outcomes if o.error})
    print(f"{label:<34} {elapsed:7.2f} s   peak RSS {peak_rss_mb():6.0f} MB   {kinds}")
    for error in errors:
        print(f"{'':<36}error: {error}")
    return {"elapsed": elapsed, "kinds": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-validators", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, validators=not args.no_validators)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    try:
        run(work, args.feeds, args.entries)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int, entries: int) -> None:
    feeds_dir = work / "feeds"
    feeds_dir.mkdir()
    for index in range(count):
        (feeds_dir / f"f{index}.xml").write_bytes(make_feed(index, entries))
    (feeds_dir / "huge.xml").write_bytes(b"<rss>" + b" " * 20_000_000 + b"</rss>")
    (feeds_dir / "bomb.gz").write_bytes(gzip_bomb(1_000_000_000))
    size = sum(p.stat().st_size for p in feeds_dir.glob("f*.xml"))
    print(f"{count} feeds x {entries} entries, {size / 1e6:.1f} MB, "
          f"bomb {(feeds_dir / 'bomb.gz').stat().st_size / 1e3:.0f} KB on the wire; "
          f"{os.cpu_count()} cores")

    started = time.perf_counter()
    for path in feeds_dir.glob("f*.xml"):
        feedparser.parse(path.read_bytes())
    floor = time.perf_counter() - started
    print(f"{'floor: feedparser alone':<34} {floor:7.2f} s   peak RSS {peak_rss_mb():6.0f} MB")

    results = {}
    for validators in (True, False):
        server, port = start_server(feeds_dir, validators)
        try:
            if validators:
                hostile_memory(port)
            names = [f"f{i}.xml" for i in range(count)] + ["huge.xml", "bomb.gz"]
            feeds = [{"name": n, "url": f"http://127.0.0.1:{port}/{n}"} for n in names]
            for mode in (["pool", "inline"] if validators else ["pool"]):
                directory = work / f"{mode}-{validators}"
                directory.mkdir()
                config = load_config(write_config(directory, feeds, database="bench.db",
                                                  concurrency=8, per_host=8))
                aggregator.update.PROCESS_POOL_MIN_FEEDS = 40 if mode == "pool" else 10**9
                store = Store.open(config.settings.database)
                try:
                    label = f"first poll ({mode})"
                    if not validators:
                        label = "first poll (no validators)"
                    results[label] = poll(store, config, label)
                    again = "304 (nothing changed)" if validators else "same bytes, no 304"
                    results[f"{again} {mode}"] = poll(store, config, f"{again} ({mode})")
                finally:
                    store.close()
        finally:
            server.terminate()
            server.wait()
    first = results["first poll (pool)"]["elapsed"]
    inline = results["first poll (inline)"]["elapsed"]
    print(f"first poll / floor: {first / floor:.2f} (pool), {inline / floor:.2f} (inline)")
    same = results["same bytes, no 304 pool"]["elapsed"]
    print(f"same bytes / floor: {same / floor:.2f}")


if __name__ == "__main__":
    main()
