"""The preview server: feed content types, ETag and 304, addresses and URLs."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from aggregator.publish.serve import make_server, parse_address, server_url, start_server
from tests.conftest import SITE_SOURCES, FeedServer, poll_and_render

FILES = {
    "index.html": b"<!doctype html><title>Veille</title>",
    "digest/2013-12-12.html": b"<!doctype html><title>12 d\xc3\xa9cembre</title>",
    "atom.xml": b'<?xml version="1.0" encoding="utf-8"?><feed/>',
    "rss.xml": b'<?xml version="1.0" encoding="utf-8"?><rss/>',
    "feed.json": b'{"version": "https://jsonfeed.org/version/1.1"}',
    "feeds.opml": b'<?xml version="1.0"?><opml/>',
    "style.css": b"body { margin: 0 }",
    "data.json": b"{}",
    "other.xml": b"<x/>",
    "digest.xml": b"<feed/>",
    "archive/2016-06.xml": b"<feed/>",
    "archive/2016-06.json": b"{}",
    "tags/humour/atom.xml": b"<feed/>",
    ".render-state.json": b'{"stamp": "x"}',
    "digest/.2013-12-12.html.a1b2.tmp": b"<!doctype html>",
    ".git/config": b"[core]",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("public")
    for name, body in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return folder


# One server for the module: each shutdown waits for serve_forever's 0.5 s poll.
@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    server = make_server(site, "127.0.0.1", 0)
    thread = start_server(server)
    yield server_url(server)
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    # Plain bodies unless a test asks for gzip, so lengths and hashes are the files'.
    with requests.Session() as session:
        session.headers["Accept-Encoding"] = "identity"
        yield session


@pytest.mark.parametrize("name", ["atom.xml", "index.html", "feed.json", "style.css"])
def test_text_is_gzipped_when_asked(base: str, http: requests.Session, name: str) -> None:
    response = http.get(base + name, headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.content == FILES[name]  # requests inflates it
    digest = hashlib.sha256(FILES[name]).hexdigest()[:32]
    assert response.headers["ETag"] == f'"{digest}-gz"'
    again = http.get(base + name, headers={"Accept-Encoding": "gzip",
                                            "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_if_modified_since_gives_304(base: str, http: requests.Session) -> None:
    first = http.get(base + "rss.xml")
    again = http.get(base + "rss.xml",
                     headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304
    older = http.get(base + "rss.xml",
                     headers={"If-Modified-Since": "Thu, 01 Jan 2004 00:00:00 GMT"})
    assert older.status_code == 200


# --- content types --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("digest/2013-12-12.html", "text/html; charset=utf-8"),
        ("atom.xml", "application/atom+xml"),
        ("rss.xml", "application/rss+xml"),
        ("feed.json", "application/feed+json; charset=utf-8"),
        ("feeds.opml", "text/x-opml"),
        ("style.css", "text/css; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("other.xml", "application/xml"),
        ("digest.xml", "application/atom+xml"),
        ("archive/2016-06.xml", "application/atom+xml"),
        ("archive/2016-06.json", "application/feed+json; charset=utf-8"),
        ("tags/humour/atom.xml", "application/atom+xml"),
    ],
)
def test_content_type_by_name_then_suffix(
    base: str, http: requests.Session, name: str, content_type: str
) -> None:
    response = http.get(base + name)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.content == FILES[name]
    assert response.headers["Content-Length"] == str(len(FILES[name]))


def test_root_serves_index_html(base: str, http: requests.Session) -> None:
    response = http.get(base)
    assert response.status_code == 200
    assert response.content == FILES["index.html"]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_missing_file_is_404(base: str, http: requests.Session) -> None:
    assert http.get(base + "digest/1999-01-01.html").status_code == 404


def test_path_outside_the_folder_is_not_served(
    base: str, http: requests.Session, site: Path
) -> None:
    (site.parent / "secret.txt").write_text("secret")
    response = http.get(base + "%2e%2e/secret.txt")
    assert response.status_code == 404
    assert b"secret" not in response.content


# --- validators and 304 ---------------------------------------------------------------


def test_etag_is_a_hash_of_the_body(base: str, http: requests.Session) -> None:
    response = http.get(base + "atom.xml")
    digest = hashlib.sha256(FILES["atom.xml"]).hexdigest()[:32]
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_matching_etag_gives_304_without_body(base: str, http: requests.Session) -> None:
    etag = http.get(base + "atom.xml").headers["ETag"]
    response = http.get(base + "atom.xml", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == etag


def test_etag_in_a_list_gives_304(base: str, http: requests.Session) -> None:
    etag = http.get(base + "rss.xml").headers["ETag"]
    response = http.get(base + "rss.xml", headers={"If-None-Match": f'"other", {etag}'})
    assert response.status_code == 304


def test_other_etag_gives_the_body(base: str, http: requests.Session) -> None:
    response = http.get(base + "atom.xml", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.content == FILES["atom.xml"]


def test_changed_file_gets_a_new_etag(base: str, http: requests.Session, site: Path) -> None:
    (site / "changing.atom").write_bytes(b'<?xml version="1.0"?><feed/>')
    old = http.get(base + "changing.atom").headers["ETag"]
    (site / "changing.atom").write_bytes(b'<?xml version="1.0"?><feed><title>v2</title></feed>')
    response = http.get(base + "changing.atom", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.headers["ETag"] != old
    assert response.content.endswith(b"<title>v2</title></feed>")


def test_head_sends_headers_only(base: str, http: requests.Session) -> None:
    response = http.head(base + "feed.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(FILES["feed.json"]))
    assert response.content == b""


# --- server plumbing ------------------------------------------------------------------


def test_port_zero_picks_a_free_port(site: Path) -> None:
    server = make_server(site, "127.0.0.1", 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        assert port > 0
        assert server_url(server) == f"http://127.0.0.1:{port}/"
    finally:
        server.server_close()


def test_server_stops_on_shutdown(site: Path) -> None:
    server = make_server(site, "127.0.0.1", 0)
    thread = start_server(server)
    assert thread.daemon is True
    assert requests.get(server_url(server), timeout=5).status_code == 200
    assert thread.is_alive()
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("localhost:80", ("localhost", 80)),
        (":9000", ("127.0.0.1", 9000)),
        ("9000", ("127.0.0.1", 9000)),
        ("[::1]:8080", ("::1", 8080)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "127.0.0.1", "127.0.0.1:", "host:http", "host:70000",
                                  "host:-1"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_address(text)


@pytest.mark.parametrize("path", [".render-state.json", "%2Erender-state.json",
                                  "digest/.2013-12-12.html.a1b2.tmp", ".git/config",
                                  "digest/../.render-state.json?x=1"])
def test_dotfiles_are_not_served(base: str, http: requests.Session, path: str) -> None:
    # The render's state and half-written temporary files are not part of the site.
    assert http.get(base + path).status_code == 404
    assert http.head(base + path).status_code == 404
    assert http.get(base + "digest/2013-12-12.html").status_code == 200


# --- hostile clients --------------------------------------------------------------------


def _raw(base: str, request: bytes, wait: float = 10) -> bytes:
    """What the server answers to `request` sent as is, until it closes the connection."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", ["/%00", "/index.html%00.txt", "/%ff", "/a%0Ab",
                                  "index.html", "http://127.0.0.1/index.html"])
def test_malformed_paths_get_400(base: str, path: str,
                                 caplog: pytest.LogCaptureFixture) -> None:
    for method in (b"GET", b"HEAD"):
        answer = _raw(base, method + b" " + path.encode() + b" HTTP/1.0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 400 "), answer[:80]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert _raw(base, b"GET /index.html HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200 ")


@pytest.fixture
def strict(site: Path) -> Iterator[str]:
    """A server that closes idle connections after 0.5 s and serves 4 at a time."""
    server = make_server(site, "127.0.0.1", 0, idle_timeout=0.5, max_connections=4)
    thread = start_server(server)
    yield server_url(server)
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_idle_connections_are_closed(strict: str) -> None:
    host, port = strict.removeprefix("http://").rstrip("/").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        assert sock.recv(1024) == b""  # closed by the server, without a word
    assert time.monotonic() - started < 5


def test_connections_over_the_bound_get_503_and_no_thread(strict: str) -> None:
    host, port = strict.removeprefix("http://").rstrip("/").split(":")
    threads = threading.active_count()
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(4)]
    try:
        time.sleep(0.2)  # accepted, each in its thread
        extra = [_raw(strict, b"") for _ in range(20)]  # sends nothing, reads the answer
        assert all(a.startswith(b"HTTP/1.0 503 Service Unavailable\r\n") for a in extra)
        assert threading.active_count() <= threads + 4
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.7)  # the idle ones timed out: room again
    assert _raw(strict, b"GET /index.html HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200 ")


def test_symbolic_links_are_followed_only_to_files_inside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    public = tmp_path / "public"
    public.mkdir()
    (public / "page.html").write_bytes(b"<p>page</p>")
    (public / "alias.html").symlink_to(public / "page.html")
    (public / "secret.txt").symlink_to(outside / "secret.txt")
    (public / "away").symlink_to(outside)
    (public / "dangling.html").symlink_to(tmp_path / "nowhere.html")
    server = make_server(public, "127.0.0.1", 0)
    start_server(server)
    base = server_url(server)
    try:
        assert requests.get(base + "alias.html", timeout=5).content == b"<p>page</p>"
        for path in ("secret.txt", "away/", "away", "away/secret.txt", "dangling.html"):
            answer = requests.get(base + path, timeout=5)
            assert answer.status_code == 404, path
            assert b"secret" not in answer.content
    finally:
        server.shutdown()
        server.server_close()


# --- the rendered site: its 404 page, its folders, its favicon --------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is served is files; the store is tested elsewhere."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def rendered(feed_server: FeedServer, make_config: Any) -> Iterator[str]:
    """The sample feeds polled, rendered in French and served."""
    feeds = [{"name": name, "url": feed_server.serve_file(file), "tags": tags}
             for name, (file, tags) in SITE_SOURCES.items()]
    server = make_server(poll_and_render(make_config(feeds)), "127.0.0.1", 0)
    thread = start_server(server)
    yield server_url(server)
    server.shutdown()
    server.server_close()
    thread.join(5)


def _is_404_page(answer: requests.Response) -> bool:
    return (answer.status_code == 404
            and answer.headers["Content-Type"] == "text/html; charset=utf-8"
            and "<h1>Page introuvable</h1>" in answer.text)


@pytest.mark.parametrize("path", ["nowhere.html", "digest/1999-01-01.html", "a/b/c/",
                                  "%2e%2e/secret.txt", ".render-state.json"])
def test_a_missing_address_gets_the_sites_french_404_page(
    rendered: str, http: requests.Session, path: str
) -> None:
    answer = http.get(rendered + path)
    assert _is_404_page(answer), (answer.status_code, answer.text[:200])
    assert '<html lang="fr">' in answer.text
    # Links from the root path: they work at any depth.
    assert '<link rel="stylesheet" href="/style.css">' in answer.text
    style = http.get(rendered + "style.css")
    assert style.status_code == 200 and "--accent" in style.text
    head = http.head(rendered + path)
    assert head.status_code == 404 and head.content == b""


@pytest.mark.parametrize("path", ["digest/", "digest", "tags/", "tags", "blogs/"])
def test_folders_give_their_index_or_the_404_page_never_a_listing(
    rendered: str, http: requests.Session, path: str
) -> None:
    answer = http.get(rendered + path)
    assert "Directory listing" not in answer.text
    assert _is_404_page(answer), (answer.status_code, answer.text[:200])
    assert http.get(rendered).text == http.get(rendered + "index.html").text
    # A tag's folder has its page.
    tag = http.get(rendered + "tags/humour/")
    assert tag.status_code == 200 and tag.text == http.get(
        rendered + "tags/humour/index.html").text


def test_the_favicon_is_served_and_linked(rendered: str, http: requests.Session) -> None:
    icon = http.get(rendered + "favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg ")
    assert '<link rel="icon" type="image/svg+xml" href="favicon.svg">' in http.get(rendered).text
    missing = http.get(rendered + "missing.html").text
    assert '<link rel="icon" type="image/svg+xml" href="/favicon.svg">' in missing


def test_a_folder_never_rendered_gets_a_plain_404_and_no_listing(
    base: str, http: requests.Session
) -> None:
    answer = http.get(base + "digest/")
    assert answer.status_code == 404
    assert "Directory listing" not in answer.text
    assert "2013-12-12" not in answer.text
