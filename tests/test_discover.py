"""Finding the feeds a page advertises."""

from __future__ import annotations

from aggregator.config.discover import find_feed_links
from tests.conftest import DATA


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
