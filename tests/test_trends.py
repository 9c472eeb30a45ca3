"""The week's trends: French key phrases that rose against the four weeks before, and
the index of a rendered site showing them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aggregator.config.load import FeedConfig, Filters
from aggregator.models import CleanEntry, PollRecord
from aggregator.poll.clean import make_excerpt
from aggregator.publish import trends as trends_module
from aggregator.publish.filters import EntryFilter
from aggregator.publish.pages import DayEntries
from aggregator.publish.trends import (
    MAX_TRENDS,
    Counted,
    FrontPage,
    Text,
    Trend,
    key_phrases,
    period,
    rising,
    text_digest,
    trends,
)
from aggregator.store import Store
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


# The trends of a render: phrases kept in the store, a bounded sample of each day.


def _store(tmp_path: Path, articles: dict[str, list[tuple[str, str, datetime]]]) -> Store:
    """A SQLite store of blogs' articles (identity, title, excerpt, date)."""
    store = Store.open(f"sqlite:///{tmp_path / 'trends.db'}")
    store.sync_feeds([FeedConfig(blog, f"https://{blog}.example/feed") for blog in articles])
    for blog, items in articles.items():
        _save(store, blog, items)
    return store


def _save(store: Store, blog: str, items: list[tuple[str, str, datetime]]) -> None:
    entries = [CleanEntry(identity=title.split(". ")[0],
                          signature=str(text_digest(title + excerpt)), title=title,
                          link=None, author=None, published=dated, updated=None,
                          content=excerpt, summary=excerpt, excerpt=excerpt)
               for title, excerpt, dated in items]
    store.save_poll(blog, PollRecord(polled_at=NOW, next_poll=NOW, status=200), entries)


def _front(store: Store) -> FrontPage:
    return FrontPage(DayEntries(store, EntryFilter(Filters(), []), ZoneInfo("Europe/Paris")))


def test_a_huge_weeks_sample_finds_the_trends_the_whole_week_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """240 articles a day over five weeks, 60 of each day read: the two phrases that
    rise are found in the same order as from every article, with about their counts;
    the 30 that stay as common as before are not."""
    monkeypatch.setattr(trends_module, "DAY_SAMPLE", 60)
    rng = random.Random(7)
    articles: dict[str, list[tuple[str, str, datetime]]] = {f"blog{b}": [] for b in range(4)}
    for n in range(35 * 240):
        days_ago = n // 240 + rng.random()
        week = days_ago < 7
        phrases = {f"sujet{rng.randrange(30)}" for _ in range(3)}
        if rng.random() < (0.3 if week else 0.01):
            phrases.add("threads europe")
        if rng.random() < (0.15 if week else 0.02):
            phrases.add("digital act")
        # The title names the article's phrases: what YAKE would find is kept below.
        articles[f"blog{n % 4}"].append((f"{n}. {' | '.join(sorted(phrases))}", "",
                                         NOW - timedelta(days=days_ago)))
    store = _store(tmp_path, articles)
    texts = store.entry_texts([r.id for r in store.entry_refs_between(*period(NOW))])
    counted = [Counted(t.blog.title, frozenset(t.title.split(". ")[1].split(" | ")), t.dated)
               for t in texts]
    store.keep_entry_phrases((t.id, text_digest(f"{t.title}. {t.excerpt}"), c.phrases)
                             for t, c in zip(texts, counted, strict=True))
    whole = rising(counted, NOW)
    sampled = _front(store).trends(NOW)
    store.close()
    assert [t.phrase for t in whole] == [t.phrase for t in sampled] == [
        "threads europe", "digital act"]
    for one, other in zip(whole, sampled, strict=True):
        # Each article read stands for 4: a count's standard error is 4·√(count/4).
        assert abs(one.count - other.count) <= 3 * 2 * one.count ** 0.5, (whole, sampled)


def _yake_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts YAKE is asked for phrases from, from now on (it still finds them)."""
    import yake

    calls: list[str] = []
    extract = yake.KeywordExtractor.extract_keywords

    def counted(self: Any, text: str) -> Any:
        calls.append(text)
        return extract(self, text)

    monkeypatch.setattr(yake.KeywordExtractor, "extract_keywords", counted)
    return calls


def _week(numbers: tuple[int, ...]) -> dict[str, list[tuple[str, str, datetime]]]:
    """The articles `numbers` of the labelled set, on the last days, and the X API
    articles every week before (as in test_a_story_of_the_week_rises...)."""
    articles: dict[str, list[tuple[str, str, datetime]]] = {}
    dated = [(n, 1 + i / 10) for i, n in enumerate(numbers)]
    dated += [(n, days) for days in (9, 16, 23, 27) for n in (9, 10, 11)]
    for n, days_ago in dated:
        text = _text(n, days_ago)
        title, excerpt = text.text.split(". ", 1)
        articles.setdefault(text.blog, []).append(
            (f"{n}-{days_ago}. {title}", excerpt, text.dated))
    return articles


def test_phrases_are_kept_for_the_next_render_and_found_a_bounded_few_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path, _week((12, 13, 14, 9, 10, 33)))
    expected = trends((Text(t.blog.title, f"{t.title}. {t.excerpt}", t.dated)
                       for t in store.entry_texts(
                           [r.id for r in store.entry_refs_between(*period(NOW))])), NOW)
    calls = _yake_calls(monkeypatch)
    monkeypatch.setattr(trends_module, "NEW_PHRASES", 10)
    assert Trend("threads", 3) in expected
    found = [_front(store).trends(NOW) for _ in range(3)]  # each render a FrontPage
    # 18 articles: 10 found by the first render, 8 by the second, none by the third,
    # which counts them all, as trends() over every text does.
    assert len(calls) == 18 and len(set(calls)) == 18
    assert found[1] == found[2] == expected
    store.close()


def test_an_edited_article_gets_new_phrases(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path, _week((12, 13, 14)))
    _front(store).trends(NOW)
    [edited] = [t for t in store.entry_texts(
        [r.id for r in store.entry_refs_between(*period(NOW))]) if t.title.startswith("12-")]
    calls = _yake_calls(monkeypatch)
    new_title = f"{edited.title} : Bluesky répond"
    _save(store, edited.blog.title, [(new_title, edited.excerpt, edited.dated)])
    _front(store).trends(NOW)
    assert calls == [f"{new_title}. {edited.excerpt}"]  # the others' kept ones serve
    digest, phrases = store.entry_phrases([edited.id])[edited.id]
    assert digest == text_digest(calls[0]) and "bluesky" in phrases
    store.close()


def test_kept_phrases_go_with_their_entry(tmp_path: Path) -> None:
    store = _store(tmp_path, _week((12, 13)))
    ids = [r.id for r in store.entry_refs_between(*period(NOW))]
    _front(store).trends(NOW)
    assert set(store.entry_phrases(ids)) == set(ids)
    store.prune(NOW + timedelta(days=1), keep_per_feed=0)
    assert store.entry_phrases(ids) == {}
    store.close()
