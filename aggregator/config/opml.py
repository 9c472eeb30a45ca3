"""Subscription lists exchanged with other feed readers (OPML 1.0 and 2.0)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from aggregator.config.load import FeedConfig
from aggregator.i18n import _
from aggregator.models import FeedState
from aggregator.xmlchars import strip_forbidden_chars


class OpmlError(ValueError):
    """The file is not an OPML subscription list."""


@dataclass(frozen=True)
class Outline:
    """One subscription of an OPML list, as OPML 2.0 describes it: its label (`text`),
    its `title`, the feed (`xml_url`), the site (`html_url`), the feed's `type`, and its
    categories (the folders it sits in, then its `category` attribute)."""

    text: str
    xml_url: str
    title: str | None = None
    html_url: str | None = None
    type: str = "rss"
    categories: tuple[str, ...] = ()


def read_opml(content: bytes) -> list[FeedConfig]:
    """The feeds of an OPML file; folders and `category` attributes become tags."""
    return [FeedConfig(name=(o.text or urlsplit(o.xml_url).hostname or o.xml_url)[:200],
                       url=o.xml_url, tags=o.categories) for o in read_outlines(content)]


def read_outlines(content: bytes) -> list[Outline]:
    """The subscriptions of an OPML file (1.0, 1.1 or 2.0), in document order."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise OpmlError(_("not valid XML: %(error)s") % {"error": exc}) from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise OpmlError(_("not an OPML document (no <opml><body>)"))
    return _outlines_in(body)


def _outlines_in(body: ElementTree.Element) -> list[Outline]:
    """The subscriptions under `body`, in document order, each with its folders.

    Walked with a stack, not by recursion: folders nested a thousand deep are only
    a larger list (Python's recursion stops near there)."""
    found: list[Outline] = []
    stack: list[tuple[ElementTree.Element, tuple[str, ...]]] = [
        (outline, ()) for outline in reversed(body.findall("outline"))]
    while stack:
        outline, folders = stack.pop()
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        label = (outline.get("text") or outline.get("title") or "").strip()
        if not url:
            inside = (*folders, label) if label else folders
            stack.extend((child, inside) for child in reversed(outline.findall("outline")))
            continue
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        # OPML 2.0: comma-separated categories, each a slash-delimited path.
        categories = re.split(r"[,/]", outline.get("category") or "")
        found.append(Outline(
            text=label, xml_url=url, title=(outline.get("title") or "").strip() or None,
            html_url=(outline.get("htmlUrl") or outline.get("htmlurl") or "").strip() or None,
            type=outline.get("type") or "rss",
            categories=tuple(dict.fromkeys(
                t.strip() for t in (*folders, *categories) if t.strip()))))
    return found


def write_opml(title: str, feeds: Sequence[FeedConfig], states: Mapping[str, FeedState],
               created: datetime) -> str:
    """An OPML 2.0 list of `feeds`, with each blog's title and home page when known."""
    outlines = []
    for feed in feeds:
        state = states.get(feed.name)
        outlines.append(Outline(
            text=feed.name, xml_url=feed.url,
            title=state.title if state and state.title else feed.name,
            html_url=state.site_url if state else None, categories=feed.tags))
    return write_outlines(title, outlines, created)


def write_outlines(title: str, outlines: Sequence[Outline], created: datetime) -> str:
    """An OPML 2.0 list of `outlines`, flat, their folders written as categories.

    Names and titles come from feeds.yaml and from the blogs: the characters XML
    forbids are taken out of them, or one control character makes the list unreadable.
    """
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = strip_forbidden_chars(title)
    stamp = format_datetime(created.astimezone(UTC), usegmt=True)
    ElementTree.SubElement(head, "dateCreated").text = stamp
    body = ElementTree.SubElement(root, "body")
    for outline in outlines:
        attributes = {"type": outline.type, "text": outline.text, "xmlUrl": outline.xml_url}
        if outline.title:
            attributes["title"] = outline.title
        if outline.html_url:
            attributes["htmlUrl"] = outline.html_url
        if outline.categories:
            attributes["category"] = ",".join(outline.categories)
        ElementTree.SubElement(body, "outline", {
            key: strip_forbidden_chars(value) for key, value in attributes.items()})
    ElementTree.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ElementTree.tostring(root, encoding="unicode") + "\n")
