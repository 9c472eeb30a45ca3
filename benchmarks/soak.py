"""Soak test: the real `aggregator run` daemon polls changing loopback feeds for many
cycles; its memory must stay flat.

Usage: .venv/bin/python benchmarks/soak.py [--feeds 200] [--cycles 15] [--no-results]

A feed server in its own process (so it does not share the daemon's cores' GIL with
the sampler) serves `--feeds` blogs. On each poll of a feed it decides, from a seed
of the feed and the poll number, whether the blog published a new post (about one
poll in ten; a few KB of French HTML with images, links, a tracking pixel and a
script to strip) or edited an old one. Most polls answer 304 to the ETag; some feeds
send no validators (same bytes again), some are Atom or JSON Feed, some gzip; a few
always answer 500 or 404, a few fail one poll in four (500, or an HTML page instead
of the feed), one answers too late now and then (the timeout), and some republish
another blog's posts with tracking parameters (cross-feed de-duplication).

The daemon (`aggregator run --tick 0.5 --serve 127.0.0.1:0`, poll_interval 2 s) runs
until the server has answered feeds x cycles polls, while this process samples every
0.2 s the daemon's VmRSS and the RSS summed over its process tree (the parse workers
of update.py's process pool, the forkserver) and fetches its pages, /healthz and
/metrics as a feed reader and a monitor would. The run is cut in tenths by poll count;
the requirement is a peak RSS in the last tenth less than 10% above the first tenth's.
The daemon is stopped with SIGTERM and must exit 0. The figures are appended to
benchmarks/RESULTS.md unless --no-results.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import write_config  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SAMPLE = (ROOT / "tests" / "data" / "blog-metier.rss").read_text("utf-8")
# Real French words from a real post, so the text looks like the trade's blogs and
# every post is different (identical texts would all be merged as one article).
WORDS = sorted(set(re.findall(r"[A-Za-zÀ-ÿœ’']{3,}", re.sub(r"<[^>]+>", " ", SAMPLE))))
WINDOW = 10  # entries a feed document carries, like most blogs' feeds
TIMEOUT = 3  # settings.timeout; the slow feed answers later than this
SAMPLE_EVERY = 0.2


# --- the feed server (its own process) ---------------------------------------------


def french_text(rng: random.Random, paragraphs: int) -> list[str]:
    """Paragraphs of random French words, sentences capitalized and stopped."""
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(WORDS, k=rng.randint(8, 18))
            sentences.append(" ".join(words).capitalize() + rng.choice([".", ".", " !", " ?"]))
        out.append(" ".join(sentences))
    return out


@dataclass
class Post:
    """One blog post as its blog publishes it."""

    serial: int
    title: str
    html: str
    published: datetime
    edits: int = 0


@dataclass
class Blog:
    """One synthetic blog: its kind decides how its server misbehaves."""

    index: int
    kind: str  # normal, novalidators, broken, missing, flaky, slow, mirror
    fmt: str  # rss, atom, json
    gzip: bool
    posts: list[Post] = field(default_factory=list)
    polls: int = 0
    serial: int = 0
    body: bytes = b""
    etag: str = ""
    version: int = -1  # of posts, when `body` was made

    @property
    def home(self) -> str:
        return f"https://blog{self.index}.example/"


def blog_kind(index: int, count: int) -> str:
    if index % 50 == 7:
        return "broken"  # 500 on every poll: exponential back-off
    if index % 50 == 17:
        return "missing"  # 404 on every poll
    if index % 25 == 3:
        return "flaky"  # one poll in four fails
    if index == min(42, count - 1):
        return "slow"  # one poll in five answers after the timeout
    if index % 20 == 10:
        return "mirror"  # republishes blog index-1's posts
    if index % 10 == 5:
        return "novalidators"  # no ETag: the same bytes come back, hashed as unchanged
    return "normal"


def make_post(blog: Blog, published: datetime) -> Post:
    """A post of a few KB: paragraphs, a lazy image, a tracking pixel, a script, a footer."""
    blog.serial += 1
    rng = random.Random(f"post-{blog.index}-{blog.serial}")
    paragraphs = french_text(rng, rng.randint(6, 10))
    title = " ".join(rng.choices(WORDS, k=rng.randint(4, 9))).capitalize()
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[:3])
    html += (f'<p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
             f'data-src="/images/{blog.serial}.jpg" alt="illustration"></p>'
             f'<script>alert("pub")</script>')
    html += "".join(f"<p>{escape(p)}</p>" for p in paragraphs[3:])
    html += (f'<p>À lire aussi : <a href="/billet/{blog.serial - 1}">le billet précédent</a>.'
             f'<img src="https://stats{blog.index}.example/pixel.gif" width="1" height="1">'
             f"</p><p>Cet article a été publié sur le blog {blog.index}. Abonnez-vous à la "
             f"lettre du blog {blog.index} pour ne rien manquer.</p>"
             f"<p>The post {escape(title)} appeared first on Blog {blog.index}.</p>")
    return Post(blog.serial, title, html, published)


def render_blog(blog: Blog, posts: list[Post], mirror_of: Blog | None) -> bytes:
    """The blog's feed document in its format."""
    items = []
    for post in reversed(posts):
        link = f"{blog.home}billet/{post.serial}"
        guid = f"blog{blog.index}-{post.serial}"
        title = post.title
        if mirror_of is not None:  # the source's article, with tracking and a site name
            link = (f"{mirror_of.home}billet/{post.serial}"
                    f"?utm_source=rss&utm_medium=blog{blog.index}")
            guid = f"miroir{blog.index}-{post.serial}"
            title = f"{post.title} | Blog {blog.index}"
        html = post.html + "".join(f"<p>Mise à jour {n + 1} : précision ajoutée.</p>"
                                   for n in range(post.edits))
        items.append((title, link, guid, post.published, html))
    name = f"Blog {blog.index} du métier"
    if blog.fmt == "json":
        return json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": name,
            "home_page_url": blog.home, "language": "fr",
            "items": [{"id": g, "url": u, "title": t, "content_html": h,
                       "date_published": p.isoformat()} for t, u, g, p, h in items]},
            ensure_ascii=False).encode()
    if blog.fmt == "atom":
        entries = "".join(
            f"<entry><title>{escape(t)}</title><link href='{escape(u)}'/><id>urn:{g}</id>"
            f"<updated>{p.isoformat()}</updated><author><name>Auteur {blog.index}</name>"
            f"</author><content type='html'>{escape(h)}</content></entry>"
            for t, u, g, p, h in items)
        return ("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'"
                f" xml:lang='fr'><title>{name}</title><link href='{blog.home}'/>"
                f"<id>{blog.home}</id><updated>{datetime.now(UTC).isoformat()}</updated>"
                f"{entries}</feed>").encode()
    rss_items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<guid isPermaLink='false'>{g}</guid><pubDate>{format_datetime(p)}</pubDate>"
        f"<category>community management</category>"
        f"<content:encoded><![CDATA[{h}]]></content:encoded></item>"
        for t, u, g, p, h in items)
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
            f"<title>{name}</title><link>{blog.home}</link><language>fr</language>"
            f"<description>{name}</description>{rss_items}</channel></rss>").encode()


class Blogs:
    """Every blog's state, and what the server answered, behind one lock.

    Time is compressed: a blog's n-th poll stands for its n-th day, and a post it
    publishes then is dated that day (in the past: the run ends today). So the
    day pages keep the size a real day gives them while history accumulates, as
    in months of real running; except for the Atom blogs, whose entries carry
    `<updated>` but no `<published>`: the aggregator files them on the day it first
    sees them, so they all pile onto today's page (about 700 entries after the
    first poll, 1,000 after 40 cycles). With `same_day`, new posts are dated now
    and the whole run piles onto today's page.
    """

    def __init__(self, count: int, cycles: int, same_day: bool) -> None:
        self.lock = threading.Lock()
        self.stats: dict[str, int] = {}
        self.same_day = same_day
        self.day0 = datetime.now(UTC) - timedelta(days=cycles + 2)
        self.blogs = [Blog(i, blog_kind(i, count), ("atom", "json", "rss", "rss")[i % 4]
                           if i % 7 else "atom", gzip=i % 3 == 0) for i in range(count)]
        for blog in self.blogs:
            # The first poll finds a full window: a post every ten days, blogs staggered
            # so that each day of the history has posts from a tenth of them.
            start = self.day0 + timedelta(days=blog.index % 10, hours=blog.index % 9)
            blog.posts = [make_post(blog, start - timedelta(days=10 * (WINDOW - n)))
                          for n in range(WINDOW)]

    def post_date(self, blog: Blog) -> datetime:
        now = datetime.now(UTC)
        if self.same_day:
            return now
        day = self.day0 + timedelta(days=blog.polls - 1, hours=blog.index % 9)
        return min(day, now - timedelta(minutes=1))

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def poll(self, index: int) -> tuple[int, Blog, bytes, float]:
        """Advance the blog one poll; the status, the blog, the body and a delay."""
        with self.lock:
            blog = self.blogs[index]
            blog.polls += 1
            self.count("polls")
            rng = random.Random(f"poll-{index}-{blog.polls}")
            if blog.kind != "mirror" and blog.polls > 1:
                self._publish(blog, rng)
            if blog.kind == "broken" or (blog.kind == "flaky" and blog.polls % 4 == 2):
                self.count("500")
                return 500, blog, b"<h1>Erreur interne</h1>", 0.0
            if blog.kind == "missing":
                self.count("404")
                return 404, blog, b"<h1>Page introuvable</h1>", 0.0
            if blog.kind == "flaky" and blog.polls % 4 == 0:
                self.count("not a feed")
                return 200, blog, b"<html><body><h1>Maintenance</h1></body></html>", 0.0
            delay = TIMEOUT + 1.0 if blog.kind == "slow" and blog.polls % 5 == 0 else 0.0
            if delay:
                self.count("timeout")
            mirror_of = self.blogs[index - 1] if blog.kind == "mirror" else None
            posts = (mirror_of or blog).posts
            version = sum(p.serial + p.edits for p in posts)
            if version != blog.version:
                blog.body = render_blog(blog, posts, mirror_of)
                blog.etag = '"' + hashlib.md5(blog.body).hexdigest() + '"'
                blog.version = version
            return 200, blog, blog.body, delay

    def _publish(self, blog: Blog, rng: random.Random) -> None:
        """About one poll in ten, a new post; one in fifty, an edited one."""
        roll = rng.random()
        if roll < 0.1:
            blog.posts = [*blog.posts, make_post(blog, self.post_date(blog))][-WINDOW:]
            self.count("new posts")
        elif roll < 0.12:
            rng.choice(blog.posts).edits += 1
            self.count("edited posts")


def serve(count: int, cycles: int, same_day: bool) -> None:
    """Serve `count` blogs at /blog/<n> on a free loopback port; print the port."""
    blogs = Blogs(count, cycles, same_day)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def handle(self) -> None:
            # The poller hangs up on the slow feed, mid-answer or between requests.
            with contextlib.suppress(ConnectionError):
                super().handle()

        def do_GET(self) -> None:
            if self.path == "/_stats":
                with blogs.lock:
                    self._send(200, json.dumps(blogs.stats).encode(), "application/json")
                return
            match = re.fullmatch(r"/blog/(\d+)", self.path)
            if not match or int(match.group(1)) >= count:
                self._send(404, b"", "text/plain")
                return
            status, blog, body, delay = blogs.poll(int(match.group(1)))
            if delay:
                time.sleep(delay)
            if status != 200:
                self._send(status, body, "text/html; charset=utf-8")
                return
            if blog.kind != "novalidators" and self.headers.get("If-None-Match") == blog.etag:
                with blogs.lock:
                    blogs.count("304")
                self.send_response(304)
                self.send_header("ETag", blog.etag)
                self.end_headers()
                return
            with blogs.lock:
                blogs.count("200")
            kind = {"rss": "application/rss+xml", "atom": "application/atom+xml",
                    "json": "application/feed+json"}[blog.fmt]
            headers = {} if blog.kind == "novalidators" else {"ETag": blog.etag}
            if blog.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body, 6)
                headers["Content-Encoding"] = "gzip"
            self._send(200, body, kind, headers)

        def _send(self, status: int, body: bytes, kind: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


# --- the soak (this process) ------------------------------------------------------


@dataclass
class Sample:
    """One look at the daemon."""

    elapsed: float
    polls: int
    rss: int  # kB, the daemon alone
    anon: int  # kB, of which the heap and other private memory (the rest: mapped files)
    tree: int  # kB, the daemon and all its descendants


def read_kb(pid: int, key: str) -> int:
    """A `VmRSS:`-style line of /proc/<pid>/status, in kB; 0 once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else 0


def descendants(pid: int) -> list[int]:
    """Every process under `pid`: the forkserver, its parse workers, their trackers."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: split after the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET on loopback; the status and the body (304 and errors included)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


class Watcher:
    """Samples the daemon's memory and plays feed reader and monitor against it."""

    def __init__(self, daemon: subprocess.Popen[str], feeds_url: str) -> None:
        self.daemon = daemon
        self.feeds_url = feeds_url
        self.site_url = ""
        self.samples: list[Sample] = []
        self.reader_errors: list[str] = []
        self.reader_gets = 0
        self.stop = threading.Event()
        self.started = time.monotonic()

    def polls(self) -> int:
        return int(json.loads(get(self.feeds_url + "_stats")[1]).get("polls", 0))

    def sample(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY):
            rss = read_kb(self.daemon.pid, "VmRSS")
            anon = read_kb(self.daemon.pid, "RssAnon")
            tree = rss + sum(read_kb(p, "VmRSS") for p in descendants(self.daemon.pid))
            self.samples.append(Sample(time.monotonic() - self.started, self.polls(), rss,
                                       anon, tree))

    def read_site(self) -> None:
        """Once a second, what a feed reader and a monitor ask the daemon's server."""
        etags: dict[str, str] = {}
        while not self.stop.wait(1.0):
            if not self.site_url:
                continue
            for path in ("atom.xml", "rss.xml", "feed.json", "index.html", "healthz",
                         "metrics"):
                headers = {"Accept-Encoding": "gzip"}
                if path in etags:
                    headers["If-None-Match"] = etags[path]
                request = urllib.request.Request(self.site_url + path, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        response.read()
                        etags[path] = response.headers.get("ETag") or ""
                except urllib.error.HTTPError as exc:
                    if exc.code != 304 and not (exc.code == 404 and path != "healthz"):
                        self.reader_errors.append(f"{path}: HTTP {exc.code}")
                except OSError as exc:
                    self.reader_errors.append(f"{path}: {exc}")
                self.reader_gets += 1


def daemon_command(config: Path) -> list[str]:
    """The installed `aggregator` console script, as a user runs it."""
    script = Path(sys.executable).parent / "aggregator"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aggregator"]
    return [*command, "--log-format", "json", "--config", str(config), "run", "--tick", "0.5",
            "--serve", "127.0.0.1:0"]


def soak(work: Path, count: int, cycles: int, same_day: bool) -> dict[str, Any]:
    """Run the daemon until the server answered count x cycles polls; the figures."""
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(count), "--cycles",
                               str(cycles)] + (["--same-day"] if same_day else []),
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout
    feeds_url = f"http://127.0.0.1:{int(server.stdout.readline())}/"
    feeds = [{"name": f"Blog {i} du métier", "url": f"{feeds_url}blog/{i}",
              "tags": ["community management"] if i % 2 else ["réseaux sociaux"]}
             for i in range(count)]
    config = write_config(work, feeds, database="soak.db", poll_interval="2s",
                          timeout=f"{TIMEOUT}s", concurrency=8, per_host=8)
    log_path = work / "daemon.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen(daemon_command(config), stdout=subprocess.PIPE,
                                  stderr=log, text=True, cwd=work)
    watcher = Watcher(daemon, feeds_url)
    threads = [threading.Thread(target=watcher.sample, daemon=True),
               threading.Thread(target=watcher.read_site, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        assert daemon.stdout
        served = re.search(r"at (http://\S+/)", daemon.stdout.readline())
        assert served, "the daemon did not say where it serves"
        watcher.site_url = served.group(1)
        target = count * cycles
        # Generous: the machine may be busy with other work (it slows, it does not fail).
        deadline = time.monotonic() + 120 + cycles * count * 0.1
        while watcher.polls() < target:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died (exit {daemon.returncode}); see {log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"only {watcher.polls()} polls of {target} in time")
            time.sleep(0.5)
        metrics = get(watcher.site_url + "metrics")[1].decode()
        health = json.loads(get(watcher.site_url + "healthz")[1])
        hwm = read_kb(daemon.pid, "VmHWM")
        watcher.stop.set()
        for thread in threads:
            thread.join()
        stats = json.loads(get(feeds_url + "_stats")[1])
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        stop_seconds = time.monotonic() - stopping
    finally:
        for process in (daemon, server):
            if process.poll() is None:
                process.kill()
                process.wait()
    return {"samples": watcher.samples, "stats": stats, "metrics": metrics, "health": health,
            "hwm": hwm, "exit": code, "stop_seconds": stop_seconds,
            "reader_gets": watcher.reader_gets, "reader_errors": watcher.reader_errors,
            "log": log_path.read_text()}


@dataclass
class Tenth:
    """The samples taken while the server answered one tenth of the polls."""

    polls: tuple[int, int]  # the range of poll numbers
    seconds: tuple[float, float]
    samples: int
    rss: int  # peak, kB
    anon: int  # peak, kB
    tree: int  # peak, kB


def tenths(samples: list[Sample]) -> list[Tenth]:
    """The run cut in ten by poll count (polls come in bursts: time would cut unevenly)."""
    total = samples[-1].polls
    rows = []
    for k in range(10):
        low, high = k * total // 10, (k + 1) * total // 10
        part = [s for s in samples if low <= s.polls < high or (k == 9 and s.polls == total)]
        if part:
            rows.append(Tenth((low, high), (part[0].elapsed, part[-1].elapsed), len(part),
                              max(s.rss for s in part), max(s.anon for s in part),
                              max(s.tree for s in part)))
    return rows


def machine() -> str:
    """CPU, cores, Python and the commit measured (and whether aggregator/ had edits)."""
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "aggregator", "templates"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (f"{cpu.group(1) if cpu else platform.processor()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
            f"commit {commit}" + (" with uncommitted changes in aggregator/" if dirty else ""))


def report(result: dict[str, Any], count: int, cycles: int, same_day: bool
           ) -> tuple[str, bool]:
    """The figures as a Markdown section, and whether the requirements hold."""
    samples: list[Sample] = result["samples"]
    rows = tenths(samples)
    first, last = rows[0], rows[-1]
    growth = (last.rss - first.rss) / first.rss * 100
    tree_growth = (last.tree - first.tree) / first.tree * 100
    stats, log = result["stats"], result["log"]
    outcomes = re.findall(r'^aggregator_polls_total\{outcome="(\w+)"\} (\d+)$',
                          result["metrics"], re.M)
    tracebacks = log.count("Traceback")
    ok = growth < 10 and result["exit"] == 0 and tracebacks == 0
    command = f"benchmarks/soak.py --feeds {count} --cycles {cycles}"
    command += " --same-day" if same_day else ""
    # An allocator setting changes the figures: say so when one was given.
    tuning = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                      if k.startswith(("MALLOC_", "PYTHONMALLOC")))
    lines = [
        f"## Soak: {count} feeds, {stats['polls']} polls — "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`{tuning + ' ' if tuning else ''}.venv/bin/python {command}` on {machine()}.",
        "",
        f"The real daemon (`aggregator run --tick 0.5 --serve 127.0.0.1:0`, poll_interval "
        f"2 s, timeout {TIMEOUT} s) against {count} loopback blogs for "
        f"{samples[-1].elapsed:.0f} s; new posts dated "
        + ("now (all on today's page)" if same_day else "one day later each poll") + ". "
        "What the feed server answered: "
        + ", ".join(f"{v} {k}" for k, v in sorted(stats.items())) + ". "
        "The daemon's /metrics: " + ", ".join(f"{v} {k}" for k, v in outcomes) + "; "
        f"/healthz: {result['health']['feeds']} feeds, "
        f"{result['health']['entries_stored']} entries stored, "
        f"{result['health']['feeds_failing']} failing. Pages, feeds, /healthz and /metrics "
        f"fetched {result['reader_gets']} times meanwhile "
        f"({len(result['reader_errors'])} errors). SIGTERM: exit {result['exit']} "
        f"after {result['stop_seconds']:.1f} s; {tracebacks} tracebacks in the log.",
        "",
        "| tenth | polls | seconds | samples | peak RSS, daemon | of which anonymous "
        "| peak RSS, daemon + workers |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {n + 1} | {t.polls[0]}–{t.polls[1]} | {t.seconds[0]:.0f}–{t.seconds[1]:.0f} "
              f"| {t.samples} | {t.rss / 1024:.1f} MB | {t.anon / 1024:.1f} MB "
              f"| {t.tree / 1024:.1f} MB |" for n, t in enumerate(rows)]
    lines += [
        "",
        f"Peak RSS of the daemon, first tenth → last tenth: {first.rss / 1024:.1f} MB → "
        f"{last.rss / 1024:.1f} MB, **{growth:+.1f}%** (requirement: < +10%); with its parse "
        f"workers and forkserver: {first.tree / 1024:.1f} MB → {last.tree / 1024:.1f} MB "
        f"({tree_growth:+.1f}%; RSS summed, shared pages counted in each process). "
        # The first tenth holds the first poll and the first full render; the growth
        # after them tells a step at start from a creep that goes on.
        f"From the second tenth to the last: {rows[1].rss / 1024:.1f} MB → "
        f"{last.rss / 1024:.1f} MB ({(last.rss - rows[1].rss) / rows[1].rss * 100:+.1f}%). "
        f"VmHWM of the daemon at the end: {result['hwm'] / 1024:.1f} MB. "
        f"{len(samples)} samples, one every {SAMPLE_EVERY} s. "
        + ("Passed." if ok else "**Failed.**"),
        "",
    ]
    return "\n".join(lines), ok


def append_results(section: str) -> None:
    """Add a section to RESULTS.md, which other benchmarks share: never overwrite it."""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach benchmark appends a dated section "
                           "here; newest last.\n\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n" + section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=15,
                        help="run until the server answered feeds x cycles polls")
    parser.add_argument("--same-day", action="store_true",
                        help="date new posts now: the whole run piles onto today's page")
    parser.add_argument("--no-results", action="store_true",
                        help="print the figures without appending them to RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.cycles, args.same_day)
        return
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        result = soak(work, args.feeds, args.cycles, args.same_day)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    section, ok = report(result, args.feeds, args.cycles, args.same_day)
    print(section)
    if not args.no_results:
        append_results(section)
        print(f"appended to {RESULTS}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
