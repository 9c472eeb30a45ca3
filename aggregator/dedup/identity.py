"""Within one feed: the key that makes an entry the same one from poll to poll, and the
signature that tells when its stored copy must be updated."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from aggregator.models import ParsedEntry

# Unique indexes on long text are costly (and capped on PostgreSQL), so long keys are hashed.
_MAX_KEY = 500


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def normalize_link(link: str) -> str:
    """A link with its scheme and host lower-cased and its fragment dropped."""
    parts = urlsplit(link.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def entry_identity(guid: str | None, link: str | None, title: str, content: str) -> str:
    """Within one feed: the guid, else the normalized link, else a hash of title and content."""
    if guid:
        key = "id:" + guid
    elif link:
        key = "link:" + normalize_link(link)
    else:
        return "hash:" + _digest(title, content)
    if len(key) <= _MAX_KEY:
        return key
    kind = key.split(":", 1)[0]
    return f"{kind}:sha256:{_digest(key)}"


def entry_signature(
    title: str, link: str | None, author: str | None, content: str, summary: str,
    media: Sequence[str] = (),
) -> str:
    """A hash of what a reader sees of an entry: when it changes, the stored copy is updated.

    The date is left out: some blogs re-date a post on every poll, and that
    alone must not make it "updated" (the store handles dates on their own).
    """
    return _digest(title, link or "", author or "", content, summary, *media)


def distrust_shared_guids(entries: Sequence[ParsedEntry]) -> list[ParsedEntry]:
    """Drop guids that one document gives to several different links.

    Some feeds reuse one <guid> for every item; trusting it would keep only the
    first post, so those entries fall back to their links for identity.
    """
    links_by_guid: dict[str, set[str | None]] = {}
    for entry in entries:
        if entry.guid:
            links_by_guid.setdefault(entry.guid, set()).add(entry.link)
    shared = {guid for guid, links in links_by_guid.items() if len(links) > 1}
    return [replace(e, guid=None) if e.guid in shared and e.link else e for e in entries]
