"""One polite, bounded HTTP GET against real loopback servers."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import aggregator
from aggregator.fetch import fetch_feed, make_session

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

