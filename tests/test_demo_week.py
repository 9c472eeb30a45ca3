"""The demo's generated week: deterministic, current, varied, and shown as intended."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from aggregator.demo import DEMO_SOURCES, demo_feeds
from aggregator.demo.formats import week_files
from aggregator.demo.week import (
    AGGREGATOR,
    BLOGS,
    PARTNER,
    PODCAST,
    STORIES,
    STORY_CATEGORY,
    sections,
    week_posts,
)
from aggregator.poll.jsonfeed import parse_json_feed

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8000/"


def local_days(now: datetime) -> list[str]:
    today = now.astimezone(PARIS).date()
    return [str(today - timedelta(days=back)) for back in range(6, -1, -1)]


def test_the_same_now_gives_the_same_bytes_and_a_later_now_a_later_week() -> None:
    files = week_files(NOW, PARIS, BASE)
    assert files == week_files(NOW, PARIS, BASE)
    later = week_posts(NOW + timedelta(days=3), PARIS)
    assert min(p.dated for p in later) > min(p.dated for p in week_posts(NOW, PARIS))
    assert sum(len(data) for data in files.values()) < 600_000


@pytest.mark.parametrize("now", [NOW, datetime(2026, 6, 30, 22, 1, tzinfo=UTC),
                                 datetime(2027, 1, 1, 0, 0, tzinfo=UTC)])
def test_seven_days_of_posts_ending_at_now(now: datetime) -> None:
    """Several articles on each of the seven days, however early in its day `now` is."""
    posts = week_posts(now, PARIS)
    assert all(p.dated <= now for p in posts)
    days = Counter(str(p.dated.astimezone(PARIS).date()) for p in posts)
    assert sorted(days) == local_days(now)
    assert min(days.values()) >= 5
    assert len({tag for p in posts for tag in p.categories} & {
        "community management", "réseaux sociaux", "modération", "marketing", "outils",
        "métier"}) == 6


def test_twenty_five_blogs_in_every_format_parse_cleanly() -> None:
    files = week_files(NOW, PARIS, BASE)
    assert len(BLOGS) >= 25
    assert Counter(b.kind for b in BLOGS).keys() == {"rss", "atom", "json", "podcast"}
    for blog in BLOGS:
        data = files[blog.filename]
        if blog.kind == "json":
            parsed = parse_json_feed(data)
            assert parsed.entries, blog.slug
            continue
        feed = feedparser.parse(data)
        assert not feed.bozo, (blog.slug, feed.get("bozo_exception"))
        assert feed.entries, blog.slug
    assert len(demo_feeds()) == len(BLOGS) + len(DEMO_SOURCES)


def test_no_two_posts_share_a_title_or_a_paragraph() -> None:
    """Composed posts are different articles (the store would merge one holding another
    as a copy, "À la une" group two alike as a story): only the two re-publishing blogs
    copy, and only the blogs' one-line sign-offs repeat."""
    originals = [p for p in week_posts(NOW, PARIS) if p.blog not in (AGGREGATOR, PARTNER)]
    assert len({p.title for p in originals}) == len(originals)
    paragraphs = Counter(text for p in originals for text in p.paragraphs)
    assert {text for text, n in paragraphs.items() if n > 1} <= set(
        sections("stories.txt")["closings"][0])
    assert sum(len(p.paragraphs) > 1 for p in originals) > len(originals) / 2


def test_copies_carry_the_original_under_another_link() -> None:
    posts = week_posts(NOW, PARIS)
    by_text = {p.paragraphs[0]: p for p in posts if p.blog not in (AGGREGATOR, PARTNER)}
    aggregated = [p for p in posts if p.blog == AGGREGATOR]
    syndicated = [p for p in posts if p.blog == PARTNER]
    assert len(aggregated) >= 5 and len(syndicated) >= 3
    for copy in aggregated + syndicated:
        original = by_text[copy.paragraphs[0]]
        assert copy.paragraphs[:len(original.paragraphs)] == original.paragraphs
        assert copy.link != original.link and copy.dated > original.dated
    assert all(c.title.endswith(by_text[c.paragraphs[0]].title) and "Vu sur" in c.title
               for c in aggregated)
    assert all("publié initialement sur" in c.paragraphs[-1] for c in syndicated)
    assert all("utm_source=" in c.link for c in aggregated)


def test_each_story_is_told_by_three_blogs_within_three_days() -> None:
    posts = week_posts(NOW, PARIS)
    for story in STORIES:
        told = [p for p in posts if STORY_CATEGORY[story] in p.categories
                and p.blog not in (AGGREGATOR, PARTNER)]
        assert len({p.blog for p in told}) == 3, story
        assert len({p.title for p in told}) == 3
        assert max(p.dated for p in told) - min(p.dated for p in told) < timedelta(days=3)


def test_pictures_podcast_and_tracking_pixel() -> None:
    files = week_files(NOW, PARIS, BASE)
    pictures = [name for name in files if name.endswith(".png")]
    assert len(pictures) >= 20
    assert all(files[n].startswith(b"\x89PNG") and 300 < len(files[n]) < 8000
               for n in pictures)
    ways = Counter(b.image for b in BLOGS if b.image)
    assert ways.keys() == {"thumbnail", "enclosure", "img", "json"}
    thumbnailed = feedparser.parse(files["la-minute-cm.rss"]).entries[0]
    assert thumbnailed.media_thumbnail[0]["url"].startswith(BASE + "img/")
    podcast = feedparser.parse(files[PODCAST.filename])
    assert podcast.feed.image.href == BASE + "img/podcast.svg"
    episode = podcast.entries[0]
    assert episode.enclosures[0].type == "audio/mpeg"
    assert files[episode.enclosures[0].href.removeprefix(BASE)].startswith(b"\xff\xfb")
    assert episode.itunes_duration and episode.itunes_episode
    charte = feedparser.parse(files["la-charte.atom"]).entries[0].content[0].value
    assert charte.index("pixel.gif") < charte.index(".png")


def test_demo_once_renders_the_week(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "aggregator", "demo", "--once", "--dir",
                             "site"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    public = tmp_path / "site" / "public"
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for day in local_days(today):
        page = (public / "digest" / f"{day}.html").read_text("utf-8")
        assert page.count("<article") >= 5, day
    pages = "".join(p.read_text("utf-8") for p in (public / "digest").glob("*.html"))
    assert "SocialBoost" not in pages and "Sponsorisé" not in pages
    assert len(re.findall("[Aa]ussi publié sur", pages)) == 12  # 9 of the week, 3 old
    assert "Vu sur " not in pages  # the aggregator's copies are under their originals
    for story in ("Instagram laisse enfin réorganiser la grille de son profil",
                  "LinkedIn ouvre les newsletters à toutes les pages entreprises"):
        assert story in pages
    items = json.loads((public / "feed.json").read_text("utf-8"))["items"]
    assert all("SocialBoost" not in item["title"] for item in items)
