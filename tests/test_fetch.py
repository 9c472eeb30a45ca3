"""One polite, bounded HTTP GET against real loopback servers."""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

import aggregator
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.decide import parse_max_age, parse_retry_after
from aggregator.poll.fetch import fetch_feed, make_session
from tests.conftest import FeedServer

DATA = Path(__file__).parent / "data"
LAST_MODIFIED = "Thu, 12 Dec 2013 09:00:00 GMT"  # what the feed_server fixture sends


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with make_session() as session:
        yield session


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


# --- what we send ---------------------------------------------------------------------


def test_user_agent_names_project_version_and_url() -> None:
    agent = aggregator.USER_AGENT
    assert agent == (
        f"cm-aggregator/{aggregator.__version__} (+{aggregator.PROJECT_URL})"
    )
    assert aggregator.__version__ in agent
    assert aggregator.PROJECT_URL.startswith("https://")


def test_sends_our_user_agent(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    fetch_feed(session, url)
    (seen,) = feed_server.hits("/blog-metier.rss")
    assert seen.headers["User-Agent"] == aggregator.USER_AGENT


def test_asks_for_gzip_and_feed_types(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    fetch_feed(session, url)
    (seen,) = feed_server.hits("/blog-metier.rss")
    encodings = [e.strip() for e in seen.headers["Accept-Encoding"].split(",")]
    assert "gzip" in encodings
    assert "application/rss+xml" in seen.headers["Accept"]
    assert "application/atom+xml" in seen.headers["Accept"]


def test_first_poll_sends_no_conditional_headers(
    feed_server: Any, session: requests.Session
) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    fetch_feed(session, url)
    (seen,) = feed_server.hits("/blog-metier.rss")
    assert "If-None-Match" not in seen.headers
    assert "If-Modified-Since" not in seen.headers


# --- a normal answer and conditional GET ----------------------------------------------


def test_returns_body_status_and_validators(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    result = fetch_feed(session, url)
    assert result.error is None
    assert result.status == 200
    assert result.not_modified is False
    assert result.content == (DATA / "blog-metier.rss").read_bytes()
    assert result.headers["Content-Type"] == "application/rss+xml"
    assert result.etag is not None and result.etag.startswith('"')
    assert result.last_modified == LAST_MODIFIED
    assert result.url == url
    assert result.final_url == url


def test_validators_are_sent_back(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier.rss", conditional=False)
    fetch_feed(session, url, etag='"abc"', last_modified=LAST_MODIFIED)
    (seen,) = feed_server.hits("/blog-metier.rss")
    assert seen.headers["If-None-Match"] == '"abc"'
    assert seen.headers["If-Modified-Since"] == LAST_MODIFIED


def test_second_poll_with_etag_is_not_modified(
    feed_server: Any, session: requests.Session
) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    first = fetch_feed(session, url)
    second = fetch_feed(session, url, etag=first.etag)
    assert second.status == 304
    assert second.not_modified is True
    assert second.content is None
    assert second.error is None
    assert second.etag == first.etag


def test_second_poll_with_last_modified_is_not_modified(
    feed_server: Any, session: requests.Session
) -> None:
    url = feed_server.serve_file("blog-metier.rss")
    first = fetch_feed(session, url)
    second = fetch_feed(session, url, last_modified=first.last_modified)
    assert second.not_modified is True
    assert second.content is None


def test_stale_etag_gets_the_full_body(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier-v2.rss")
    result = fetch_feed(session, url, etag='"an-old-version"')
    assert result.status == 200
    assert result.content == (DATA / "blog-metier-v2.rss").read_bytes()


def test_gzip_body_is_decompressed(feed_server: Any, session: requests.Session) -> None:
    raw = (DATA / "vis-ma-vie.atom").read_bytes()
    url = feed_server.set("/gz.atom", gzip.compress(raw), content_type="application/atom+xml",
                          headers={"Content-Encoding": "gzip"})
    result = fetch_feed(session, url)
    assert result.error is None
    assert result.content == raw


def test_redirect_is_followed_and_final_url_kept(
    feed_server: Any, session: requests.Session
) -> None:
    target = feed_server.serve_file("rss091.xml")
    url = feed_server.set("/old", b"", status=301, headers={"Location": target})
    result = fetch_feed(session, url)
    assert result.status == 200
    assert result.url == url
    assert result.final_url == target
    assert result.content == (DATA / "rss091.xml").read_bytes()


# --- failures are values --------------------------------------------------------------


def test_server_error_names_the_status(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.set("/boom", b"oops", status=500)
    result = fetch_feed(session, url)
    assert result.status == 500
    assert result.error == "HTTP 500 Internal Server Error"
    assert result.content is None


def test_not_found_names_the_status(feed_server: Any, session: requests.Session) -> None:
    result = fetch_feed(session, feed_server.url("/nowhere.rss"))
    assert result.status == 404
    assert result.error == "HTTP 404 Not Found"
    assert result.content is None


def test_refused_connection_is_an_error_value(
    refused_url: str, session: requests.Session
) -> None:
    result = fetch_feed(session, refused_url, timeout=5)
    assert result.status is None
    assert result.content is None
    assert result.error is not None
    assert result.error.startswith("connection failed: ")
    assert "refused" in result.error.lower()


def test_body_over_max_size_is_an_error(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.set("/big", b"x" * 5000)
    result = fetch_feed(session, url, max_size=4096)
    assert result.error == "body larger than the 4,096 bytes limit"
    assert result.content is None


def test_body_of_exactly_max_size_is_accepted(
    feed_server: Any, session: requests.Session
) -> None:
    url = feed_server.set("/exact", b"x" * 4096)
    result = fetch_feed(session, url, max_size=4096)
    assert result.error is None
    assert result.content == b"x" * 4096


def test_gzip_bomb_stops_with_an_error(feed_server: Any, session: requests.Session) -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024), 9)
    assert len(bomb) < 16 * 1024  # a few KB on the wire
    url = feed_server.set("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    result = fetch_feed(session, url, max_size=1024 * 1024)
    assert result.error == "body larger than the 1,048,576 bytes limit"
    assert result.content is None


def test_silent_server_times_out(silent_url: str, session: requests.Session) -> None:
    started = time.monotonic()
    result = fetch_feed(session, silent_url, timeout=1)
    assert time.monotonic() - started < 5
    assert result.error == "no answer within 1 s"
    assert result.status is None
    assert result.content is None



# --- redirects --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_gives_the_new_address(
    feed_server: Any, session: requests.Session, status: int
) -> None:
    new = feed_server.serve_file("blog-metier.rss", "/new")
    old = feed_server.set("/old", b"", status=status, headers={"Location": "/new"})
    result = fetch_feed(session, old)
    assert result.error is None
    assert result.permanent_url == new
    assert result.final_url == new


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_followed_not_remembered(
    feed_server: Any, session: requests.Session, status: int
) -> None:
    feed_server.serve_file("blog-metier.rss", "/new")
    old = feed_server.set("/old", b"", status=status, headers={"Location": "/new"})
    result = fetch_feed(session, old)
    assert result.error is None and result.content
    assert result.permanent_url is None


def test_permanent_move_stops_at_the_first_temporary_hop(
    feed_server: Any, session: requests.Session
) -> None:
    feed_server.serve_file("blog-metier.rss", "/final")
    middle = feed_server.set("/middle", b"", status=302, headers={"Location": "/final"})
    start = feed_server.set("/start", b"", status=301, headers={"Location": "/middle"})
    result = fetch_feed(session, start)
    assert result.permanent_url == middle
    assert result.final_url == feed_server.url("/final")


def test_redirect_loop_is_an_error(feed_server: Any, session: requests.Session) -> None:
    feed_server.set("/a", b"", status=302, headers={"Location": "/b"})
    feed_server.set("/b", b"", status=302, headers={"Location": "/a"})
    result = fetch_feed(session, feed_server.url("/a"))
    assert result.error == (f"redirect loop: {feed_server.url('/b')} sends back to "
                            f"{feed_server.url('/a')}")


def test_more_than_five_redirects_is_an_error(
    feed_server: Any, session: requests.Session
) -> None:
    for hop in range(7):
        feed_server.set(f"/r{hop}", b"", status=307, headers={"Location": f"/r{hop + 1}"})
    feed_server.serve_file("blog-metier.rss", "/r7")
    result = fetch_feed(session, feed_server.url("/r0"))
    assert result.error == f"more than 5 redirects (last one to {feed_server.url('/r6')})"
    assert len(feed_server.requests) == 6

    five = fetch_feed(session, feed_server.url("/r2"))
    assert five.error is None and five.content


# --- status codes the schedule listens to ----------------------------------------------


def test_gone_is_reported(feed_server: Any, session: requests.Session) -> None:
    result = fetch_feed(session, feed_server.set("/gone", b"bye", status=410))
    assert result.gone
    assert result.error == "HTTP 410 Gone"


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limit_keeps_retry_after(
    feed_server: Any, session: requests.Session, status: int
) -> None:
    url = feed_server.set("/busy", b"", status=status, headers={"Retry-After": "120"})
    result = fetch_feed(session, url)
    assert result.status == status
    assert result.headers["Retry-After"] == "120"
    assert result.error and result.error.startswith(f"HTTP {status}")


NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, expected", [
    ("120", timedelta(seconds=120)),
    ("0", timedelta(0)),
    ("Sat, 21 Nov 2026 10:30:00 GMT", timedelta(minutes=90)),
    ("Sat, 21 Nov 2026 08:00:00 GMT", timedelta(0)),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize("value, expected", [
    ("max-age=3600", timedelta(hours=1)),
    ("public, max-age=600, must-revalidate", timedelta(minutes=10)),
    ('max-age="60"', timedelta(minutes=1)),
    ("no-cache", None),
    ("s-maxage=5", None),
])
def test_parse_max_age(value: str, expected: timedelta | None) -> None:
    assert parse_max_age({"Cache-Control": value}) == expected
    assert parse_max_age({}) is None


# --- hostile servers --------------------------------------------------------------------


def test_dripping_server_is_cut_at_the_total_deadline(
    feed_server: Any, session: requests.Session
) -> None:
    # One byte every 0.2 s never trips a per-read timeout; the total deadline does.
    url = feed_server.set("/drip", b"<rss>" + b" " * 200 + b"</rss>", drip=0.2)
    started = time.monotonic()
    result = fetch_feed(session, url, timeout=1.5)
    elapsed = time.monotonic() - started
    assert result.error == "download took longer than the time limit"
    assert 1.4 < elapsed < 3


def test_truncated_body_is_an_error(feed_server: Any, session: requests.Session) -> None:
    body = (DATA / "blog-metier.rss").read_bytes()
    url = feed_server.set("/cut", body, declared_length=len(body) + 500)
    result = fetch_feed(session, url, timeout=5)
    assert result.error and result.error.startswith("body cut short")
    assert result.content is None


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_bodies_both_kinds(
    feed_server: Any, session: requests.Session, wbits: int
) -> None:
    body = (DATA / "vis-ma-vie.atom").read_bytes()
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    deflated = compressor.compress(body) + compressor.flush()
    url = feed_server.set("/deflate", deflated, headers={"Content-Encoding": "deflate"})
    result = fetch_feed(session, url)
    assert result.error is None
    assert result.content == body


def test_corrupt_gzip_is_an_error(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.set("/bad-gzip", b"not gzip at all",
                          headers={"Content-Encoding": "gzip"})
    result = fetch_feed(session, url)
    assert result.error and result.error.startswith("invalid gzip body")


def test_unknown_content_encoding_is_an_error(
    feed_server: Any, session: requests.Session
) -> None:
    url = feed_server.set("/br", b"xyz", headers={"Content-Encoding": "br"})
    assert fetch_feed(session, url).error == "unsupported Content-Encoding 'br'"


def test_tls_error_is_an_error_value(feed_server: Any, session: requests.Session) -> None:
    # Speaking TLS to a plain-HTTP server fails the handshake: a TLS error, not a crash.
    url = feed_server.serve_file("blog-metier.rss").replace("http://", "https://")
    result = fetch_feed(session, url, timeout=5)
    assert result.error and result.error.startswith("TLS error: ")


def test_dns_failure_names_the_host(
    session: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No DNS here: the resolver answers "unknown host" for this one name, as a real one would.
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "blog.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    result = fetch_feed(session, "http://blog.invalid/feed/", timeout=5)
    assert result.error == ("connection failed: blog.invalid: cannot resolve the host name "
                            "(Name or service not known)")


def test_body_hash_identifies_the_bytes(feed_server: Any, session: requests.Session) -> None:
    url = feed_server.serve_file("blog-metier.rss", conditional=False)
    first, second = fetch_feed(session, url), fetch_feed(session, url)
    assert first.content_hash == second.content_hash
    assert first.content_hash == hashlib.sha256(first.content or b"").hexdigest()


def test_proxies_from_the_environment_are_used_per_host(
    feed_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session reads the environment once per host (not per request): a host
    # NO_PROXY names still goes direct, the others through the proxy.
    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)  # a proxy gets the absolute URL
            body = b"<rss version='2.0'><channel><title>via proxy</title></channel></rss>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        session = make_session()
        direct = feed_server.set("/direct", b"<rss version='2.0'></rss>")
        for _ in range(2):  # the second time from what the session remembers
            assert fetch_feed(session, direct).status == 200
            proxied = fetch_feed(session, "http://feeds.example:9/feed")
            assert (proxied.status, proxied.error) == (200, None)
            assert proxied.content is not None and b"via proxy" in proxied.content
        assert seen == ["http://feeds.example:9/feed"] * 2
        assert len(feed_server.hits("/direct")) == 2
    finally:
        proxy.shutdown()
        proxy.server_close()


# --- where a fetch may go ---------------------------------------------------------------

PUBLIC = "93.184.216.34"  # a global address: what the test name resolves to for the policy


def names(table: dict[str, list[str]]) -> Any:
    """A resolver for AddressPolicy: the names of `table`, and IP literals as they are."""

    def resolve(host: str, port: int) -> list[str]:
        return table.get(host) or [r[4][0] for r in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)]

    return resolve


@pytest.fixture
def public_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A host name the connection reaches on loopback, and the policy sees as public."""
    real = socket.getaddrinfo

    def connect_to_loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "feeds.public.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", connect_to_loopback)
    return "feeds.public.example"


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/",
    "http://[::ffff:169.254.169.254]/", "http://[fe80::1]:8080/feed",
    "http://metadata.example/computeMetadata/v1/",
])
def test_link_local_and_metadata_addresses_are_never_fetched(
    session: requests.Session, url: str
) -> None:
    policy = AddressPolicy(allow_private=True,
                           resolve=names({"metadata.example": ["169.254.169.254"]}))
    started = time.monotonic()
    result = fetch_feed(session, url, timeout=5, addresses=policy)
    assert result.error is not None
    assert result.error.startswith("refused: ") and "link-local or cloud metadata" in result.error
    assert time.monotonic() - started < 1  # refused before any connection


def test_a_redirect_to_link_local_is_refused(feed_server: Any, session: requests.Session) -> None:
    old = feed_server.set("/old", b"", status=302,
                          headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    result = fetch_feed(session, old, timeout=5)
    assert result.error == ("refused: 169.254.169.254 is a link-local or cloud metadata "
                            "address (169.254.169.254)")


def test_a_public_server_cannot_redirect_to_a_private_address(
    feed_server: Any, session: requests.Session, public_name: str
) -> None:
    inside = feed_server.serve_file("blog-metier.rss", "/admin")
    feed_server.set("/feed", b"", status=301, headers={"Location": inside})
    url = feed_server.url("/feed").replace("127.0.0.1", public_name)
    policy = AddressPolicy(resolve=names({public_name: [PUBLIC]}))
    result = fetch_feed(session, url, addresses=policy)
    assert result.error == (
        f"refused: {public_name}, a public address, leads to 127.0.0.1, a private one "
        "(127.0.0.1); settings.allow_private_networks: true allows it")
    assert result.permanent_url is None
    assert feed_server.hits("/admin") == []

    allowed = fetch_feed(session, url, addresses=AddressPolicy(True, policy.resolve))
    assert allowed.error is None and allowed.content
    assert len(feed_server.hits("/admin")) == 1


def test_a_page_link_counts_as_a_redirect(
    feed_server: Any, session: requests.Session, public_name: str
) -> None:
    inside = feed_server.serve_file("blog-metier.rss", "/admin")
    policy = AddressPolicy(resolve=names({public_name: [PUBLIC]}))
    page = f"http://{public_name}/blog/"
    assert fetch_feed(session, inside, addresses=policy, origin=page).error is not None
    assert fetch_feed(session, inside, addresses=policy).error is None  # listed directly


def test_a_private_server_may_redirect_to_another_private_address(
    feed_server: Any, session: requests.Session
) -> None:
    other = FeedServer()
    try:
        new = other.serve_file("blog-metier.rss", "/feed")
        old = feed_server.set("/old", b"", status=302, headers={"Location": new})
        assert fetch_feed(session, old).error is None
    finally:
        other.close()


@pytest.mark.parametrize(("status", "remembered"), [(200, True), (404, False), (500, False)])
def test_a_move_to_another_host_is_remembered_only_when_it_answers(
    feed_server: Any, session: requests.Session, status: int, remembered: bool
) -> None:
    other = FeedServer()
    try:
        new = other.set("/feed", (DATA / "blog-metier.rss").read_bytes(), status=status)
        old = feed_server.set("/old", b"", status=301, headers={"Location": new})
        result = fetch_feed(session, old)
        assert result.permanent_url == (new if remembered else None)
    finally:
        other.close()
