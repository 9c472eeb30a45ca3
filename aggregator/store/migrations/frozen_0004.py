# FROZEN ON PURPOSE: NEVER EDIT THIS FILE, not even to follow a change of aggregator/dedup.
#
# A migration must compute forever what it computed when it was released. Importing
# the live dedup code would silently change the signatures migration 0004 stores
# whenever dedup changes, so it runs this copy instead: entry_signature and what it
# calls, as aggregator/dedup had them at commit 8dc9302 (issue 19), statement for
# statement, with their names and docstrings.
"""The entry signature migration 0004 computes, frozen (see the comment above)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def entry_signature(
    title: str, link: str | None, author: str | None, content: str, summary: str,
    media: Sequence[str] = (),
) -> str:
    """A hash of what a reader sees of an entry: when it changes, the stored copy is updated.

    The date is left out: some blogs re-date a post on every poll, and that
    alone must not make it "updated" (the store handles dates on their own).
    """
    return _digest(title, link or "", author or "", content, summary, *media)
