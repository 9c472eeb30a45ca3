"""Shared fixtures: a real loopback feed server, config files, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from aggregator import i18n
from aggregator.config.load import Config, load_config
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.render import RenderReport, render_site
from aggregator.store import Store

DATA = Path(__file__).parent / "data"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")

CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/feed+json",
}


@dataclass
class Route:
    """What the test server answers on one path."""

    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # honour If-None-Match / If-Modified-Since with a 304
    drip: float = 0.0  # seconds between bytes: a server that sends one byte at a time
    delay: float = 0.0  # seconds to think before answering
    declared_length: int | None = None  # a Content-Length other than the body's (truncation)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class FeedServer:
    """A real HTTP server on 127.0.0.1 (port 0) whose answers each test sets."""

    LAST_MODIFIED = "Thu, 12 Dec 2013 09:00:00 GMT"

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._count_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval makes shutdown() quick: tests start many servers.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: bytes, **options: Any) -> str:
        """Serve `body` at `path`; returns its URL."""
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def serve_file(self, name: str, path: str | None = None, **options: Any) -> str:
        """Serve tests/data/`name` at `path` (default /`name`) with a fitting type."""
        file = DATA / name
        options.setdefault("content_type",
                           CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
        return self.set(path or "/" + name, file.read_bytes(), **options)

    def hits(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            counted = False  # this request is counted in server.in_flight

            def do_GET(self) -> None:
                with server._count_lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self.counted = True
                try:
                    self._answer()
                finally:
                    self._done()

            def _done(self) -> None:
                if self.counted:
                    self.counted = False
                    with server._count_lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                server.requests.append(SeenRequest(self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route and route.delay:
                    time.sleep(route.delay)
                if route is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha1(route.body).hexdigest() + '"'
                # RFC 9110 13.2.2: If-None-Match, when sent, decides alone.
                if "If-None-Match" in self.headers:
                    fresh = self.headers["If-None-Match"] == etag
                else:
                    fresh = self.headers.get("If-Modified-Since") == server.LAST_MODIFIED
                if route.conditional and route.status == 200 and fresh:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                length = route.declared_length or len(route.body)
                self.send_header("Content-Length", str(length))
                if route.conditional:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", server.LAST_MODIFIED)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if route.drip:
                    self._drip(route)
                else:
                    self.wfile.write(route.body)

            def _drip(self, route: Route) -> None:
                # Bounded: gives up when the client hangs up or after the body.
                for index, byte in enumerate(route.body):
                    if index:
                        time.sleep(route.drip)
                    if index == len(route.body) - 1:
                        # The client may free its slot as soon as the last byte arrives:
                        # counted until after it, a loaded machine's delay before the
                        # count drops would count the client's next request as one more.
                        self._done()
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Each test starts with English messages: a command run in-process (CliRunner) sets
    the language of the whole process, as it does for the one command of a real run."""
    i18n.use(i18n.SOURCE_LANGUAGE)
    yield
    i18n.use(i18n.SOURCE_LANGUAGE)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


def wait_for(condition: Callable[[], T], what: str, seconds: float = 30,
             pause: float = 0.05) -> T:
    """What `condition` gives once it is true, asked every `pause` seconds; the test
    fails, saying `what` it waited for, when that takes over `seconds`. A condition may
    assert on its own (a process still alive) to fail sooner."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(pause)
    return value


def write_config(directory: Path, feeds: list[dict[str, Any]], **settings: Any) -> Path:
    """Write a feeds.yaml with `settings` over test defaults; returns its path."""
    from ruamel.yaml import YAML

    values = {"database": "test.db", "output_dir": "public", "title": "Veille de test",
              "base_url": "http://127.0.0.1:8080/", "timezone": "Europe/Paris",
              "language": "fr", "poll_interval": "1h", "timeout": "10s"}
    values.update(settings)
    path = directory / "feeds.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump({"settings": values, "feeds": feeds}, handle)
    return path


@pytest.fixture
def make_config(tmp_path: Path, database_url: str) -> Any:
    """Build a Config for the given feeds, on the database under test."""

    def make(feeds: list[dict[str, Any]], **settings: Any) -> Config:
        settings.setdefault("database", database_url)
        return load_config(write_config(tmp_path, feeds, **settings))

    return make


def _postgres_reachable() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, and a throwaway PostgreSQL database when one runs."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not _postgres_reachable():
        pytest.skip("no PostgreSQL reachable at 127.0.0.1:5432")
    import psycopg

    name = f"aggregator_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# A rendered site built from four fixture feeds, for the render and browser tests.
SITE_NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SITE_SOURCES = {
    "Mon métier, c’est le web": ("blog-metier-v2.rss", ["community management"]),
    "Vis ma vie de CM": ("vis-ma-vie.atom", ["humour", "community management"]),
    "Le métier qui n’existe pas": ("metier-cp1252.rss", ["métier"]),
    "Hostile": ("hostile.rss", []),
}


def poll_and_render(config: Config, now: datetime = SITE_NOW) -> Path:
    """Poll every feed of `config` once at `now` and render; returns the output folder."""
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, now)
        render_site(store, config.settings, config.feeds, now)
    finally:
        store.close()
    return config.settings.output_dir


@dataclass
class Site:
    config: Config
    store: Store
    root: Path

    def text(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def render(self) -> RenderReport:
        return render_site(self.store, self.config.settings, self.config.feeds, SITE_NOW)


@pytest.fixture
def site(feed_server: FeedServer, make_config: Any) -> Iterator[Site]:
    feeds = [
        {"name": name, "url": feed_server.serve_file(file), "tags": tags}
        for name, (file, tags) in SITE_SOURCES.items()
    ]
    config = make_config(feeds, feed_entries=50)
    store = Store.open(config.settings.database)
    outcomes = update_feeds(store, make_session(), config, SITE_NOW)
    assert all(o.outcome == "new" for o in outcomes), outcomes
    render_site(store, config.settings, config.feeds, SITE_NOW)
    yield Site(config, store, config.settings.output_dir)
    store.close()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's), driven by Playwright: one per test module that
    asks for it (tests/test_pages_browser.py, tests/test_newsletter_browser.py,
    tests/test_search.py)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
