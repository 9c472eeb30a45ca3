"""Time and peak memory of polling and rendering, against the feedparser floor and reader.

    make bench N=1000      (or: .venv/bin/python benchmarks/bench.py --feeds 1000)
    .venv/bin/python benchmarks/bench.py --feeds 60 --style templated --no-render --no-append
    .venv/bin/python benchmarks/bench.py --feeds 1000 --only render --no-append

N synthetic French feeds of 20 posts (bench_corpus.py: RSS 2.0 and Atom, 2.5-4.4 KB
of HTML a post) in two styles, each polled in the same run (--style):

  prose        blogs written word by word: a five-word run rarely recurs elsewhere;
               one relay blog in ten re-publishes others' posts
  templated    job ads, weekly press reviews, agency blogs in a house style, SEO pieces
               and press releases: about half of a post's five-word runs recur in
               other posts; relay blogs, and press releases re-published with light
               edits, are the copies to find

Each style's corpus is served from 127.0.0.1 by a separate process (HTTP/1.1, ETag
and Last-Modified). Every measured case runs in a fresh process, so its peak memory
is its own. For each style:

  floor        feedparser.parse (defaults) of every document once, in one process
  first poll   update_feeds(store, make_session(), config, now, force=True), the
               code of `aggregator fetch --force`, into an empty SQLite database
  304          the same again; every feed answers 304 to our validators
  same bytes   the server ignores conditional requests and re-sends every body
  10% new      one feed in ten has one new post on top (new ETag); the others answer 304
  comparisons  in each poll's process, the copy search's full comparisons (same_article
               calls) per new entry looked up (_find_copy call), mean and maximum
  copies       the copies the first poll found, against bench_corpus.expected_copies
  dedup lookup dedup_lookup.py with the style's texts: the cost of saving a new entry
               with 10,000 and 200,000 entries stored, and their comparisons

and once, as they do not depend on the style:

  render       render_site (the code of `aggregator render`) after one feed in ten got
               a post on the latest day, with 2·N and 200·N entries stored over two
               years (the median of --repeat runs from the same state); the first
               full render of each database is reported too. The databases hold the
               trends' key phrases of their last five weeks, as the daemon's renders
               would have kept them
  hostile      one fetch of a 20 MB body and of a 1 GB gzip bomb (extra rows)

lemon24's reader, when importable, polls the same server in the same run: a fresh
database, add_feed for every URL, then update_feeds_iter(scheduled=False) (its
defaults otherwise) for the same four cases. The tables are printed and appended to
benchmarks/RESULTS.md. The corpora (with how much their posts overlap, stats.json)
and the render databases are cached in benchmarks/.cache, keyed by what they are
built from.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import bench_corpus as corpus  # noqa: E402
import comparisons  # noqa: E402

CACHE = HERE / ".cache"
RESULTS = HERE / "RESULTS.md"
SETTINGS = {"concurrency": 8, "per_host": 8, "timeout": "30s"}
SAMPLE_EVERY = 0.05  # seconds between samples of a case's process tree
HOSTILE = ("huge.xml", "bomb.gz")
PACKAGES = ("feedparser", "reader", "SQLAlchemy", "nh3", "ftfy", "requests", "Jinja2")
OVERLAP_SAMPLE = 200  # posts whose overlap with every other is measured
COMPARISONS_MAX = 16  # the target: full comparisons per new entry, at most


# --- the corpus on disk ---------------------------------------------------------------

def source_hash(*paths: Path) -> str:
    """A short hash of files' bytes (directories: every file under them)."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:12]


def build_corpus(count: int, style: str) -> Path:
    """The N feeds of both generations of a style, the hostile bodies, and what the
    corpus holds (stats.json), cached by generator version and hash."""
    key = f"{count}-v{corpus.GENERATOR_VERSION}-{source_hash(HERE / 'bench_corpus.py')}"
    directory = CACHE / f"corpus-{style}-{key}"
    if directory.is_dir():
        return directory
    for stale in [*CACHE.glob(f"corpus-{style}-{count}-*"), *CACHE.glob(f"corpus-{count}-*")]:
        shutil.rmtree(stale)  # the second: caches from before the styles
    building = Path(tempfile.mkdtemp(prefix="corpus-", dir=_cache_dir()))
    for generation in (1, 2):
        (building / f"gen{generation}").mkdir()
    # Measured while writing: each post is generated once.
    meter = corpus.OverlapMeter(count, style, OVERLAP_SAMPLE)
    for index in range(count):
        b = corpus.blog(index, style)
        posts = corpus.feed_posts(index, count, 1, style)
        (building / "gen1" / f"{index}.xml").write_bytes(corpus.render_posts(b, posts))
        for post in posts:
            meter.add(post)
        if corpus.changed_in_generation_2(index):
            (building / "gen2" / f"{index}.xml").write_bytes(
                corpus.render_feed(index, count, generation=2, style=style))
    stats = {"overlap": asdict(meter.result()),
             "expected": {g: corpus.expected_copies(count, g, style) for g in (1, 2)}}
    (building / "stats.json").write_text(json.dumps(stats))
    (building / "huge.xml").write_bytes(b"<rss>" + b" " * 20_000_000 + b"</rss>")
    (building / "bomb.gz").write_bytes(gzip_bomb(1_000_000_000))
    building.rename(directory)
    return directory


def corpus_stats(directory: Path) -> dict[str, Any]:
    """What build_corpus measured: the overlap, and the copies expected by generation."""
    stats = json.loads((directory / "stats.json").read_text())
    stats["expected"] = {int(g): n for g, n in stats["expected"].items()}
    return stats


def _cache_dir() -> Path:
    CACHE.mkdir(exist_ok=True)
    return CACHE


def gzip_bomb(size: int) -> bytes:
    """A gzip body of about size/1000 bytes that inflates to `size` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def describe_corpus(directory: Path, count: int, style: str) -> str:
    """One line: size, formats, copies, how much posts overlap."""
    size = sum(p.stat().st_size for p in (directory / "gen1").glob("*.xml"))
    atom = sum(corpus.blog(i).atom for i in range(count))
    stats = corpus_stats(directory)
    overlap, expected = stats["overlap"], stats["expected"]
    return (f"{style}: {count} feeds × {corpus.ENTRIES} entries, {size / 1e6:.1f} MB "
            f"({count - atom} RSS 2.0, {atom} Atom), {expected[1]} entries that are copies "
            "of another feed's (relayed or re-published); generation 2: "
            f"{len(list((directory / 'gen2').glob('*.xml')))} feeds with one new entry; "
            f"of {overlap['sampled']} posts sampled, each shares a five-word run with "
            f"{overlap['mean_sharing']:.0f} other posts on average (min "
            f"{overlap['min_sharing']}), {overlap['recurring']:.0%} of a post's five-word "
            "runs recur in another post; two distinct articles share at most "
            f"{overlap['max_distinct']:.0%} of the smaller text, a copy at least "
            f"{overlap['min_copy']:.0%} of it with its source")


# --- the feed server (its own process) ----------------------------------------------

@dataclass
class Document:
    """A body and its validators."""

    body: bytes
    content_type: str
    etag: str
    last_modified: str


@dataclass
class ServerState:
    """What the server serves; switched by GET /_control?validators=0|1&generation=1|2."""

    generations: dict[int, dict[str, Document]]
    extra: dict[str, bytes]
    validators: bool = True
    generation: int = 1


def load_documents(directory: Path) -> dict[str, Document]:
    """Every feed of one generation's folder, by request path."""
    documents = {}
    for path in directory.glob("*.xml"):
        body = path.read_bytes()
        atom = b"<feed xmlns" in body[:200]
        newest = re.search(rb"<(?:pubDate|updated)>([^<]+)<", body)
        assert newest, path
        text = newest.group(1).decode()
        stamp = (datetime.fromisoformat(text) if atom else
                 datetime.strptime(text, "%a, %d %b %Y %H:%M:%S %z"))
        documents[f"/feeds/{path.name}"] = Document(
            body, "application/atom+xml" if atom else "application/rss+xml; charset=UTF-8",
            corpus.etag_of(body), format_datetime(stamp.astimezone(UTC), usegmt=True))
    return documents


def serve(directory: Path) -> None:
    """Serve the corpus on a free loopback port, printed on stdout; run until killed."""
    state = ServerState({1: load_documents(directory / "gen1"),
                         2: load_documents(directory / "gen2")},
                        {f"/{name}": (directory / name).read_bytes() for name in HOSTILE})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers and both clients do

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/_control":
                query = parse_qs(url.query)
                state.validators = query.get("validators", ["1"])[0] == "1"
                state.generation = int(query.get("generation", ["1"])[0])
                self._send(200, b"ok", "text/plain")
            elif url.path in state.extra:
                self._send(200, state.extra[url.path], "application/rss+xml",
                           {"Content-Encoding": "gzip"} if url.path.endswith(".gz") else {})
            else:
                # generation 2 holds only the feeds that changed
                document = (state.generations[state.generation].get(url.path)
                            or state.generations[1].get(url.path))
                if document is None:
                    self._send(404, b"not found", "text/plain")
                else:
                    self._answer(document)

        def _answer(self, document: Document) -> None:
            validators = {"ETag": document.etag, "Last-Modified": document.last_modified}
            if state.validators and self._fresh(document):
                self._send(304, b"", None, validators)
            else:  # in "ignore" mode the validators are still sent, only never honoured
                self._send(200, document.body, document.content_type, validators)

        def _fresh(self, document: Document) -> bool:
            # RFC 9110 13.2.2: If-None-Match, when sent, decides alone.
            if "If-None-Match" in self.headers:
                tags = [t.strip() for t in self.headers["If-None-Match"].split(",")]
                return document.etag in tags or "*" in tags
            return self.headers.get("If-Modified-Since") == document.last_modified

        def _send(self, status: int, body: bytes, content_type: str | None,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The poller hangs up on the oversized bodies.
            with contextlib.suppress(ConnectionError):
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # socketserver listens with a backlog of 5: eight clients connecting at once
        # overflow it, and a dropped SYN is sent again only after a second.
        request_queue_size = 128

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class FeedServer:
    """The server process, seen from the benchmark."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "serve", str(directory)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout
        self.port = int(self.process.stdout.readline())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def switch(self, validators: bool, generation: int) -> None:
        query = f"validators={int(validators)}&generation={generation}"
        with urllib.request.urlopen(self.url(f"/_control?{query}"), timeout=10) as answer:
            answer.read()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


# --- measured cases (each in a fresh process) ---------------------------------------

def case_floor(directory: str) -> dict[str, Any]:
    """feedparser alone on every document of generation 1, with its default options."""
    import feedparser

    # parse.py changes feedparser's set-up for our runs: the floor is feedparser as shipped.
    assert "aggregator.poll.parse" not in sys.modules
    paths = sorted(Path(directory).glob("*.xml"), key=lambda p: int(p.stem))
    result: dict[str, Any] = {}
    with timed(result):
        result["entries"] = sum(len(feedparser.parse(p.read_bytes()).entries) for p in paths)
    return result


def case_poll(config_path: str) -> dict[str, Any]:
    """Our poll of every feed, as `aggregator fetch --force` runs it."""
    from aggregator.config.load import load_config
    from aggregator.poll.fetch import make_session
    from aggregator.poll.memory import hold_less_memory
    from aggregator.poll.pool import start_parse_server
    from aggregator.poll.run import update_feeds
    from aggregator.store import Store

    config = load_config(config_path)
    # In this process only: the store's copy search counts its full comparisons.
    counts = comparisons.install()
    # As the command does:
    hold_less_memory()
    start_parse_server(len(config.feeds))
    store = Store.open(config.settings.database)
    result: dict[str, Any] = {}
    try:
        with timed(result):
            outcomes = update_feeds(store, make_session(), config, datetime.now(UTC),
                                    force=True)
        stored = sum(s.entry_count for s in store.feed_states().values())
    finally:
        store.close()
    return {
        **result, "stored": stored, "comparisons": counts.summary(),
        "outcomes": dict(Counter(o.outcome for o in outcomes)),
        "new": sum(o.new for o in outcomes), "updated": sum(o.updated for o in outcomes),
        "duplicates": sum(o.duplicates for o in outcomes),
        "errors": sorted({o.error for o in outcomes if o.error})[:3],
    }


def case_reader(database: str, urls: list[str]) -> dict[str, Any]:
    """reader's poll of every feed: its defaults, except that every feed is due."""
    from reader import UpdatedFeed, make_reader

    reader = make_reader(database)
    result: dict[str, Any] = {}
    try:
        for url in urls:  # a no-op after the first case
            reader.add_feed(url, exist_ok=True)
        with timed(result):
            # update_feeds() is this loop; scheduled=False polls feeds not yet due,
            # like our force=True (the cases follow each other within minutes).
            results = list(reader.update_feeds_iter(scheduled=False))
        stored = reader.get_entry_counts().total
    finally:
        reader.close()
    updated = [r.value for r in results if isinstance(r.value, UpdatedFeed)]
    errors = [r.value for r in results if isinstance(r.value, Exception)]
    return {
        **result, "stored": stored,
        "outcomes": {"updated": len(updated), "not_modified": sum(r.value is None
                                                                  for r in results),
                     "error": len(errors)},
        "new": sum(u.new for u in updated), "updated": sum(u.modified for u in updated),
        "errors": sorted({repr(e) for e in errors})[:3],
    }


def case_hostile(url: str) -> dict[str, Any]:
    """One fetch of one URL with the default 10 MB cap."""
    from aggregator.poll.fetch import fetch_feed, make_session

    result: dict[str, Any] = {}
    with timed(result):
        result["error"] = fetch_feed(make_session(), url, max_size=10_000_000).error
    return result


def case_fill(config_path: str, count: int, newest: int | None) -> dict[str, Any]:
    """Fill a render database: RENDER_PER_FEED posts a feed over RENDER_DAYS (or the newest).

    Bodies come from a pool of cleaned posts (render does not compare texts) and
    entries carry no fingerprint (render does not look them up), so filling is
    mostly inserting rows through Store.save_poll.
    """
    from aggregator.config.load import load_config
    from aggregator.dedup import entry_identity, entry_signature
    from aggregator.models import PollRecord
    from aggregator.poll.clean import clean_entry
    from aggregator.store import Store

    started = time.perf_counter()
    config = load_config(config_path)
    timeline = corpus.render_timeline(count)
    if newest is not None:
        timeline = timeline[-newest:]
    by_feed: dict[int, list[tuple[datetime, int]]] = {}
    for published, feed, number in timeline:
        by_feed.setdefault(feed, []).append((published, number))
    pool = [clean_entry(_parsed(corpus.make_post(corpus.blog(k % count), 1000 + k)), None)
            for k in range(499)]
    polled = corpus.RENDER_END + timedelta(minutes=1)
    store = Store.open(config.settings.database)
    try:
        store.sync_feeds(config.feeds)
        for feed, posts in sorted(by_feed.items()):
            b = corpus.blog(feed)
            entries = []
            for published, number in posts:
                post = corpus.make_post(b, number, published, body=False)
                body = pool[(feed * corpus.RENDER_PER_FEED + number) % len(pool)]
                entries.append(replace(
                    body, identity=entry_identity(post.guid, post.link, post.title, ""),
                    signature=entry_signature(post.title, post.link, post.author,
                                              body.content, body.summary),
                    title=post.title, link=post.link, author=post.author,
                    published=published, categories=post.categories))
            store.save_poll(config.feeds[feed].name,
                            PollRecord(polled_at=polled, next_poll=polled, status=200),
                            entries)
        keep_trend_phrases(store, config)
    finally:
        store.close()
    return {"elapsed": time.perf_counter() - started, "cpu": time.process_time(),
            "entries": len(timeline)}


def keep_trend_phrases(store: Any, config: Any) -> None:
    """The trends' key phrases of the last five weeks, as the daemon's renders after
    each poll would have kept them: the renders measured find only the new entries'."""
    from zoneinfo import ZoneInfo

    from aggregator.publish.filters import EntryFilter
    from aggregator.publish.pages import DayEntries
    from aggregator.publish.trends import FrontPage, period

    now = corpus.RENDER_END + timedelta(hours=2)
    ids = [ref.id for ref in store.entry_refs_between(*period(now))]
    before, kept = -1, 0
    while kept > before:  # each pass finds at most NEW_PHRASES more
        FrontPage(DayEntries(store, EntryFilter(config.settings.filters, config.feeds),
                             ZoneInfo(config.settings.timezone))).trends(now)
        before, kept = kept, len(store.entry_phrases(ids))


def _parsed(post: corpus.Post) -> Any:
    from aggregator.models import ParsedEntry

    return ParsedEntry(guid=post.guid, link=post.link, title=post.title, title_is_html=False,
                       author=post.author, published=post.published, updated=None,
                       content=post.html, summary=post.excerpt, categories=post.categories)


def case_add_posts(config_path: str, count: int) -> dict[str, Any]:
    """One poll's worth of new posts on the latest day: one feed in ten gets one.

    They go through clean and fingerprint as a poll's would (no fetch, no parse).
    """
    from aggregator.config.load import load_config
    from aggregator.dedup import fingerprint, paragraphs
    from aggregator.models import PollRecord
    from aggregator.poll.clean import clean_entry
    from aggregator.store import Store

    config = load_config(config_path)
    polled = corpus.RENDER_END + timedelta(hours=1)
    store = Store.open(config.settings.database)
    added = 0
    try:
        for index in filter(corpus.changed_in_generation_2, range(count)):
            post = corpus.make_post(corpus.blog(index), corpus.NEW_POST,
                                    corpus.RENDER_END + timedelta(minutes=30))
            entry = clean_entry(_parsed(post), None)
            entry = replace(entry, fingerprint=fingerprint(entry.title, entry.link,
                                                           paragraphs(entry.content)))
            counts = store.save_poll(config.feeds[index].name, PollRecord(
                polled_at=polled, next_poll=polled, status=200), [entry])
            added += counts.new
    finally:
        store.close()
    return {"elapsed": 0.0, "cpu": 0.0, "added": added}


def case_render(config_path: str, now: str) -> dict[str, Any]:
    """render_site, as `aggregator render` runs it (sync_feeds first, not timed)."""
    from aggregator.config.load import load_config
    from aggregator.publish.render import render_site
    from aggregator.store import Store

    config = load_config(config_path)
    store = Store.open(config.settings.database)
    result: dict[str, Any] = {}
    try:
        store.sync_feeds(config.feeds)
        with timed(result):
            report = render_site(store, config.settings, config.feeds,
                                 datetime.fromisoformat(now))
    finally:
        store.close()
    return {**result, "days": report.days, "written": report.written,
            "unchanged": report.unchanged, "rendered_days": report.rendered_days}


CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "floor": case_floor, "poll": case_poll, "reader": case_reader, "hostile": case_hostile,
    "fill": case_fill, "add_posts": case_add_posts, "render": case_render,
}


def run_case_here(name: str, arguments: str) -> None:
    """In the case's process: run it, then print its result and VmHWM as JSON."""
    result = CASES[name](**json.loads(arguments))
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    result["hwm_mb"] = int(match.group(1)) / 1024 if match else 0.0
    print(json.dumps(result, default=str))


@dataclass
class Measured:
    """A case's result, its process's VmHWM, and the sampled peak of its process tree."""

    elapsed: float
    cpu: float  # seconds of CPU, the process and its workers
    hwm_mb: float
    tree_mb: float  # RSS summed over the tree
    tree_pss_mb: float
    data: dict[str, Any] = field(default_factory=dict)


def run_case(work: Path, name: str, **arguments: Any) -> Measured:
    """Run a case in a fresh process, sampling the RSS of it and its descendants."""
    out, err = work / f"{name}.out", work / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        # Through -c, not this script: multiprocessing runs the main script again in
        # each parse worker, and the command's (aggregator/__main__.py) imports nothing,
        # while this one would add its server, metadata and corpus modules to each worker
        # (6 MB), which `aggregator fetch` does not have.
        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench; bench.main()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, "case", name, json.dumps(arguments)],
            stdout=stdout, stderr=stderr, cwd=work)
        rss = pss = 0
        for tick in itertools.count():
            if process.poll() is not None:
                break
            if tick % 10 == 0:  # walking /proc costs more than sampling; workers live long
                tree = descendants(process.pid)
            sample = tree_memory(tree)
            rss, pss = max(rss, sample[0]), max(pss, sample[1])
            time.sleep(SAMPLE_EVERY)
    lines = out.read_text().splitlines()
    if process.returncode or not lines:
        raise RuntimeError(f"case {name} failed ({process.returncode}):\n"
                           + err.read_text()[-3000:])
    noise = err.read_text().splitlines()
    if noise:  # warnings the code logged: worth seeing, not fatal
        print(f"    ({name}: {len(noise)} lines on stderr, first: {noise[0][:160]})")
    data = json.loads(lines[-1])
    return Measured(data["elapsed"], data["cpu"], data["hwm_mb"], rss / 2**20, pss / 2**20,
                    data)


def descendants(root: int) -> list[int]:
    """`root` and every process descending from it (the forkserver, the parse workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the command name may hold spaces: the ppid is the 2nd field after ")"
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += children.get(pid, [])
    return found


def tree_memory(pids: list[int]) -> tuple[int, int]:
    """Bytes resident in processes: RSS summed, and PSS summed.

    Summed RSS counts the pages they share (the forkserver's preloaded modules) once
    per process; PSS splits them among the sharers.
    """
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            found = re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup")
                              .read_text(), re.M)
            pss += int(found.group(1)) * 1024 if found else 0
    return rss, pss


def tree_cpu(root: int) -> float:
    """CPU seconds used by `root` and its descendants, living or reaped.

    A worker that exited was reaped by its parent (the forkserver), whose
    cutime and cstime then hold its time.
    """
    ticks = 0
    for pid in descendants(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def timed(result: dict[str, Any]) -> Iterator[None]:
    """Set result["elapsed"] and result["cpu"] (of this process tree) for the block."""
    cpu, started = tree_cpu(os.getpid()), time.perf_counter()
    yield
    result["elapsed"] = time.perf_counter() - started
    result["cpu"] = tree_cpu(os.getpid()) - cpu


PAGE = os.sysconf("SC_PAGE_SIZE")


# --- configuration files ------------------------------------------------------------

def feed_name(index: int, style: str = "prose") -> str:
    return f"{corpus.blog(index, style).title} #{index}"


def write_config(directory: Path, feeds: list[dict[str, Any]], **settings: Any) -> Path:
    """A feeds.yaml (written as JSON, which YAML reads) with the benchmark's settings."""
    directory.mkdir(parents=True, exist_ok=True)
    values = {"database": "bench.db", "output_dir": "public", "title": "Veille du banc",
              "base_url": "http://127.0.0.1:8080/", "timezone": "Europe/Paris",
              "language": "fr", "poll_interval": "1h", **SETTINGS, **settings}
    path = directory / "feeds.yaml"
    path.write_text(json.dumps({"settings": values, "feeds": feeds}, ensure_ascii=False,
                               indent=1), "utf-8")
    return path


def feed_list(count: int, url: Callable[[int], str],
              style: str = "prose") -> list[dict[str, Any]]:
    return [{"name": feed_name(i, style), "url": url(i), "tags": list(corpus.blog(i).tags)}
            for i in range(count)]


# --- the run --------------------------------------------------------------------------

POLL_CASES = (
    ("first", "first poll: fetch, parse, clean, dedup, store", True, 1),
    ("304", "nothing changed, the server answers 304", True, 1),
    ("same", "same bytes re-sent without 304", False, 1),
    ("new10", "10% of feeds with one new entry", True, 2),
)


@dataclass
class StyleRun:
    """What was measured on one style's corpus."""

    style: str
    corpus: str = ""
    stats: dict[str, Any] = field(default_factory=dict)  # corpus_stats
    floor: Measured | None = None
    ours: dict[str, Measured] = field(default_factory=dict)
    reader: dict[str, Measured] = field(default_factory=dict)
    dedup: dict[str, Any] = field(default_factory=dict)  # dedup_lookup.py's results
    dedup_note: str = ""


@dataclass
class Run:
    """Everything measured, for the tables."""

    count: int
    styles: dict[str, StyleRun] = field(default_factory=dict)
    reader_note: str | None = None
    hostile: dict[str, Measured] = field(default_factory=dict)
    render: dict[str, Measured] = field(default_factory=dict)
    render_note: str = ""
    render_repeat: int = 3
    dedup_sizes: tuple[int, int, int] = (10_000, 200_000, 5)  # small, large, rounds


def reader_available() -> str | None:
    """None when reader can be imported here, else why not."""
    probe = subprocess.run([sys.executable, "-c", "import reader"], capture_output=True,
                           text=True)
    return None if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1]


def poll_cases(styled: StyleRun, count: int, work: Path, server: FeedServer,
               with_reader: bool) -> None:
    """The four poll cases, ours then reader's, on one database each."""
    feeds = feed_list(count, lambda i: server.url(f"/feeds/{i}.xml"), styled.style)
    directory = work / styled.style
    config = write_config(directory / "ours", feeds)
    urls = [f["url"] for f in feeds]
    for key, label, validators, generation in POLL_CASES:
        server.switch(validators, generation)
        styled.ours[key] = progress(f"ours: {label}", work, "poll", config_path=str(config))
        if with_reader:
            styled.reader[key] = progress(f"reader: {label}", work, "reader",
                                          database=str(directory / "reader.sqlite"), urls=urls)
    server.switch(True, 1)


def hostile_cases(run: Run, work: Path, server: FeedServer) -> None:
    """One fetch of a normal feed, of a 20 MB body and of a gzip bomb."""
    for name in ("f0", *HOSTILE):
        path = "/feeds/0.xml" if name == "f0" else f"/{name}"
        run.hostile[name] = progress(f"hostile: one fetch of {path}", work, "hostile",
                                     url=server.url(path))


def dedup_lookup(styled: StyleRun, small: int, large: int, rounds: int) -> None:
    """dedup_lookup.py on the style's texts, in its own process, its lines echoed."""
    command = [sys.executable, str(HERE / "dedup_lookup.py"), "--style", styled.style,
               "--small", str(small), "--large", str(large), "--rounds", str(rounds), "--json"]
    print(f"  dedup lookup ({styled.style}): {small:,} then {large:,} entries stored …",
          flush=True)
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        assert process.stdout
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if not line.startswith("{"):
                print(f"    {lines[-1]}", flush=True)
    figures = next((line for line in reversed(lines) if line.startswith("{")), None)
    if process.returncode:
        # A copy missed or an article merged fails its quality check, after the figures.
        styled.dedup_note = f"failed ({process.returncode}): {lines[-1][-300:]}"
        print(f"    {styled.dedup_note}", flush=True)
    if figures:
        styled.dedup = {**json.loads(figures), "elapsed": time.perf_counter() - started}


def render_cases(run: Run, work: Path) -> None:
    """Full, then incremental render, with 2·N and 200·N entries stored."""
    count = run.count
    # The full render comes before the poll that adds the new posts (RENDER_END + 1 h)
    # and the incremental one after it, as in the daemon: it must find their day changed.
    first = (corpus.RENDER_END + timedelta(minutes=30)).isoformat()
    now = (corpus.RENDER_END + timedelta(hours=2)).isoformat()
    feeds = feed_list(count, lambda i: f"http://127.0.0.1:9/feeds/{i}.xml")
    sizes = {"small": 2 * count, "large": corpus.RENDER_PER_FEED * count}
    for size, entries in sizes.items():
        directory = work / f"render-{size}"
        cached = render_database(directory, feeds, count,
                                 None if size == "large" else entries)
        shutil.copyfile(cached, directory / "bench.db")
        config = write_config(directory, feeds, database="bench.db")
        run.render[f"{size}-full"] = progress(
            f"render: {entries:,} entries, first full render", work, "render",
            config_path=str(config), now=first)
        added = run_case(work, "add_posts", config_path=str(config), count=count)
        output, first_output = directory / "public", directory / "public-first"
        shutil.copytree(output, first_output)
        runs = []
        for repeat in range(run.render_repeat):
            shutil.rmtree(output)  # each run builds on the full render's output
            shutil.copytree(first_output, output)
            runs.append(progress(
                f"render: {entries:,} entries + {added.data['added']} new, render again "
                f"({repeat + 1}/{run.render_repeat})", work, "render",
                config_path=str(config), now=now))
        run.render[f"{size}-after"] = sorted(runs, key=lambda m: m.elapsed)[len(runs) // 2]
    run.render_note = (
        f"render databases: {count} feeds, {sizes['large']:,} entries "
        f"({corpus.RENDER_PER_FEED} a feed over {corpus.RENDER_DAYS} days, about "
        f"{sizes['large'] // corpus.RENDER_DAYS} a day) and its newest {sizes['small']:,} "
        f"(the last {corpus.RENDER_DAYS * sizes['small'] // sizes['large']} days or so); "
        f"then {count // corpus.CHANGED_EVERY} new entries on the latest day; the render "
        f"after them is the median (by wall time) of {run.render_repeat} runs")


def render_database(directory: Path, feeds: list[dict[str, Any]], count: int,
                    newest: int | None) -> Path:
    """A filled render database from the cache, built when missing."""
    key = source_hash(HERE / "bench_corpus.py", ROOT / "aggregator" / "store" / "schema.py",
                      ROOT / "aggregator" / "store" / "migrations",
                      ROOT / "aggregator" / "publish" / "trends.py")
    label = f"render-{count}-{newest or 'all'}"
    cached = _cache_dir() / f"{label}-{key}.db"
    if not cached.exists():
        for stale in CACHE.glob(f"{label}-*.db"):
            stale.unlink()
        building = directory / "building.db"
        config = write_config(directory, feeds, database=building.name)
        filled = progress(f"building the render database ({label}, cached afterwards)",
                          directory, "fill", config_path=str(config), count=count,
                          newest=newest)
        assert filled.data["entries"] == (newest or corpus.RENDER_PER_FEED * count)
        # Closing the store checkpointed the WAL: the .db file alone holds everything.
        assert not Path(f"{building}-wal").exists()
        shutil.move(building, cached)
    directory.mkdir(parents=True, exist_ok=True)
    return cached


def progress(label: str, work: Path, name: str, **arguments: Any) -> Measured:
    """Run a case, saying what and how long."""
    print(f"  {label} …", end="", flush=True)
    result = run_case(work, name, **arguments)
    print(f" {result.elapsed:.2f} s (CPU {result.cpu:.2f} s), peak {result.hwm_mb:.0f} MB"
          + (f" (tree {result.tree_mb:.0f} MB)" if result.tree_mb > result.hwm_mb * 1.2
             else ""), flush=True)
    return result


# --- the table ------------------------------------------------------------------------

def verdict(ok: bool, figure: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} ({figure})"


HEADER = ["case", "ours s", "ours CPU s", "reader s", "reader CPU s", "ours ÷ floor",
          "ours ÷ reader", "peak RSS MB", "with workers MB", "reader peak MB",
          "comparisons / new entry (mean / max)", "target", "result"]


def row(label: str, ours: Measured | None = None, theirs: Measured | None = None,
        floor: float | None = None, workers: bool = False, target: str = "",
        result: str = "", compared: str = "") -> list[str]:
    """One line of the table; blank where a figure does not apply."""
    def figure(measured: Measured | None, value: Callable[[Measured], float],
               form: str) -> str:
        return format(value(measured), form) if measured else ""

    return [
        label, figure(ours, lambda m: m.elapsed, ".2f"), figure(ours, lambda m: m.cpu, ".2f"),
        figure(theirs, lambda m: m.elapsed, ".2f"), figure(theirs, lambda m: m.cpu, ".2f"),
        format(ours.elapsed / floor, ".3f") if ours and floor else "",
        format(ours.elapsed / theirs.elapsed, ".2f") if ours and theirs else "",
        figure(ours, lambda m: m.hwm_mb, ".0f"),
        figure(ours, lambda m: m.tree_mb, ".0f") if workers else "",
        figure(theirs, lambda m: m.hwm_mb, ".0f"), compared, target, result,
    ]


def compared(summary: dict[str, Any] | None) -> str:
    """A comparisons column: "9.3 / 16"."""
    if not summary:
        return ""
    if "missing" in summary:
        return "n/a"
    return f"{summary['mean']:.1f} / {summary['max']}" if summary["entries"] else "none"


def tables(run: Run) -> list[str]:
    """One markdown table per style (its polls and dedup lookups), then one for the
    render and hostile cases, which do not depend on the style."""
    lines = []
    for styled in run.styles.values():
        if styled.floor:
            lines += [f"### Style: {styled.style}", "", *markdown([HEADER, *poll_rows(styled)]),
                      "", *details(styled), ""]
    rows = render_rows(run) if run.render else []
    labels = {"f0": "one fetch: a normal feed", "huge.xml": "one fetch: a 20 MB body",
              "bomb.gz": "one fetch: a 1 GB gzip bomb (1 MB sent)"}
    for name, measured in run.hostile.items():
        rows.append(row(labels[name], measured, result=measured.data["error"] or "ok"))
    if rows:
        lines += ["### Render and hostile bodies (the same for every style)", "",
                  *markdown([HEADER, *rows]), ""]
    return lines


def poll_rows(styled: StyleRun) -> list[list[str]]:
    """The floor, the four polls, memory, comparisons, copies and dedup lookups of a style."""
    assert styled.floor
    floor = styled.floor.elapsed
    rows = [row("floor: feedparser alone, every document once", styled.floor, None, floor)]
    targets = {"first": ("≤ 0.65 × floor", 0.65), "304": ("≤ reader", None),
               "same": ("≤ 0.10 × floor", 0.10), "new10": ("≤ 0.10 × floor", 0.10)}
    for key, label, _, _ in POLL_CASES:
        ours, theirs = styled.ours[key], styled.reader.get(key)
        target, limit = targets[key]
        if limit is not None:
            result = verdict(ours.elapsed <= limit * floor, f"{ours.elapsed / floor:.2f}×")
        elif theirs:
            result = verdict(ours.elapsed <= theirs.elapsed,
                             f"{ours.elapsed / theirs.elapsed:.2f}×")
        else:
            result = "n/a (reader not run)"
        rows.append(row(label, ours, theirs, floor, True, target, result,
                        compared(ours.data.get("comparisons"))))
    first = styled.ours["first"]
    rows.append(row("first poll, peak memory (process + parse workers, sampled)", None,
                    target="< 200 MB", result=verdict(
                        first.tree_mb < 200, f"{first.tree_mb:.0f} MB RSS summed; "
                        f"{first.tree_pss_mb:.0f} MB PSS summed")))
    return [*rows, comparisons_row(styled), copies_row(styled), *dedup_rows(styled)]


def comparisons_row(styled: StyleRun) -> list[str]:
    """The target on the copy search: full comparisons per new entry, first poll and 10% new."""
    summaries = [styled.ours[key].data.get("comparisons") or {} for key in ("first", "new10")]
    label = "copy search: full comparisons per new entry, first poll and 10% new"
    if any("missing" in s for s in summaries):
        return row(label, target=f"max ≤ {COMPARISONS_MAX}",
                   result=f"n/a ({summaries[0].get('missing') or summaries[1]['missing']})")
    worst = max(s.get("max", 0) for s in summaries)
    figure = "; ".join(f"{name}: {comparisons.describe(s)}"
                       for name, s in zip(("first poll", "10% new"), summaries, strict=True))
    return row(label, target=f"max ≤ {COMPARISONS_MAX}",
               result=verdict(worst <= COMPARISONS_MAX, figure))


def copies_row(styled: StyleRun) -> list[str]:
    """Copies of another feed's entry the first poll found, against what a correct dedup finds."""
    found, expected = styled.ours["first"].data["duplicates"], styled.stats["expected"][1]
    return row("first poll: copies of another feed's entry found", target=f"= {expected} "
               "(relayed and re-published posts)",
               result=verdict(found == expected, f"{found} found, {expected} expected"))


def dedup_rows(styled: StyleRun) -> list[list[str]]:
    """dedup_lookup.py: the cost of a new entry at two table sizes, and their ratio."""
    label = "dedup lookup (dedup_lookup.py): cost per new entry"
    if not styled.dedup:
        return [row(label, result=styled.dedup_note or "not run")] if styled.dedup_note else []
    data = styled.dedup
    rows = [row(f"{label}, {data[size]:,} stored", compared=compared(data[f"at_{size}"][
        "comparisons"]), result=f"{data[f'at_{size}']['cost'] * 1000:.2f} ms "
        f"(filled in {data[f'fill_{size}_s']:.0f} s)") for size in ("small", "large")]
    rows.append(row(f"{label}: {data['large']:,} ÷ {data['small']:,} stored", target="≤ 1.3",
                    result=verdict(data["ratio"] <= 1.3, f"{data['ratio']:.2f}×")))
    filed = {size: data[f"at_{size}"]["filed"] for size in ("small", "large")}
    right = all(set(f) <= {"copy found", "new"} for f in filed.values())
    rows.append(row("dedup lookup: every copy found, nothing else merged",
                    target="all", result=verdict(right, "; ".join(
                        f"{data[size]:,} stored: " + ", ".join(
                            f"{n} {how}" for how, n in sorted(f.items()))
                        for size, f in filed.items()))))
    return rows


def render_rows(run: Run) -> list[list[str]]:
    small, large = 2 * run.count, corpus.RENDER_PER_FEED * run.count
    added = run.count // corpus.CHANGED_EVERY
    rows = []
    for size, entries in (("small", small), ("large", large)):
        full = run.render[f"{size}-full"]
        rows.append(row(f"render, {entries:,} entries: first full render "
                        f"({full.data['days']} days)", full,
                        result=f"{full.data['written']} files written"))
    before, after = run.render["small-after"], run.render["large-after"]
    ratio = after.elapsed / before.elapsed
    rows.append(row(f"render, {small:,} entries, after {added} new", before,
                    result=f"{before.data['written']} files written, day pages "
                    f"rendered: {before.data['rendered_days']}"))
    rows.append(row(f"render, {large:,} entries, after {added} new", after,
                    target=f"≤ 1.5 × the {small:,} case",
                    result=verdict(ratio <= 1.5, f"{ratio:.2f}×, {after.data['written']} "
                                   f"files written, day pages rendered: "
                                   f"{after.data['rendered_days']}")))
    return rows


def markdown(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return [lines[0], rule, *lines[1:]]


def details(styled: StyleRun) -> list[str]:
    """What each poll did, to check the times measure what they claim."""
    lines = []
    expected = styled.stats["expected"]
    for who, results in (("ours", styled.ours), ("reader", styled.reader)):
        for key, label, _, generation in POLL_CASES:
            if key not in results:
                continue
            data = results[key].data
            errors = f"; errors: {data['errors']}" if data["errors"] else ""
            # The 304 and same-bytes polls add nothing: no copy to find.
            copies = (f" ({expected[generation]} expected)" if key in ("first", "new10")
                      else "")
            lines.append(f"- {who}, {label}: {data['outcomes']}, {data['new']} new, "
                         f"{data['updated']} updated"
                         + (f", {data['duplicates']} copies of another feed's entry{copies}"
                            if "duplicates" in data else "")
                         + f"; {data['stored']} entries stored{errors}")
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    versions = []
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()} "
            f"(load average over 1, 5, 15 min at the end: {load}); "
            f"Python {platform.python_version()}; " + ", ".join(versions))


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if not git("status", "--porcelain", "--", "aggregator", "templates"):
        return commit
    # Several people work in one tree: name the uncommitted state the run measured.
    state = git("status", "--porcelain", "--", "aggregator", "templates") + git(
        "diff", "HEAD", "--", "aggregator", "templates")
    return (f"{commit} + uncommitted changes in aggregator/ or templates/ "
            f"(state sha256 {hashlib.sha256(state.encode()).hexdigest()[:10]})")


def code_line(at_start: str, at_end: str) -> str:
    """The code measured; a tree that changed during the run is said to have."""
    if at_start == at_end:
        return f"- code: commit {at_end}"
    # Each case imports the code when its process starts: they may have run different code.
    return (f"- code: **the tree changed during the run**, from commit {at_start} to "
            f"commit {at_end}; cases may have measured different code")


def report(run: Run, started: datetime, elapsed: float, code_at_start: str) -> list[str]:
    """The section printed and appended to RESULTS.md."""
    polled = [styled for styled in run.styles.values() if styled.floor]
    reader = ("reader: a fresh database, add_feed for each URL, update_feeds_iter("
              "scheduled=False), its defaults otherwise (1 worker)"
              if any(styled.reader for styled in polled)
              else f"reader: not run ({run.reader_note})")
    polls = [
        *(f"- corpus, {styled.corpus}" for styled in polled),
        "- each corpus served from 127.0.0.1 by a separate process "
        "(HTTP/1.1, ETag and Last-Modified; in the \"same bytes\" case the server ignores "
        "If-None-Match/If-Modified-Since and re-sends every body with its ETag)",
        "- ours: update_feeds(store, make_session(), config, now, force=True) (what "
        "`aggregator fetch --force` runs) on SQLite, settings "
        + ", ".join(f"{k} {v}" for k, v in SETTINGS.items()) + "; the four cases in order "
        "on one database per style; " + reader,
        "- comparisons / new entry: calls of same_article (aggregator.store.copies) made by each "
        "_find_copy call (one a new entry looked up), counted in the case's process "
        "(comparisons.py)",
    ] if polled else []
    small, large, rounds = run.dedup_sizes
    dedup = [f"- dedup lookup: benchmarks/dedup_lookup.py --style S --small {small} "
             f"--large {large} --rounds {rounds}: the median cost of saving a new entry "
             f"(feeds of {200} entries, half copies) at each size; every copy must be found "
             "and nothing else merged"] if any(s.dedup or s.dedup_note
                                                for s in run.styles.values()) else []
    styles = " and ".join(run.styles) or "render only"
    command = f"make bench N={run.count}" if polled else (
        f"benchmarks/bench.py --feeds {run.count} --only render")
    return [
        f"## Bench: {run.count} feeds, {styles} — {started:%Y-%m-%d %H:%M} UTC", "",
        f"`{command}` (benchmarks/bench.py).", "",
        f"- machine: {machine()}",
        code_line(code_at_start, git_commit()),
        *polls, *dedup,
        "- each case in a fresh process; peak RSS is its VmHWM; \"with workers\" is the "
        f"peak of its process tree's summed RSS (pages shared by the workers counted in each; "
        f"the memory row also gives PSS), sampled every {SAMPLE_EVERY * 1000:.0f} ms; "
        "CPU s is the user + system time of the process and its workers during the timed "
        "call (less disturbed than wall time by other load on the machine); targets are on "
        "wall time",
        *([f"- {run.render_note}; render_site timed, the new entries added through "
           "Store.save_poll beforehand"] if run.render_note else []),
        f"- whole run: {elapsed / 60:.1f} min", "",
        *tables(run),
    ]


# --- main -----------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(Path(sys.argv[2]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "case":
        run_case_here(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000, help="N, the number of feeds")
    parser.add_argument("--no-reader", action="store_true", help="skip lemon24's reader")
    parser.add_argument("--no-render", action="store_true", help="skip the render cases")
    parser.add_argument("--only", choices=("render",),
                        help="run only these cases (render: no corpus, floor or polls)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each render after new entries (the median counts)")
    parser.add_argument("--no-append", action="store_true",
                        help=f"print only; do not append to {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--style", choices=(*corpus.STYLES, "both"), default="both",
                        help="the corpus style(s) polled (bench_corpus.py; default both)")
    parser.add_argument("--no-dedup", action="store_true",
                        help="skip dedup_lookup.py (the cost of a new entry as the table grows)")
    parser.add_argument("--dedup-small", type=int, default=10_000)
    parser.add_argument("--dedup-large", type=int, default=200_000)
    parser.add_argument("--dedup-rounds", type=int, default=5)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    started, clock, code = datetime.now(UTC), time.perf_counter(), git_commit()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    run = Run(args.feeds, render_repeat=args.repeat,
              dedup_sizes=(args.dedup_small, args.dedup_large, args.dedup_rounds))
    try:
        if args.only == "render":
            render_cases(run, work)
        else:
            styles = corpus.STYLES if args.style == "both" else (args.style,)
            measure(run, work, styles, with_reader=not args.no_reader,
                    with_render=not args.no_render, with_dedup=not args.no_dedup)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    section = report(run, started, time.perf_counter() - clock, code)
    print("\n" + "\n".join(section))
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as results:
            if results.tell() == 0:  # the same preamble soak.py writes
                results.write("# Benchmark results\n\nEach benchmark appends a dated "
                              "section here; newest last.\n\n")
            results.write("\n" + "\n".join(section))
        print(f"appended to {RESULTS}")


def measure(run: Run, work: Path, styles: tuple[str, ...], with_reader: bool,
            with_render: bool, with_dedup: bool) -> None:
    """For each style: build or reuse its corpus, run the floor and the polls, then the
    dedup lookups; the hostile fetches and the render cases once."""
    run.reader_note = reader_available() if with_reader else "--no-reader"
    for style in styles:
        styled = run.styles[style] = StyleRun(style)
        print(f"{style} corpus of {run.count} feeds …", flush=True)
        directory = build_corpus(run.count, style)
        styled.corpus = describe_corpus(directory, run.count, style)
        styled.stats = corpus_stats(directory)
        print(f"  {styled.corpus}")
        styled.floor = progress(f"floor ({style}): feedparser alone", work, "floor",
                                directory=str(directory / "gen1"))
        server = FeedServer(directory)
        try:
            poll_cases(styled, run.count, work, server,
                       with_reader and run.reader_note is None)
            if not run.hostile:
                hostile_cases(run, work, server)
        finally:
            server.close()
    if with_dedup:
        for styled in run.styles.values():
            dedup_lookup(styled, *run.dedup_sizes)
    if with_render:
        render_cases(run, work)


if __name__ == "__main__":
    main()
