"""Finding the feeds a page advertises."""

from __future__ import annotations

import socket

import pytest

from aggregator.config.discover import (
    MAX_CANDIDATES,
    describe_no_feed,
    feed_candidates,
    find_feed_links,
    why_refused,
)
from aggregator.config.edit import SubscriptionError, discover_feed
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.fetch import make_session
from tests.conftest import DATA, FeedServer


def test_fixture_page_advertises_its_feed() -> None:
    page = (DATA / "not-a-feed.html").read_bytes()
    assert find_feed_links(page, "https://blog.example/a/b.html") == [
        "https://blog.example/feed/"]


def test_types_rel_and_base_are_honoured() -> None:
    page = """<html><head><base href="https://cdn.example/site/">
    <link rel="stylesheet" href="style.css">
    <link rel="alternate" type="text/html" href="/fr/">
    <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
    <link rel="alternate" type="application/rss+xml" href="https://blog.example/rss">
    <link rel="alternate" type="application/rss+xml" href="https://blog.example/rss">
    <link rel="alternate" type="application/feed+json" href="feed.json">
    </head><body><a href="/feed/">flux</a></body></html>"""
    assert find_feed_links(page, "https://blog.example/") == [
        "https://cdn.example/site/atom.xml",
        "https://blog.example/rss",
        "https://cdn.example/site/feed.json",
    ]


def test_page_without_feed_links() -> None:
    assert find_feed_links(b"<html><body>rien</body></html>", "https://x.example/") == []


def test_candidates_are_bounded_same_site_first() -> None:
    advertised = [f"http://10.0.0.{n % 250}:{8000 + n}/feed" for n in range(1000)]
    advertised.insert(500, "https://blog.example/feed/")
    guesses = ["https://blog.example/rss", "https://blog.example/feed/"]
    candidates = feed_candidates("https://blog.example/", advertised, guesses)
    assert len(candidates) == MAX_CANDIDATES == 10
    assert candidates[:2] == ["https://blog.example/feed/", "http://10.0.0.0:8000/feed"]
    assert "https://blog.example/rss" not in candidates  # the page's own links came first


def test_candidates_end_with_the_guesses() -> None:
    candidates = feed_candidates("https://blog.example/a", ["https://feeds.example/x"],
                                 ["https://blog.example/rss", "https://blog.example/feed/"])
    assert candidates == ["https://feeds.example/x", "https://blog.example/rss",
                          "https://blog.example/feed/"]


def test_a_page_with_a_thousand_feed_links_costs_ten_requests(
    feed_server: FeedServer
) -> None:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="/f{n}.xml">'
                    for n in range(1000))
    page = feed_server.set("/", f"<html><head>{links}</head></html>".encode(),
                           content_type="text/html; charset=utf-8")
    with pytest.raises(SubscriptionError, match="advertises 1,000 feeds, but none is one") as error:
        discover_feed(make_session(), page, timeout=5)
    assert len(feed_server.requests) == 1 + MAX_CANDIDATES
    lines = str(error.value).splitlines()
    assert len(lines) == 1 + MAX_CANDIDATES + 2  # the page, each tried, the rest, the end
    assert lines[-2] == f"  ({1000 - MAX_CANDIDATES} more advertised, not tried)"
    assert lines[-1] == "and no common path was tried; give the feed's own address"


def test_a_page_whose_advertised_feeds_are_pages_says_why_each_was_refused(
    feed_server: FeedServer
) -> None:
    html = b"<html><body>Pas un flux</body></html>"
    first = feed_server.set("/feed", html, content_type="text/html; charset=utf-8")
    second = feed_server.set("/comments/feed", html, content_type="text/html")
    page = feed_server.set("/", b'''<html><head>
        <link rel="alternate" type="application/rss+xml" href="/feed">
        <link rel="alternate" type="application/atom+xml" href="/comments/feed">
        </head></html>''', content_type="text/html")
    with pytest.raises(SubscriptionError) as error:
        discover_feed(make_session(), page, timeout=5)
    lines = str(error.value).splitlines()
    assert lines[:3] == [f"{page} advertises 2 feeds, but none is one:",
                         f"  {first}: advertised, but answers text/html, not a feed",
                         f"  {second}: advertised, but answers text/html, not a feed"]
    assert lines[3].startswith("and none was found at /feed/, /rss, /rss.xml")
    assert len(lines) == 4


def test_why_an_address_is_refused() -> None:
    assert why_refused("HTTP 404 Not Found", {}) == "cannot be fetched: HTTP 404 Not Found"
    assert why_refused(None, {"content-type": "TEXT/HTML; charset=utf-8"}) == (
        "answers text/html, not a feed")
    assert why_refused(None, {}) == "answers something that is not a feed"


def test_a_page_that_advertises_nothing_says_where_else_was_looked() -> None:
    guesses = ["https://b.example/feed/", "https://b.example/rss"]
    refused = {url: "cannot be fetched: HTTP 404 Not Found" for url in guesses}
    assert describe_no_feed("https://b.example/", [], guesses, refused) == (
        "https://b.example/ is a web page that advertises no feed, and none was found at "
        "/feed/, /rss; give the feed's own address")


def test_a_public_page_cannot_lead_to_a_private_feed(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
        "127.0.0.1" if host == "blog.public.example" else host, *a, **k))
    inside = feed_server.serve_file("blog-metier.rss", "/admin/feed")
    page = feed_server.set("/", f'<link rel="alternate" type="application/rss+xml" '
                                f'href="{inside}">'.encode(), content_type="text/html")
    public_page = page.replace("127.0.0.1", "blog.public.example")

    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "blog.public.example" else [host]

    with pytest.raises(SubscriptionError):
        discover_feed(make_session(), public_page, 5, AddressPolicy(resolve=resolve))
    assert feed_server.hits("/admin/feed") == []
    found = discover_feed(make_session(), public_page, 5, AddressPolicy(True, resolve))
    assert found.url == inside
