"""Edit feeds.yaml from the command line, keeping the user's comments and layout."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from aggregator.config.discover import (
    describe_no_feed,
    feed_candidates,
    find_feed_links,
    why_refused,
)
from aggregator.config.load import Config, ConfigError, FeedConfig, load_config
from aggregator.dedup import canonical_link
from aggregator.i18n import N_, _, translate_message
from aggregator.models import FetchResult
from aggregator.poll.addresses import PRIVATE_FROM_PUBLIC_REFUSED, AddressPolicy
from aggregator.poll.fetch import fetch_feed

# Where blogs keep their feed when their pages do not say (WordPress, Blogger, Ghost, Hugo…).
COMMON_FEED_PATHS = ("/feed/", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml",
                     "/feeds/posts/default", "/feed.json")


class SubscriptionError(Exception):
    """A feed could not be added or removed; the message says why."""


@dataclass(frozen=True)
class Found:
    """A feed found from an address the user gave."""

    url: str
    title: str | None
    entries: int


def discover_feed(session: requests.Session, address: str, timeout: float = 30.0,
                  addresses: AddressPolicy = PRIVATE_FROM_PUBLIC_REFUSED) -> Found:
    """The feed at `address`, or the one its page advertises, or one at a common path."""
    fetched = fetch_feed(session, address, timeout=timeout, addresses=addresses)
    if fetched.error or fetched.content is None:
        raise SubscriptionError(_("cannot fetch %(address)s: %(error)s") % {
            "address": address,
            "error": translate_message(fetched.error) if fetched.error else _("empty answer")})
    found = _read_feed(fetched, address)
    if found:
        return found
    advertised = find_feed_links(fetched.content, fetched.final_url)
    guesses = [urljoin(fetched.final_url, path) for path in COMMON_FEED_PATHS]
    refused: dict[str, str] = {}
    for candidate in feed_candidates(fetched.final_url, advertised, guesses):
        tried = _try_feed(session, candidate, timeout, addresses, address)
        if isinstance(tried, Found):
            return tried
        refused[candidate] = tried
    raise SubscriptionError(describe_no_feed(address, advertised, guesses, refused))


def _try_feed(session: requests.Session, url: str, timeout: float, addresses: AddressPolicy,
              page: str) -> Found | str:
    """The feed at `url`, or why it is none."""
    fetched = fetch_feed(session, url, timeout=timeout, addresses=addresses, origin=page)
    if fetched.error or fetched.content is None:
        return why_refused(fetched.error or N_("empty answer"), fetched.headers)
    return _read_feed(fetched, url) or why_refused(None, fetched.headers)


def _read_feed(fetched: FetchResult, address: str) -> Found | None:
    """The feed a fetched body holds, or None when it is no feed."""
    # Imported here: every command's process imports this module, and `fetch` polls
    # beside parse workers that hold feedparser already (see aggregator.poll.workers).
    from aggregator.poll.parse import ParseError, parse_feed

    assert fetched.content is not None
    try:
        parsed = parse_feed(fetched.content, fetched.headers, fetched.final_url)
    except ParseError:
        return None
    return Found(fetched.permanent_url or address, parsed.title, len(parsed.entries))


def _load(path: Path) -> tuple[YAML, CommentedMap]:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(path.read_text(encoding="utf-8"))
    if not isinstance(document, CommentedMap):
        raise SubscriptionError(_("%(path)s is not a mapping with settings: and feeds:")
                                % {"path": path})
    return yaml, document


def _save(path: Path, yaml: YAML, document: CommentedMap) -> None:
    """Write feeds.yaml beside itself, check that it loads, and only then rename it over
    the old one: neither a crash nor an edit that would not load leaves a broken file."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    try:
        load_config(temporary)
    except ConfigError as error:
        temporary.unlink()
        first = error.problems[0]
        raise SubscriptionError(_("%(path)s left unchanged: the edit would make it invalid "
                                  "(%(key)s: %(problem)s)") % {
            "path": path, "key": first.key or _("the file"), "problem": first.message}
        ) from None
    temporary.replace(path)


def add_feeds(config: Config, feeds: Sequence[FeedConfig]) -> tuple[list[str], list[str]]:
    """Append feeds to feeds.yaml; returns the names added and the duplicates skipped."""
    yaml, document = _load(config.path)
    items = document.get("feeds")
    if not isinstance(items, CommentedSeq):
        items = CommentedSeq()
        document["feeds"] = items
    names = {f.name.casefold() for f in config.feeds}
    links = {canonical_link(f.url) or f.url for f in config.feeds}
    added, skipped = [], []
    for feed in feeds:
        link = canonical_link(feed.url) or feed.url
        if feed.name.casefold() in names or link in links:
            skipped.append(feed.name)
            continue
        item = CommentedMap(name=feed.name, url=feed.url)
        if feed.tags:
            tags = CommentedSeq(feed.tags)
            tags.fa.set_flow_style()
            item["tags"] = tags
        items.append(item)
        names.add(feed.name.casefold())
        links.add(link)
        added.append(feed.name)
    if added:
        _save(config.path, yaml, document)
    return added, skipped


def find_duplicate(config: Config, url: str) -> FeedConfig | None:
    """The feed of feeds.yaml with the same address as `url`, tracking and scheme aside."""
    link = canonical_link(url) or url
    return next((f for f in config.feeds if (canonical_link(f.url) or f.url) == link), None)


def remove_feed(config: Config, name: str) -> None:
    """Delete the feed called `name` from feeds.yaml (its stored entries stay)."""
    yaml, document = _load(config.path)
    items = document.get("feeds")
    index = next((i for i, item in enumerate(items or [])
                  if isinstance(item, CommentedMap) and item.get("name") == name), None)
    if index is None:
        known = ", ".join(f.name for f in config.feeds) or _("none")
        raise SubscriptionError(_("no feed named %(name)r in %(path)s (feeds: %(names)s)")
                                % {"name": name, "path": config.path, "names": known})
    _delete_keeping_comments(items, index)
    _save(config.path, yaml, document)


def _delete_keeping_comments(items: CommentedSeq, index: int) -> None:
    """Delete one item of a block sequence; the comment lines around it that head a
    section stay, a comment on the item's own lines goes with it.

    ruamel.yaml files the lines above an item either in the sequence's slot for that
    item or, when the item before ends with a comment, in that comment's token; and
    the lines after an item's last value in the token of its own end-of-line comment.
    Deleting the item would take its slot and that token with it.
    """
    slot = items.ca.items.get(index)
    above = "".join(" " * t.column + t.value for t in (slot[1] or [])) if slot else ""
    holder, key = _last_comment(items[index])
    token = holder.get(key, [None] * 4)[2 if isinstance(key, str) else 0] if holder else None
    # The token's first line is the item's own end-of-line comment (or empty).
    below = token.value.partition("\n")[2] if token else ""
    del items[index]
    kept = above + below
    if not kept:
        return
    if index < len(items):
        before = _comment_tokens(kept)
        following = items.ca.items.setdefault(index, [None, None, None, None])
        following[1] = before + list(following[1] or [])
    elif items:
        _append_after(items[-1], kept)


def _last_comment(node: object) -> tuple[dict[object, list[CommentToken | None]] | None, object]:
    """Where the end-of-line comment of a node's last line is filed: the comment
    attributes of its innermost last block collection, and the key or index there."""
    while isinstance(node, (CommentedMap, CommentedSeq)) and node:
        key: object = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        value = node[key]
        if (isinstance(value, (CommentedMap, CommentedSeq)) and value
                and not value.fa.flow_style()):
            node = value
            continue
        return node.ca.items, key
    return None, None


def _append_after(node: object, text: str) -> None:
    """Write comment lines after a node's last line, after its own end-of-line comment."""
    holder, key = _last_comment(node)
    if holder is None:
        return
    at = 2 if isinstance(key, str) else 0
    slot = holder.setdefault(key, [None, None, None, None])
    token = slot[at]
    if token is None:
        slot[at] = CommentToken("\n" + text, CommentMark(0))
    else:
        token.value = token.value + text


def _comment_tokens(text: str) -> list[CommentToken]:
    """Comment lines as the tokens ruamel.yaml files above a sequence item."""
    return [CommentToken(line.strip() + "\n", CommentMark(len(line) - len(line.lstrip())))
            for line in text.splitlines()]


def name_for(title: str | None, url: str) -> str:
    """A feed name from its title, else from its address."""
    if title and title.strip():
        return re.sub(r"\s+", " ", title).strip()[:200]
    return (canonical_link(url) or url).split("/")[0]
