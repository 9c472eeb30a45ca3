"""Subscription lists exchanged with other feed readers (OPML 1.0 and 2.0)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from aggregator.config.load import FeedConfig
from aggregator.i18n import _
from aggregator.models import FeedState
from aggregator.xmlchars import strip_forbidden_chars


class OpmlError(ValueError):
    """The file is not an OPML subscription list."""


def read_opml(content: bytes) -> list[FeedConfig]:
    """The feeds of an OPML file; folders and `category` attributes become tags."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise OpmlError(_("not valid XML: %(error)s") % {"error": exc}) from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise OpmlError(_("not an OPML document (no <opml><body>)"))
    return _feeds_in(body)


def _feeds_in(body: ElementTree.Element) -> list[FeedConfig]:
    """The feeds under `body`, in document order, each tagged with its folders.

    Walked with a stack, not by recursion: folders nested a thousand deep are only
    a larger list (Python's recursion stops near there)."""
    feeds: list[FeedConfig] = []
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
        categories = re.split(r"[,/]", outline.get("category") or "")
        tags = tuple(dict.fromkeys(t.strip() for t in (*folders, *categories) if t.strip()))
        name = label or (urlsplit(url).hostname or url)
        feeds.append(FeedConfig(name=name[:200], url=url, tags=tags))
    return feeds


def write_opml(title: str, feeds: Sequence[FeedConfig], states: Mapping[str, FeedState],
               created: datetime) -> str:
    """An OPML 2.0 list of `feeds`, with each blog's title and home page when known.

    Names and titles come from feeds.yaml and from the blogs: the characters XML
    forbids are taken out of them, or one control character makes the list unreadable.
    """
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = strip_forbidden_chars(title)
    stamp = format_datetime(created.astimezone(UTC), usegmt=True)
    ElementTree.SubElement(head, "dateCreated").text = stamp
    body = ElementTree.SubElement(root, "body")
    for feed in feeds:
        state = states.get(feed.name)
        attributes = {"type": "rss", "text": feed.name,
                      "title": (state.title if state and state.title else feed.name),
                      "xmlUrl": feed.url}
        if state and state.site_url:
            attributes["htmlUrl"] = state.site_url
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        ElementTree.SubElement(body, "outline", {
            key: strip_forbidden_chars(value) for key, value in attributes.items()})
    ElementTree.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ElementTree.tostring(root, encoding="unicode") + "\n")
