"""Big groups of a day page folded: the first articles shown, the others behind a summary
("12 autres articles") that opens without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from aggregator.publish.digest import BlogGroup

Group = TypeVar("Group", bound="BlogGroup")

# A tag's section of a day shows this many articles, the rest folded under a summary
# ("12 autres articles"); it folds only when that hides at least FOLDED_AT_LEAST of them,
# as a summary hiding one article takes nearly its room.
SHOWN_PER_GROUP, FOLDED_AT_LEAST = 6, 3


def fold(blogs: Sequence[Group], shown: int = SHOWN_PER_GROUP,
         at_least: int = FOLDED_AT_LEAST) -> tuple[tuple[Group, ...], tuple[Group, ...]]:
    """`blogs` cut after their first `shown` articles (a blog's articles may be cut in
    two); nothing is folded when fewer than `at_least` articles would be."""
    if sum(len(blog.entries) for blog in blogs) - shown < at_least:
        return tuple(blogs), ()
    before: list[Group] = []
    after: list[Group] = []
    left = shown
    for blog in blogs:
        kept, rest = blog.entries[:left], blog.entries[left:]
        left -= len(kept)
        if kept:
            before.append(replace(blog, entries=kept))
        if rest:
            after.append(replace(blog, entries=rest))
    return tuple(before), tuple(after)
