"""Several workers on one database: leases on feeds, and real `run` processes sharing PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from aggregator.config.load import load_config
from aggregator.models import PollRecord
from aggregator.poll.claims import release_dead_claims
from aggregator.poll.fetch import make_session
from aggregator.poll.pool import PROCESS_POOL_MIN_FEEDS, in_flight_limit, parse_pool
from aggregator.poll.prepare import parse_step
from aggregator.poll.run import update_feeds
from aggregator.poll.save import SAVE_GROUP
from aggregator.poll.workers import WORKER_NICENESS
from aggregator.store import Store
from tests.conftest import DATA, FeedServer, write_config

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def _feeds(store: Store, tmp_path: Path, count: int) -> list[str]:
    feeds = [{"name": f"blog {n}", "url": f"http://127.0.0.1:9/{n}"} for n in range(count)]
    store.sync_feeds(load_config(write_config(tmp_path, feeds)).feeds)
    return [f["name"] for f in feeds]


def test_a_claimed_feed_is_not_claimed_again_until_its_lease_ends(
        store: Store, tmp_path: Path) -> None:
    names = _feeds(store, tmp_path, 4)
    assert set(store.claim_feeds(names[:3], "a:1", NOW, LEASE)) == set(names[:3])
    assert set(store.claim_feeds(names, "b:2", NOW, LEASE)) == {names[3]}
    assert set(store.claim_feeds(names, "b:2", NOW + LEASE - timedelta(seconds=1), LEASE)) \
        == {names[3]}
    # A dead worker's feeds come back once its lease has run out.
    assert set(store.claim_feeds(names, "b:2", NOW + LEASE, LEASE)) == set(names)


def test_a_claim_reads_due_times_again(store: Store, tmp_path: Path,
                                       feed_server: FeedServer) -> None:
    """A worker whose list is stale does not poll a feed another worker just polled."""
    url = feed_server.set("/feed", (DATA / "blog-metier.rss").read_bytes())
    config = load_config(write_config(tmp_path, [{"name": "blog", "url": url}],
                                      database=str(store.engine.url)))
    update_feeds(store, make_session(), config, NOW, worker="a:1")
    assert set(store.claim_feeds(["blog"], "b:2", NOW, LEASE)) == set()
    assert set(store.claim_feeds(["blog"], "b:2", NOW, LEASE, due_only=False)) == {"blog"}
    assert len(feed_server.requests) == 1


def test_storing_a_poll_ends_its_lease(store: Store, tmp_path: Path,
                                       feed_server: FeedServer) -> None:
    url = feed_server.set("/feed", (DATA / "blog-metier.rss").read_bytes())
    config = load_config(write_config(tmp_path, [{"name": "blog", "url": url}],
                                      database=str(store.engine.url)))
    update_feeds(store, make_session(), config, NOW, worker="a:1")
    assert store.claim_holders() == set()
    # Forced, another worker may poll it at once: nobody holds it any more.
    assert set(store.claim_feeds(["blog"], "b:2", NOW, LEASE, due_only=False)) == {"blog"}


def test_a_stopped_worker_hands_back_what_it_did_not_fetch(
        store: Store, tmp_path: Path, feed_server: FeedServer) -> None:
    body = (DATA / "blog-metier.rss").read_bytes()
    feeds = [{"name": f"blog {n}", "url": feed_server.set(f"/f{n}", body)} for n in range(20)]
    config = load_config(write_config(tmp_path, feeds, database=str(store.engine.url),
                                      concurrency=2))
    stop = threading.Event()
    stop.set()  # asked to stop before its first fetch: it must not keep any lease
    assert update_feeds(store, make_session(), config, NOW, stop=stop, worker="a:1") == []
    assert store.claim_holders() == set()
    assert feed_server.requests == []


def test_leases_of_dead_local_workers_are_released(store: Store, tmp_path: Path) -> None:
    names = _feeds(store, tmp_path, 3)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    store.claim_feeds(names[:1], f"{host}:{dead.pid}", NOW, LEASE)
    store.claim_feeds(names[1:2], f"{host}:{os.getpid()}", NOW, LEASE)
    store.claim_feeds(names[2:], "another-machine:1", NOW, LEASE)
    release_dead_claims(store)
    # Alive here, or on a machine we cannot see: kept until the lease runs out.
    assert store.claim_holders() == {f"{host}:{os.getpid()}", "another-machine:1"}


# Three real workers, 300 growing feeds, one of them killed mid-cycle.

FEEDS = 300
INTERVAL = 3.0  # seconds between polls of a feed
WORKERS = 3


class GrowingFeeds:
    """300 feeds that gain one entry at each request, until frozen; logs every request."""

    def __init__(self) -> None:
        self.requests: dict[int, list[float]] = defaultdict(list)
        self.frozen = False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{n}"

    def served(self, n: int) -> int:
        """How many entries feed n's document holds now."""
        with self.lock:
            return len(self.requests[n]) + (0 if self.frozen else 1)

    def _body(self, n: int, entries: int) -> bytes:
        items = "".join(
            f"<item><title>Blog {n}, billet {k}</title>"
            f"<link>https://blog{n}.example/{k}</link>"
            f"<pubDate>{format_datetime(NOW - timedelta(hours=k))}</pubDate>"
            f"<description>Le billet {k} du blog {n} parle de modération, "
            f"de ligne éditoriale et de la communauté numéro {n * 1000 + k}."
            f"</description></item>"
            for k in range(entries))
        return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>Blog {n}</title><link>https://blog{n}.example/</link>"
                f"{items}</channel></rss>").encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                n = int(self.path.strip("/"))
                with feeds.lock:
                    if not feeds.frozen:
                        feeds.requests[n].append(time.monotonic())
                    entries = len(feeds.requests[n])
                body = feeds._body(n, entries)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--log-format", "json", "--config",
             str(config), "run", "--tick", "0.5"], stdout=subprocess.DEVNULL, stderr=handle)


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_share_one_postgresql_database(tmp_path: Path, database_url: str) -> None:
    feeds = GrowingFeeds()
    config = write_config(
        tmp_path, [{"name": f"blog {n:03}", "url": feeds.url(n)} for n in range(FEEDS)],
        database=database_url, poll_interval=f"{INTERVAL:g}s", timeout="2s",
        claim_lease="4s", concurrency=4, per_host=4)
    engine = create_engine(database_url)
    Store.open(database_url).close()  # migrate once, before the workers race to
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    workers = [_start(config, log) for log in logs]
    try:
        _wait(lambda: all(len(feeds.requests[n]) >= 2 for n in range(FEEDS)), 90,
              "two polls of every feed")
        victim = workers[0]

        def holds_leases() -> bool:
            with engine.connect() as db:
                return bool(db.execute(text(
                    "SELECT count(*) FROM feeds WHERE claimed_by LIKE :me"),
                    {"me": f"%:{victim.pid}"}).scalar())

        _wait(holds_leases, 30, "the first worker to hold leases mid-cycle")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.monotonic()
        _wait(lambda: all(len(feeds.requests[n]) >= 4 for n in range(FEEDS)), 90,
              "four polls of every feed")
        with feeds.lock:
            feeds.frozen = True

        def stored_per_feed() -> dict[int, int]:
            with engine.connect() as db:
                rows = db.execute(text(
                    "SELECT f.name, count(e.id) FROM feeds f LEFT JOIN entries e "
                    "ON e.feed_id = f.id GROUP BY f.name")).all()
            return {int(name.split()[1]): count for name, count in rows}

        # Nothing lost: every entry ever served is stored, the killed worker's too.
        _wait(lambda: stored_per_feed() == {n: feeds.served(n) for n in range(FEEDS)}, 60,
              "every served entry to be stored")
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(timeout=60) for worker in workers[1:]] == [0] * (WORKERS - 1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        feeds.server.shutdown()

    with engine.connect() as db:
        total, distinct = db.execute(text(
            "SELECT count(*), count(DISTINCT (feed_id, identity)) FROM entries")).one()
        titles = db.execute(text(
            "SELECT count(*), count(DISTINCT (feed_id, title)) FROM entries")).one()
    engine.dispose()
    assert total == distinct and titles[0] == titles[1]  # no entry stored twice
    # Exactly once per cycle: two requests for one feed come at least an interval
    # apart, but for a poll the killed worker made and never stored.
    early = []
    for n in range(FEEDS):
        times = feeds.requests[n]
        early += [(first, second) for first, second in pairwise(times)
                  if second - first < INTERVAL * 0.95]
    assert all(killed_at - 4 <= first <= killed_at for first, _ in early), early
    # At most what one worker holds at a time: the polls fetched or parsing, and a
    # group of finished polls waiting to be stored together.
    assert len(early) <= in_flight_limit(4) + SAVE_GROUP
    # The work was shared: each worker logged polls of its own.
    polls = [sum('"outcome"' in line for line in log.read_text().splitlines())
             for log in logs]
    assert all(count > 0 for count in polls), polls
    assert sum(json.loads(line).get("new", 0) > 0 for log in logs[1:]
               for line in log.read_text().splitlines() if '"outcome"' in line) > 0


def test_copies_stored_at_once_by_two_workers_are_one_article(
        database_url: str, tmp_path: Path) -> None:
    """Each worker's save waits for the other's filing, so it finds the copy."""
    post = parse_step((DATA / "blog-metier.rss").read_bytes(), {}, "https://a.example/feed")
    assert post.entries
    stores = [Store.open(database_url) for _ in range(2)]
    try:
        names = _feeds(stores[0], tmp_path, 2)
        record = PollRecord(polled_at=NOW, next_poll=NOW + LEASE, status=200)
        barrier = threading.Barrier(2)

        def save(index: int) -> None:
            barrier.wait()
            stores[index].save_poll(names[index], record, post.entries)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shown = stores[0].latest_entries(100)
        assert len(shown) == len(post.entries)
        assert all(len(entry.copies) == 1 for entry in shown)
    finally:
        for store in stores:
            store.close()


def test_one_renderer_at_a_time(database_url: str) -> None:
    """A second process's render waits for the first one's to end."""
    first, second = Store.open(database_url), Store.open(database_url)
    events: list[str] = []
    try:
        with first.render_lock():
            waiting = threading.Thread(target=_render_locked, args=(second, events))
            waiting.start()
            time.sleep(0.5)
            events.append("first done")
        waiting.join(timeout=10)
        assert events == ["first done", "second rendering"]
    finally:
        first.close()
        second.close()


def _render_locked(store: Store, events: list[str]) -> None:
    with store.render_lock():
        events.append("second rendering")


def test_parse_workers_give_way_to_the_polling_process() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: parsing runs in the polling process")
    with parse_pool(PROCESS_POOL_MIN_FEEDS) as pool:
        niceness = pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result(timeout=60)
    assert niceness == min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS, 19)
