"""Find the feeds a web page advertises with <link rel="alternate">."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Addresses tried for one page at most: a page listing 1,000 "feeds" made 1,000 requests.
MAX_CANDIDATES = 10
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


def feed_candidates(page_url: str, advertised: list[str], guesses: list[str],
                    limit: int = MAX_CANDIDATES) -> list[str]:
    """The addresses worth trying for a page's feed, at most `limit`: those it advertises on
    its own host, then elsewhere, then the `guesses`; each once."""
    host = urlsplit(page_url).hostname
    ordered = sorted(advertised, key=lambda link: urlsplit(link).hostname != host)
    return list(dict.fromkeys([*ordered, *guesses]))[:limit]
