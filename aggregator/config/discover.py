"""Find the feeds a web page advertises with <link rel="alternate">."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from aggregator.i18n import _, counted, translate_message

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


def why_refused(error: str | None, headers: Mapping[str, str]) -> str:
    """Why an address tried for a page's feed is none, from its fetch's error or the type
    its answer declares."""
    if error:  # the fetch's, in English (see i18n.translate_message)
        return _("cannot be fetched: %(error)s") % {"error": translate_message(error)}
    declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    kind = declared.split(";")[0].strip().lower()
    return (_("answers %(type)s, not a feed") % {"type": kind} if kind
            else _("answers something that is not a feed"))


def describe_no_feed(address: str, advertised: Sequence[str], guesses: Sequence[str],
                     refused: Mapping[str, str]) -> str:
    """Why no feed was found from the page at `address`: each advertised address tried, one
    line each with why it was refused, then the `guesses` tried (`refused` maps every
    address tried to why)."""
    looked = [urlsplit(url).path for url in guesses if url in refused and url not in advertised]
    elsewhere = (_("none was found at %(paths)s") % {"paths": ", ".join(looked)} if looked
                 else _("no common path was tried"))
    if not advertised:
        return (_("%(address)s is a web page that advertises no feed, and %(elsewhere)s; "
                  "give the feed's own address") % {"address": address, "elsewhere": elsewhere})
    tried = [url for url in advertised if url in refused]
    lines = [counted("%(address)s advertises %(n)s feed, but it is none:",
                     "%(address)s advertises %(n)s feeds, but none is one:", len(advertised),
                     address=address),
             *(_("  %(url)s: advertised, but %(why)s") % {"url": url, "why": refused[url]}
               for url in tried)]
    if len(tried) < len(advertised):
        lines.append(counted("  (%(n)s more advertised, not tried)",
                             "  (%(n)s more advertised, not tried)",
                             len(advertised) - len(tried)))
    lines.append(_("and %(elsewhere)s; give the feed's own address") % {"elsewhere": elsewhere})
    return "\n".join(lines)
