"""The lead image of an article's card: the picture its feed gives, else the first real
image of its text; never a tracking pixel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from aggregator.models import Enclosure
from aggregator.poll.clean import TRACKER_HOSTS

# Paths that count visits rather than show a picture (a feed's stored text keeps some
# whose host is not a known tracker's, and a thumbnail is never cleaned).
# "/pixel-art.png" is a picture, "/pixel.gif" and "/track/…" are not.
_TRACKER_PATH = re.compile(r"/(?:pixel|track|tracking|beacon|~r|~ff|b/ss)(?:[/.]|$)",
                           re.IGNORECASE)
MAX_PIXEL = 2  # an image this many px wide or high, or less, is a tracker's


@dataclass(frozen=True)
class LeadImage:
    """A card's picture; `width` and `height` (both or neither) reserve its box."""

    url: str
    width: int | None = None
    height: int | None = None


def lead_image(thumbnail: str | None, enclosures: Sequence[Enclosure],
               content: str) -> LeadImage | None:
    """The feed's thumbnail (media:thumbnail, media:content), else an image enclosure,
    else the first real <img> of `content` (HTML); None when there is none."""
    given = [thumbnail] + [e.url for e in enclosures if e.kind == "image"]
    for url in given:
        if url and _shown(url, None, None):
            return LeadImage(url)
    finder = _FirstImage()
    finder.feed(content)
    finder.close()
    return finder.found


def _shown(url: str, width: int | None, height: int | None) -> bool:
    """Whether `url` is a picture a reader can see: http(s), not a tracking pixel."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if any(size is not None and size <= MAX_PIXEL for size in (width, height)):
        return False
    host = parts.hostname.lower()
    if host in TRACKER_HOSTS or host.endswith(".doubleclick.net"):
        return False
    return not _TRACKER_PATH.search(parts.path)


def _size(value: str | None) -> int | None:
    """An <img> width or height in px ("640", "640px"); None when absent or relative."""
    digits = (value or "").strip().lower().removesuffix("px")
    return int(digits) if digits.isdigit() and len(digits) <= 5 else None


class _FirstImage(HTMLParser):
    """Finds the first <img> of a fragment that _shown accepts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: LeadImage | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img" or self.found is not None:
            return
        values = dict(attrs)
        url = (values.get("src") or "").strip()
        width, height = _size(values.get("width")), _size(values.get("height"))
        if url and _shown(url, width, height):
            # Both sizes or neither: one alone gives no shape to reserve.
            known = width is not None and height is not None and width > 0 and height > 0
            self.found = LeadImage(url, width if known else None, height if known else None)
