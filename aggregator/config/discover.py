"""Find the feeds a web page advertises with <link rel="alternate">."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

FEED_TYPES = {
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json", "application/json", "application/xml", "text/xml",
}


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if tag == "link" and "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.links.append(values["href"])


def find_feed_links(page: bytes | str, page_url: str) -> list[str]:
    """The absolute addresses of the feeds `page` advertises, in page order."""
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    finder = _LinkFinder()
    finder.feed(text)
    finder.close()
    base = urljoin(page_url, finder.base) if finder.base else page_url
    return list(dict.fromkeys(urljoin(base, link) for link in finder.links))
