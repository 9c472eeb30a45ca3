"""The main text of an article's web page, with trafilatura, precision first.

Pure, no I/O: the page's bytes (or text) and its address in, an `Extracted` or None out.
The page is decoded, parsed and rid of the furniture trafilatura misses (`page.py`,
`furniture.py`); trafilatura keeps the article; our own sanitizer (poll/clean.py) makes
its HTML safe and its links absolute, as for a feed's content.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.etree
import trafilatura

from aggregator.fulltext.furniture import keep_captions, remove_furniture, wrap_loose_text
from aggregator.fulltext.page import (
    can_protect_no_breaks,
    decode_page,
    parse_page,
    restore_no_breaks,
)
from aggregator.fulltext.truncation import ends_with_elision
from aggregator.models import Extracted
from aggregator.poll.clean import html_to_text, repair_text, sanitize_html

# Less text than this is an error page or a listing's stray sentence, not an article
# (trafilatura's own MIN_EXTRACTED_SIZE).
MIN_TEXT_CHARS = 250
# A listing (tag page, home page of excerpts) is mostly titles that are links.
MAX_LINK_SHARE = 0.5
_BLOCK_SPLIT = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|figure|figcaption|table|tr|dd|dt|hr)\b[^>]*>"
    r"|<br\s*/?>", re.IGNORECASE)
_LINK_TEXT = re.compile(r"<a\b[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)


def extract_article(page: bytes | str, url: str, content_type: str = "") -> Extracted | None:
    """The article of `page` (found at `url`, served as `content_type`), or None when the
    page holds none."""
    text = decode_page(page, content_type) if isinstance(page, bytes) else page
    if not text:
        return None
    protect = can_protect_no_breaks(text)
    tree = parse_page(text, protect)
    if tree is None:
        return None
    found = _main_html(tree, url)
    if found is None:
        return None
    # Repaired as a feed's content is: a page encoded twice reads "Ã©" for "é".
    html = sanitize_html(repair_text(restore_no_breaks(found) if protect else found), url)
    plain = html_text(html)
    if len(plain) < MIN_TEXT_CHARS or _is_listing(html, plain):
        return None
    return Extracted(html=html, text=plain)


def _main_html(tree: Any, url: str) -> str | None:
    remove_furniture(tree)
    wrap_loose_text(tree)
    keep_captions(tree)
    try:
        return trafilatura.extract(
            tree, url=url, output_format="html", favor_precision=True, include_comments=False,
            include_images=True, include_links=True, include_tables=True, deduplicate=False,
            with_metadata=False)
    except (ValueError, TypeError, RecursionError, lxml.etree.LxmlError):
        # trafilatura's own guards miss some shapes of broken markup; one page's failure
        # is "no article", never a crash of the poll that asked.
        return None


def html_text(html: str) -> str:
    """The text of sanitized HTML, one block (paragraph, heading, item) a line."""
    blocks = (html_to_text(part) for part in _BLOCK_SPLIT.split(html))
    return "\n".join(block for block in blocks if block)


def _is_listing(html: str, plain: str) -> bool:
    # A tag or home page: mostly links (titles), or excerpts each cut with "[…]".
    linked = sum(len(html_to_text(m.group(1))) for m in _LINK_TEXT.finditer(html))
    if linked > MAX_LINK_SHARE * len(plain):
        return True
    blocks = plain.splitlines()
    return sum(map(ends_with_elision, blocks)) >= max(2, len(blocks) / 2)
