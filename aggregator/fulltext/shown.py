"""Which text an entry shows: its article page's when one was fetched and kept, else its
feed's. The one place that decides it; the store, the dedup and the pages all ask here."""

from __future__ import annotations

FETCHED = "fetched"


def shows_page(status: str | None, page_html: str | None) -> bool:
    """Whether the page's text stands in for the feed's: fetched, and not empty.

    A page is stored only when it gave more text than the feed (fulltext.pages), so
    no comparison is left to make here; an entry changed since is pending again.
    """
    return status == FETCHED and bool(page_html)


def shown_html(content: str, summary: str, status: str | None, page_html: str | None) -> str:
    """The HTML an entry shows: the page's, else the feed's content, else its summary."""
    if shows_page(status, page_html):
        assert page_html is not None
        return page_html
    return content or summary
