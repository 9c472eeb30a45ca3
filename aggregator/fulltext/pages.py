"""One article page fetched as politely as a feed, and stricter: the feed fetch's session,
address rules, deadline, size cap and redirect bound (poll.fetch), robots.txt asked first,
one request a second to a host; then its article extracted and judged against the feed's
text. Errors come back as values (a PageOutcome), never raised."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import requests

from aggregator.config.load import Settings
from aggregator.i18n import N_
from aggregator.models import FetchResult, PageOutcome, PageTask
from aggregator.poll.addresses import AddressPolicy
from aggregator.poll.clean import excerpt_text, html_to_text, make_excerpt
from aggregator.poll.fetch import fetch_feed

ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PAGE_MAX_SIZE = 5_000_000  # an article page larger than this is not an article page
HOST_INTERVAL = 1.0  # seconds between two requests to one host, robots.txt included


class HostPacer:
    """At most one request a HOST_INTERVAL to each host, whatever the threads."""

    def __init__(self, interval: float = HOST_INTERVAL) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> None:
        """Sleep until `url`'s host may be asked again, and book the turn after."""
        host = urlsplit(url).netloc.lower()
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next.get(host, now))
            self._next[host] = turn + self.interval
        if turn > now:
            time.sleep(turn - now)


def get_page(session: requests.Session, url: str, settings: Settings, pacer: HostPacer, *,
             origin: str | None = None, etag: str | None = None,
             last_modified: str | None = None) -> FetchResult:
    """GET one address of a site (a page or its robots.txt) in its host's turn."""
    pacer.wait(url)
    return fetch_feed(session, url, etag=etag, last_modified=last_modified,
                      timeout=settings.timeout, max_size=min(settings.max_size, PAGE_MAX_SIZE),
                      addresses=AddressPolicy(settings.allow_private_networks), origin=origin,
                      accept=ACCEPT_HTML)


def judge_page(task: PageTask, fetched: FetchResult) -> PageOutcome:
    """What a fetched page gives the entry: its article when longer than the feed's text,
    else a failure in words (the feed's text then stays)."""
    etag, modified = fetched.etag, fetched.last_modified
    if fetched.not_modified:
        return PageOutcome(task.entry_id, "fetched", etag=etag, last_modified=modified,
                           not_modified=True)
    if fetched.error or fetched.content is None:
        return PageOutcome(task.entry_id, "failed", fetched.error or N_("empty answer"))
    from aggregator.fulltext.extract import extract_article  # trafilatura: only when needed
    content_type = next((value for name, value in fetched.headers.items()
                         if name.lower() == "content-type"), "")
    article = extract_article(fetched.content, fetched.final_url, content_type)
    if article is None or not article.text.strip():
        reason = N_("no article found on the page")
    elif len(article.text) <= len(html_to_text(task.feed_text)):
        reason = N_("the page gives no more text than the feed")
    else:
        return PageOutcome(task.entry_id, "fetched", html=article.html,
                           excerpt=make_excerpt(excerpt_text(article.html)), etag=etag,
                           last_modified=modified)
    return PageOutcome(task.entry_id, "failed", reason, etag=etag, last_modified=modified)
