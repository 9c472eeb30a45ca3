"""The week's trends: French key phrases that rose against the four weeks before, and
the index of a rendered site showing them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.poll.clean import make_excerpt
from aggregator.publish.trends import MAX_TRENDS, Text, Trend, key_phrases, period, trends
from tests.conftest import DATA

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ARTICLES = {a["id"]: a for a in json.loads((DATA / "stories" / "articles.json")
                                            .read_text("utf-8"))}


def _text(number: int, days_ago: float, blog: str | None = None) -> Text:
    item: dict[str, Any] = ARTICLES[number]
    return Text(blog or item["blog"], f"{item['title']}. {make_excerpt(item['text'])}",
                NOW - timedelta(days=days_ago))


def test_key_phrases_are_french_and_lowercased() -> None:
    phrases = key_phrases(_text(12, 0).text)
    assert {"threads", "meta"} <= phrases
    assert all(p == p.lower() for p in phrases) and not {"les", "des", "est"} & phrases


def test_key_phrases_leave_out_the_trades_vocabulary_and_elided_articles() -> None:
    text = ("Faire vivre une communauté : le community manager de l’agence explique "
            "comment l’étiquette des publications LinkedIn change la newsletter.")
    phrases = key_phrases(text)
    # Words every community-management post uses say nothing of this week's subject.
    assert not {"faire", "communauté", "community manager", "community"} & phrases
    assert not any(p.startswith(("l’", "l'")) for p in phrases), phrases
    assert {"linkedin", "newsletter"} & phrases, phrases


def test_a_story_of_the_week_rises_above_what_was_there_before() -> None:
    """Threads in Europe is told by three blogs this week; the X API was told every week
    before, and so it is no trend though two blogs tell it again."""
    week = [_text(n, 1) for n in (12, 13, 14, 9, 10, 33)]
    before = [_text(n, days) for days in (9, 16, 23, 27) for n in (9, 10, 11)]
    found = trends(week + before, NOW)
    phrases = [t.phrase for t in found]
    assert Trend("threads", 3) in found
    assert not any("dollar" in p or "api" in p.split() for p in phrases), phrases
    assert "calendrier" not in phrases  # one blog's article is no trend
    assert len(phrases) == len(set(phrases)) <= MAX_TRENDS
    for one in phrases:  # phrases sharing a word are one trend
        assert all(not set(one.split()) & set(other.split())
                   for other in phrases if other != one)


def test_only_the_last_five_weeks_count() -> None:
    start, end = period(NOW)
    assert (end - start, end) == (timedelta(days=35), NOW)
    old = [_text(n, 40) for n in (9, 10, 11)] * 5  # the X API, long ago: no brake
    week = [_text(n, 2) for n in (9, 10, 11)]
    assert any("dollars" in t.phrase or "basic" in t.phrase for t in trends(old + week, NOW))
    assert trends([_text(n, 0, blog=f"b{n}") for n in (9, 10)],
                  NOW - timedelta(days=1)) == []  # articles after `now` are not counted


def test_at_most_eight_each_with_its_count() -> None:
    week = [_text(n, 3, blog=f"blog{copy}") for n in ARTICLES for copy in (1, 2)]
    found = trends(week, NOW)
    assert 0 < len(found) <= MAX_TRENDS
    assert all(t.count >= 2 for t in found)
