"""Day-page view models: grouping by tag and blog, reading time, local dates; a busy day."""

from __future__ import annotations

import logging
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from aggregator.config.load import FeedConfig, Settings
from aggregator.models import Copy, Enclosure, StoredEntry
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.digest import (
    PAGE_SIZE,
    DayTotals,
    build_archive,
    build_day_page,
    build_month,
    build_pager,
    day_bounds,
    day_link,
    local_day,
    local_days,
    page_count,
    page_path,
    reading_minutes,
    stamp,
)
from aggregator.publish.environment import make_environment, templates_dir
from aggregator.publish.feeds import tag_feeds
from aggregator.publish.folding import fold
from aggregator.publish.render import _common_context, recent_days, render_day_page, render_site
from aggregator.store import Store
from tests.conftest import FeedServer, Site

DAY = date(2013, 12, 12)
NOON = datetime(2013, 12, 12, 11, 0, tzinfo=UTC)


def settings(language: str = "fr") -> Settings:
    return Settings(database="sqlite://", output_dir=Path("public"), language=language)


def stored(title: str, blog: str, tags: tuple[str, ...] = (), *, minute: int = 0,
           content: str = "", summary: str = "", copies: tuple[Copy, ...] = ()) -> StoredEntry:
    """A stored entry of `blog`, published on DAY at noon plus `minute` minutes."""
    dated = NOON + timedelta(minutes=minute)
    return StoredEntry(
        feed_name=blog, feed_title=blog, feed_url=f"https://{len(blog)}.example/feed",
        site_url=f"https://{len(blog)}.example/", tags=tags, identity=title, title=title,
        link=f"https://{len(blog)}.example/{minute}", author="Isabelle", published=dated,
        updated=None, first_seen=dated, dated=dated, changed=dated, content=content,
        summary=summary, excerpt=summary[:50], copies=copies)


def test_entries_are_grouped_by_first_tag_then_blog_untagged_last() -> None:
    entries = [
        stored("Sans étiquette", "Zeta", minute=1),
        stored("Drôle", "Vis ma vie", ("humour", "community management"), minute=5),
        stored("Métier 2", "Mon métier", ("community management",), minute=9),
        stored("Métier 1", "Mon métier", ("community management",), minute=2),
        stored("Écrire", "Plume", ("écriture",), minute=3),
        stored("Autre", "alpha", ("community management", "humour"), minute=4),
    ]
    page = build_day_page(DAY, entries, settings(), previous=None, following=None)
    assert [(g.tag, g.count) for g in page.groups] == [
        ("community management", 3), ("écriture", 1), ("humour", 1), (None, 1)]
    community = page.groups[0]
    assert [b.name for b in community.blogs] == ["alpha", "Mon métier"]
    assert [e.title for e in community.blogs[1].entries] == ["Métier 1", "Métier 2"]
    # A blog with several tags is listed once, under its first tag only.
    titles = [e.title for g in page.groups for b in g.blogs for e in b.entries]
    assert sorted(titles) == sorted(e.title for e in entries)
    assert page.groups[2].blogs[0].entries[0].tags == ("humour", "community management")
    assert (page.count, page.blog_count) == (6, 5)


def test_reading_time_counts_the_full_text_at_230_words_a_minute() -> None:
    def minutes(words: int, **fields: Any) -> int:
        text = " ".join(["mot"] * words)
        return reading_minutes(stored("T", "B", **{"content": f"<p>{text}</p>", **fields}))

    assert minutes(0) == 1
    assert minutes(10) == 1
    assert minutes(344) == 1
    assert minutes(345) == 2
    assert minutes(2300) == 10
    # Markup is not read: tags and attributes do not count as words.
    html = '<p class="a b c d e f">' + "<em>mot</em> " * 460 + "</p>"
    assert reading_minutes(stored("T", "B", content=html)) == 2
    # Without full content the summary is all there is to read.
    assert reading_minutes(stored("T", "B", summary="mot " * 920)) == 4


def test_days_are_labelled_the_local_way() -> None:
    french, english = day_link(DAY, "fr"), day_link(DAY, "en")
    assert (french.label, french.heading, french.short) == (
        "jeudi 12 décembre 2013", "Jeudi 12 décembre 2013", "jeudi 12")
    assert (english.label, english.heading, english.short) == (
        "Thursday, December 12, 2013", "Thursday, December 12, 2013", "Thursday 12")
    assert english.path == "digest/2013-12-12.html"
    days = [date(2014, 1, 2), DAY, date(2013, 12, 1)]
    articles = [1, 95, 3]
    assert [(m.label, len(m.days), m.articles) for m in build_archive(days, articles, "fr")] == [
        ("Janvier 2014", 1, 1), ("Décembre 2013", 2, 98)]
    english = build_archive(days, articles, "en")
    assert [m.label for m in english] == ["January 2014", "December 2013"]
    assert [m.anchor for m in english] == ["2014-01", "2013-12"]


def test_times_are_local_to_the_configured_zone() -> None:
    copy = Copy("Miroir", "Miroir", "https://miroir.example/", NOON - timedelta(days=1))
    entry = stored("T", "B", minute=47, copies=(copy,))
    french = build_day_page(DAY, [entry], settings("fr"), None, None)
    english = build_day_page(DAY, [entry], settings("en"), None, None)
    [view_fr] = french.groups[0].blogs[0].entries
    [view_en] = english.groups[0].blogs[0].entries
    assert (view_fr.time_label, view_fr.iso_time) == ("12:47", "2013-12-12T12:47:00+01:00")
    assert view_en.time_label == "12:47\u202fPM"
    assert view_fr.also[0].date_label == "11 déc. 2013"
    assert view_en.also[0].date_label == "Dec 11, 2013"
    now = stamp(datetime(2026, 11, 21, 18, 0, tzinfo=UTC), settings("fr"))
    assert (now.date_label, now.time_label) == ("samedi 21 novembre 2026", "19:00")


# A busy day, generated: 50 entries from 8 blogs, and three months of quieter days before it.
BUSY_DAY = date(2024, 3, 14)
BUSY_NOW = datetime(2024, 3, 15, 8, 0, tzinfo=UTC)
BUSY_BLOGS = [
    ("Le blog du modérateur", ["modération", "community management"], 7),
    ("Social Media Café", ["réseaux sociaux"], 7),
    ("Mon métier, c’est le web", ["community management"], 7),
    ("Brand content & Cie", ["contenu", "marketing"], 6),
    ("Veille & outils", ["outils"], 6),
    ("L’œil du CM", ["community management", "humour"], 6),
    ("Data & audiences", ["données"], 6),
    ("Un blog sans étiquette", [], 5),
]
WORDS = [
    "communauté", "modération", "réseaux", "sociaux", "contenu", "éditorial", "stratégie",
    "engagement", "audience", "marque", "conversation", "veille", "outil", "publication",
    "abonnés", "mœurs", "l’algorithme", "«\xa0bonnes", "pratiques\xa0»", "données", "mesure",
    "influence", "hashtag", "œuvre", "réponse", "commentaire", "crise", "calendrier", "ligne",
    "ton", "humour", "métier",
]
AUTHORS = ["Isabelle", "Chifoumy", "Marc-Antoine"]
LONG_WORDS = ["#CommunityManagementAppreciationDay2024",
              "https://exemple.example/un/lien/tres/long/colle/dans/le/texte?utm_source=x"]


def _sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    if rng.random() < 0.1:
        chosen[rng.randrange(words)] = rng.choice(LONG_WORDS)
    return " ".join(chosen).capitalize() + "."


def _item(rng: random.Random, blog: int, index: int, moment: datetime) -> str:
    title = _sentence(rng, rng.randint(4, 16)).rstrip(".")
    paragraphs = "".join(f"<p>{_sentence(rng, rng.randint(40, 120))}</p>"
                         for _ in range(rng.randint(2, 14)))
    return (f"<item><title>{escape(title)}</title>"
            f"<link>https://blog{blog}.example/{moment:%Y/%m/%d}/{index}</link>"
            f"<guid>https://blog{blog}.example/?p={index}</guid>"
            f"<dc:creator>{rng.choice(AUTHORS)}</dc:creator>"
            f"<pubDate>{moment.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description>{escape(_sentence(rng, 30))}</description>"
            f"<content:encoded>{escape(paragraphs)}</content:encoded></item>")


def _rss(title: str, index: int, items: list[str]) -> bytes:
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
            f"<title>{escape(title)}</title><link>https://blog{index}.example/</link>"
            f"<description>Blog</description>{''.join(items)}</channel></rss>").encode()


def make_busy_site(feed_server: FeedServer, make_config: Any, language: str = "fr") -> Site:
    """Poll generated feeds (50 entries on BUSY_DAY, one a day for 90 days before) and render."""
    rng = random.Random(14)
    feeds = []
    start = datetime(2024, 3, 14, 5, 30, tzinfo=UTC)  # 06:30 in Paris
    for index, (name, tags, count) in enumerate(BUSY_BLOGS):
        items = [_item(rng, index, n, start + timedelta(minutes=rng.randint(0, 16 * 60)))
                 for n in range(count)]
        url = feed_server.set(f"/busy{index}.rss", _rss(name, index, items))
        feeds.append({"name": name, "url": url, "tags": tags})
    history = [_item(rng, 99, n, start - timedelta(days=n + 1)) for n in range(90)]
    feeds.append({"name": "Chroniques d’hier", "url": feed_server.set(
        "/history.rss", _rss("Chroniques d’hier", 99, history)), "tags": ["chroniques"]})
    config = make_config(feeds, language=language, title="Veille community management")
    store = Store.open(config.settings.database)
    update_feeds(store, make_session(), config, BUSY_NOW)
    render_site(store, config.settings, config.feeds, BUSY_NOW)
    return Site(config, store, config.settings.output_dir)


def test_a_busy_day_lists_50_entries_once_in_under_100_kb(
    feed_server: FeedServer, make_config: Any
) -> None:
    site = make_busy_site(feed_server, make_config)
    try:
        page = site.text(f"digest/{BUSY_DAY.isoformat()}.html")
        css = site.text("style.css")
        weight = len(page.encode()) + len(css.encode())
        assert weight < 100_000, f"{weight} bytes of HTML and CSS"
        index = site.text("index.html")
        assert len(index.encode()) + len(css.encode()) < 100_000
        assert page.count('<article class="entry"') == 50
        assert "<p class=\"summary\">50 articles, 8 blogs</p>" in page
        # Tags in order, untagged last; a blog with two tags only under its first.
        headings = [re.sub("<[^>]+>", "", line.split("<span")[0]).strip()
                    for line in page.splitlines() if '<h2 id="topic-' in line]
        assert headings == ["community management", "contenu", "données", "modération",
                            "outils", "réseaux sociaux", "Autres"]
        assert "humour" not in headings and "marketing" not in headings
        assert ('<h2 id="topic-1"><a href="../tags/community-management/index.html">'
                'community management</a> <span class="count">13 articles') in page
        # Beside the day, the days of its month only; the other months are one link away.
        assert '<h3 class="month">Mars 2024 <span class="count">(14)</span></h3>' in page
        assert "Février 2024" not in page
        assert '<a href="../archive.html">Tous les mois</a>' in page
        archive = site.text("archive.html")
        assert [m in archive for m in ("Mars 2024", "Février 2024", "Janvier 2024",
                                       "Décembre 2023")] == [True] * 4
        assert archive.count('<a href="digest/') == 91
    finally:
        site.store.close()


def test_a_day_page_needs_the_view_model_only() -> None:
    # The template renders from the view model alone: no store, every name defined.
    page = build_day_page(DAY, [stored("Seul", "Blog", ("tag",), summary="Un texte.")],
                          settings(), previous=DAY - timedelta(days=1), following=None)
    base = replace(settings(), title="Veille")
    month = build_month(DAY.replace(day=1), [DAY], "fr")
    html = render_day_page(make_environment(), page, _common_context(base), month)
    assert "<h1>Jeudi 12 décembre 2013</h1>" in html
    assert '<p class="summary">1 article, 1 blog</p>' in html
    assert 'rel="prev" href="../digest/2013-12-11.html"' in html
    assert 'rel="next"' not in html
    assert '<nav class="topics"' not in html  # one topic: no table of topics
    assert '<a href="../digest/2013-12-12.html" aria-current="page">jeudi 12</a>' in html


def test_an_entry_in_another_language_says_so() -> None:
    english = replace(stored("Hello", "Blog", summary="Some text."), language="en-US")
    french = replace(stored("Bonjour", "Blog", minute=1, summary="Du texte."), language="fr-FR")
    odd = replace(stored("Bizarre", "Blog", minute=2), language="en US; q=1")
    page = build_day_page(DAY, [english, french, odd], settings(), None, None)
    assert [e.lang for e in page.groups[0].blogs[0].entries] == ["en-US", None, None]
    html = render_day_page(make_environment(), page, _common_context(settings()))
    assert '<h4 id="article-1" lang="en-US"><a href=' in html
    assert '<p class="excerpt" lang="en-US">Some text.</p>' in html
    assert html.count(' lang="') == 3  # <html>, and the English entry's title and excerpt


# The edges of the calendar: a feed's "0001-01-01" or "9999-12-31" stored by an older
# version must never stop a render.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
ZONES = ["Europe/Paris", "America/Los_Angeles", "Pacific/Kiritimati", "UTC"]


@pytest.mark.parametrize("zone", ZONES)
def test_days_at_the_edges_of_the_calendar_have_no_page(zone: str) -> None:
    tz = ZoneInfo(zone)
    assert local_day(EARLIEST, tz) is None and local_day(LATEST, tz) is None
    # Near the edges, a moment is on no page, or on a day whose bounds exist and hold it.
    near = [EARLIEST + timedelta(hours=h) for h in range(0, 72, 1)]
    near += [LATEST - timedelta(hours=h) for h in range(0, 72, 1)]
    days = set()
    for moment in near:
        day = local_day(moment, tz)
        if day is not None:
            start, end = day_bounds(day, tz)
            assert start <= moment < end, (moment, day)
            days.add(day)
    assert {date(1, 1, 2), date(9999, 12, 30)} <= days


def test_local_days_leave_out_the_edges_and_say_so(caplog: pytest.LogCaptureFixture) -> None:
    paris = ZoneInfo("Europe/Paris")
    with caplog.at_level(logging.WARNING, logger="aggregator.publish.digest"):
        days = local_days([EARLIEST, NOON, LATEST, NOON + timedelta(days=1)], paris)
    assert days == [DAY + timedelta(days=1), DAY]
    [record] = caplog.records
    assert record.getMessage().startswith("2 entries are filed at the edge of the calendar")
    caplog.clear()
    assert local_days([NOON], paris) == [DAY] and not caplog.records


def test_a_copy_dated_at_the_edge_of_the_calendar_is_labelled_in_utc() -> None:
    copies = (Copy("Vieux", "Vieux", None, EARLIEST), Copy("Futur", "Futur", None, LATEST))
    page = build_day_page(DAY, [stored("T", "B", copies=copies)],
                          replace(settings(), timezone="America/Los_Angeles"), None, None)
    [view] = page.groups[0].blogs[0].entries
    assert [c.date_label for c in view.also] == ["1 janv. 1", "31 déc. 9999"]


def test_a_crowded_day_is_cut_in_pages_linked_around_the_current_one() -> None:
    assert [page_count(n) for n in (0, 1, PAGE_SIZE, PAGE_SIZE + 1, 30 * PAGE_SIZE)] == [
        1, 1, 1, 2, 30]
    assert page_path(DAY, 1) == "digest/2013-12-12.html" == day_link(DAY, "fr").path
    assert page_path(DAY, 12) == "digest/2013-12-12-12.html"
    assert build_pager(DAY, DayTotals(PAGE_SIZE, 1)) is None
    total = 30 * PAGE_SIZE - 7

    def numbers(number: int) -> list[int | None]:
        pager = build_pager(DAY, DayTotals(total, 3, number, 30))
        assert pager is not None
        return [link.number if link else None for link in pager.links]

    assert numbers(1) == [1, 2, 3, None, 30]
    assert numbers(5) == [1, 2, 3, 4, 5, 6, 7, None, 30]
    assert numbers(15) == [1, None, 13, 14, 15, 16, 17, None, 30]
    assert numbers(30) == [1, None, 28, 29, 30]
    last = build_pager(DAY, DayTotals(total, 3, 30, 30))
    assert last is not None and last.next is None
    assert (last.first, last.last) == (29 * PAGE_SIZE + 1, total)
    assert last.previous and last.previous.path == "digest/2013-12-12-29.html"


def test_a_page_of_a_crowded_day_shows_its_entries_and_the_day_s_totals() -> None:
    entries = [stored(f"Billet {n}", "Blog", ("tag",), minute=n) for n in range(3)]
    page = build_day_page(DAY, entries, settings(), None, None,
                          totals=DayTotals(count=250, blogs=4, number=2, pages=3))
    assert (page.count, page.blog_count, page.path) == (250, 4, "digest/2013-12-12-2.html")
    assert page.groups[0].count == 3
    html = render_day_page(make_environment(), page, _common_context(settings()))
    assert '<p class="summary">250 articles, 4 blogs</p>' in html
    assert "<title>Jeudi 12 décembre 2013 · page 2 · " in html
    assert html.count("Page 2 sur 3\xa0: articles 101 à 200") == 2  # above and below
    assert html.count('<nav class="pages" aria-label="Pages du jour">') == 1
    assert '<a href="../digest/2013-12-12.html">← Page précédente</a>' in html
    assert '<a href="../digest/2013-12-12-3.html">Page suivante →</a>' in html
    assert '<a href="../digest/2013-12-12-2.html" aria-current="page">2</a>' in html


def _busy_group(count: int) -> list[StoredEntry]:
    """`count` articles of one tag from three blogs."""
    return [stored(f"Article {n}", f"Blog {n % 3}", ("modération",), minute=n,
                   summary="Un texte.") for n in range(count)]


@pytest.mark.parametrize(("count", "folded"), [(6, 0), (8, 0), (9, 3), (18, 12)])
def test_a_big_group_shows_six_articles_and_folds_the_others(count: int, folded: int) -> None:
    page = build_day_page(DAY, _busy_group(count), settings(), None, None)
    [group] = page.groups
    shown, hidden = fold(group.blogs)
    assert sum(len(b.entries) for b in shown) == count - folded
    assert sum(len(b.entries) for b in hidden) == folded
    # Nothing lost, nothing twice, in the page's order; the feed's view keeps every blog whole.
    titles = [e.title for part in (shown, hidden) for b in part for e in b.entries]
    assert titles == [e.title for b in group.blogs for e in b.entries]
    html = render_day_page(make_environment(), page, _common_context(settings()))
    assert html.count('<article class="entry"') == count
    assert html.count("<details") == (1 if folded else 0)
    if folded:
        assert f"<summary>{folded} autres articles</summary>" in html
        # The cards stay numbered through the page: search results link into the fold.
        assert f'id="article-{count}"' in html.split("<details")[1]


def test_a_fold_can_cut_a_blog_in_two() -> None:
    entries = [stored(f"A{n}", "Blog A", ("t",), minute=n) for n in range(4)] + [
        stored(f"B{n}", "Blog B", ("t",), minute=n) for n in range(6)]
    [group] = build_day_page(DAY, entries, settings(), None, None).groups
    shown, hidden = fold(group.blogs)
    assert [(b.name, len(b.entries)) for b in shown] == [("Blog A", 4), ("Blog B", 2)]
    assert [(b.name, len(b.entries)) for b in hidden] == [("Blog B", 4)]


def test_one_folded_article_says_so_in_the_singular() -> None:
    entries = [stored(f"A{n}", "Blog A", ("t",), minute=n) for n in range(9)]
    html = render_day_page(make_environment(language="en"),
                           build_day_page(DAY, entries, settings("en"), None, None),
                           _common_context(settings("en")))
    assert "<summary>3 more articles</summary>" in html
    env = make_environment(language="fr")
    template = env.from_string("{{ ngettext('%(num)d more article', '%(num)d more articles', 1) }}")
    assert template.render() == "1 autre article"


def test_the_index_lists_the_days_before_the_latest_with_their_articles() -> None:
    days = [DAY - timedelta(days=n) for n in range(20)]
    recent = recent_days(days, list(range(20, 0, -1)), "fr")
    assert len(recent) == 13  # two weeks back
    assert recent[0].link.day == DAY - timedelta(days=1) and recent[0].count == 19
    assert recent[0].link.heading == "Mercredi 11 décembre 2013"
    assert recent_days(days[:1], [3], "fr") == ()


def test_a_card_shows_its_lead_image_lazily_in_a_reserved_box() -> None:
    content = '<p><img src="https://1.example/photo.jpg" width="1200" height="630"></p>'
    entries = [stored("Avec image", "Blog", ("t",), content=content, summary="Un texte."),
               replace(stored("Vignette", "Blog", ("t",), minute=1),
                       thumbnail="https://1.example/thumb.jpg"),
               stored("Sans image", "Blog", ("t",), minute=2),
               replace(stored("Pièce jointe", "Blog", ("t",), minute=3),
                       enclosures=(Enclosure("https://1.example/cover.png", "image/png"),
                                   Enclosure("https://1.example/guide.pdf", "application/pdf")))]
    html = render_day_page(make_environment(),
                           build_day_page(DAY, entries, settings(), None, None),
                           _common_context(settings()))
    assert ('<img class="lead" src="https://1.example/photo.jpg" width="1200" height="630" '
            'style="aspect-ratio:1200/630" loading="lazy" decoding="async" '
            'referrerpolicy="no-referrer" alt="">') in html
    assert ('<img class="lead" src="https://1.example/thumb.jpg" loading="lazy" '
            'decoding="async" referrerpolicy="no-referrer" alt="">') in html
    assert html.count("<img") == 3 and 'src="https://1.example/cover.png"' in html
    # The picture is not listed again as an attached file; the PDF is.
    assert 'href="https://1.example/cover.png"' not in html
    assert 'href="https://1.example/guide.pdf"' in html


def test_a_100_article_day_weighs_at_most_120_kb_of_html_and_css() -> None:
    # The busy day's mix (titles of 4 to 16 words, full 60-word excerpts), two thirds with
    # a lead image at a CDN's address, half with categories of their own, chips as links.
    rng = random.Random(22)
    entries = []
    for n in range(100):
        name, tags, _count = BUSY_BLOGS[n % 8]
        entry = stored(_sentence(rng, rng.randint(4, 16)).rstrip("."), name, tuple(tags),
                       minute=n)
        image = f"https://cdn.example/wp-content/uploads/2024/03/illustration-{n}-1200x630.jpg"
        entries.append(replace(entry, excerpt=_sentence(rng, 60),
                               thumbnail=image if n % 3 else None,
                               categories=("veille", "réseaux") if n % 2 else ()))
    page = build_day_page(DAY, entries, settings(), DAY - timedelta(days=1), None)
    feeds = [FeedConfig(name=name, url=f"https://{n}.example/feed", tags=tuple(tags))
             for n, (name, tags, _count) in enumerate(BUSY_BLOGS)]
    common = _common_context(settings(), tag_feeds(feeds), feeds)
    html = render_day_page(make_environment(), page, common,
                           build_month(DAY.replace(day=1), [DAY], "fr"))
    css = (templates_dir() / "static" / "style.css").read_text("utf-8")
    assert html.count('<article class="entry"') == 100 and html.count("<details") >= 5
    assert html.count('<img class="lead"') == 66 and html.count("../tags/") > 20
    weight = len(html.encode()) + len(css.encode())
    assert weight <= 120_000, f"{weight} bytes of HTML and CSS"
