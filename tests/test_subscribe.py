"""A real subscriber: lemon24's `reader` polls our merged feeds over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from reader import make_reader

from aggregator.publish.serve import make_server, server_url, start_server
from tests.conftest import Site


@pytest.fixture
def served(site: Site) -> Iterator[tuple[Site, str]]:
    server = make_server(site.root, "127.0.0.1", 0)
    start_server(server)
    yield site, server_url(server)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["atom.xml", "rss.xml", "feed.json"])
def test_reader_reads_every_entry(served: tuple[Site, str], name: str, tmp_path: Path) -> None:
    site, base = served
    expected = {
        (e.title, e.link, e.dated.astimezone(UTC).replace(microsecond=0), e.author)
        for e in site.store.latest_entries(100)
    }
    subscriber = make_reader(str(tmp_path / "subscriber.sqlite"))
    try:
        subscriber.add_feed(base + name)
        subscriber.update_feeds()
        feed = subscriber.get_feed(base + name)
        assert feed.last_exception is None, feed.last_exception
        assert feed.title == site.config.settings.title
        got = {(e.title, e.link, e.published, e.authors_str)
               for e in subscriber.get_entries(feed=base + name)}
    finally:
        subscriber.close()
    assert got == expected
    assert len(got) == 9
