"""publish.feeds.distinct_updates: no two entries of a feed updated at the same instant,
the first stored keeping its own second, and in time linear in the entries."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aggregator.publish.feeds import FeedItem, distinct_updates

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ITEM = FeedItem(id="", title="t", link=None, content_html="", summary="", author=None,
                published=NOON, updated=NOON, source_title="b", source_url="",
                source_feed="b", tags=())


def _items(seconds: list[int]) -> list[FeedItem]:
    return [replace(ITEM, id=f"urn:{n:05d}", updated=NOON + timedelta(seconds=s),
                    first_seen=NOON + timedelta(minutes=n))
            for n, s in enumerate(seconds)]


def _first_free(items: list[FeedItem]) -> list[datetime]:
    """The rule as first written (each item's first free millisecond from its own
    second, searched one by one), to compare with: quadratic, fine for a few items."""
    seen: set[datetime] = set()
    given: dict[int, datetime] = {}
    for index in sorted(range(len(items)), key=lambda i: (
            items[i].updated, items[i].first_seen, items[i].id)):
        updated = items[index].updated
        while updated in seen:
            updated += timedelta(milliseconds=1)
        seen.add(updated)
        given[index] = updated
    return [given[i] for i in range(len(items))]


def test_each_instant_is_the_first_free_one_as_the_rule_says() -> None:
    rng = random.Random(7)
    for _ in range(200):
        seconds = [rng.choice([0, 0, 0, 1, 2, 5]) for _ in range(rng.randint(1, 40))]
        items = _items(seconds)
        rng.shuffle(items)
        assert [i.updated for i in distinct_updates(items)] == _first_free(items)


def test_more_entries_in_a_second_than_it_has_milliseconds_stay_distinct() -> None:
    # 2,500 undated entries of one day, and one in the next second: the run of the first
    # second goes past it, and the next second's entry follows the run.
    items = _items([0] * 2500 + [1])
    updated = [i.updated for i in distinct_updates(items)]
    assert len(set(updated)) == 2501
    assert updated[0] == NOON and updated[2499] == NOON + timedelta(milliseconds=2499)
    assert updated[2500] == NOON + timedelta(milliseconds=2500)

