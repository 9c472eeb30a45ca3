"""A realistic week of French community-management blogs, made from the bundled text.

`week_posts(now, zone)` is pure: the same `now` (and seed) gives the same posts. Its
seven days end at `now`'s date in `zone`; each blog's posts are composed from
text/paragraphs.txt and text/titles.txt (a title and the paragraph written for it, then
sometimes a second paragraph of the same subject and the blog's sign-off), with the
hand-written posts of text/stories.txt: three news stories each told by three blogs,
a podcast's episodes and a sponsored post. Two blogs re-publish others' posts: an
aggregator under its own title and link, a partner site with a footer.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.publish.slugs import base_slug

TEXT = Path(__file__).parent / "text"
SEED = 2026
DAYS = 7
# Composed posts a day, oldest day first: a busy mid-week day, a quiet weekend-like end.
POSTS_A_DAY = (6, 7, 11, 6, 5, 5, 5)
BUSY_DAY = 2
# The busy day is a day of platform news: this many of its posts speak of social networks,
# so that its page has a big group to fold.
BUSY_TAG, BUSY_NEWS = "réseaux sociaux", 7
FIRST_HOUR, LAST_HOUR = 7, 22  # blogs publish in the day, local time
AGGREGATED = 6  # posts the aggregator re-publishes
SYNDICATED = 3  # posts the partner site re-publishes with a footer


@dataclass(frozen=True)
class Blog:
    """A fictional blog: its feed's format, its tags in feeds.yaml, and how its posts
    carry a lead image ("thumbnail", "enclosure", "img", "json" or none)."""

    slug: str
    name: str
    kind: str  # "rss", "atom", "json" or "podcast"
    tags: tuple[str, ...]
    image: str = ""
    closing: int = -1  # its sign-off in text/stories.txt [closings], or none

    @property
    def site(self) -> str:
        return f"https://{self.slug}.example/"

    @property
    def filename(self) -> str:
        return self.slug + {"atom": ".atom", "json": ".json"}.get(self.kind, ".rss")


CM, RS, MOD, MKT, OUT, MET = ("community management", "réseaux sociaux", "modération",
                              "marketing", "outils", "métier")
BLOGS = (
    Blog("la-minute-cm", "La Minute CM", "rss", (CM,), "thumbnail", 0),
    Blog("cm-en-herbe", "CM en herbe", "atom", (CM, MET), "img"),
    Blog("tribu-digitale", "Tribu digitale", "json", (CM,), "json", 5),
    Blog("le-fil-social", "Le Fil social", "rss", (RS,), "enclosure"),
    Blog("pixels-et-pouces", "Pixels & pouces", "atom", (RS,), "img", 2),
    Blog("reseaux-en-clair", "Réseaux en clair", "json", (RS,), "json"),
    Blog("vertical-story", "Vertical Story", "rss", (RS, MKT), "thumbnail"),
    Blog("modo-pas-trop", "Modo, pas trop", "rss", (MOD,), "", 1),
    Blog("la-charte", "La Charte", "atom", (MOD,), "img"),
    Blog("zero-troll", "Zéro troll", "json", (MOD,), ""),
    Blog("veille-et-moderation", "Veille & modération", "rss", (MOD, OUT), "thumbnail"),
    Blog("le-brief-marketing", "Le Brief marketing", "rss", (MKT,), "enclosure", 3),
    Blog("b2b-social", "B2B social", "atom", (MKT, RS), "img"),
    Blog("influence-et-cie", "Influence & cie", "json", (MKT,), "json"),
    Blog("petite-marque", "Petite marque deviendra grande", "rss", (MKT,), "", 4),
    Blog("boite-a-outils", "La Boîte à outils du CM", "rss", (OUT,), "thumbnail"),
    Blog("astuces-et-outils", "Astuces & outils", "atom", (OUT,), "img"),
    Blog("rss-forever", "RSS forever", "json", (OUT,), ""),
    Blog("journal-d-une-cm", "Journal d’une CM", "rss", (MET,), "", 0),
    Blog("cm-freelance", "CM freelance", "atom", (MET,), "img"),
    Blog("carnet-de-cm", "Carnet de CM", "json", (MET, CM), "json", 5),
    Blog("social-media-club", "Social Media Club Lyon", "rss", (RS, MET), "enclosure"),
    Blog("agence-hashtag", "Agence Hashtag", "atom", (MKT, RS), "img"),
    Blog("podcast-des-cm", "Le Podcast des CM", "podcast", (MET, CM)),
    Blog("le-fil-des-cm", "Le Fil des CM", "rss", ("agrégateur",)),
    Blog("medias-et-reseaux", "Médias & réseaux", "atom", (RS,)),
)
AGGREGATOR, PARTNER = BLOGS[-2], BLOGS[-1]
PODCAST, SPONSORED_BY = BLOGS[-3], BLOGS[14]
# Who tells each story (text/stories.txt, in order) and on which day (0: the oldest).
STORIES = {
    "instagram": (("le-fil-social", 5), ("pixels-et-pouces", 5), ("agence-hashtag", 6)),
    "linkedin": (("le-brief-marketing", 3), ("b2b-social", 3), ("social-media-club", 4)),
    "tiktok": (("reseaux-en-clair", 1), ("vertical-story", 2), ("agence-hashtag", 2)),
}
STORY_CATEGORY = {"instagram": "Instagram", "linkedin": "LinkedIn", "tiktok": "TikTok"}
EPISODE_DAYS = (0, 3, 6)
SPONSORED_DAY = 4


@dataclass(frozen=True)
class Post:
    """One entry of a blog's feed."""

    blog: Blog
    title: str
    paragraphs: tuple[str, ...]
    dated: datetime
    categories: tuple[str, ...]
    link: str
    image: str = ""  # file name of its lead image, served beside the feeds
    audio: str = ""  # file name of its episode

    @property
    def guid(self) -> str:
        return f"tag:{self.blog.slug}.example,{self.dated:%Y}:{base_slug(self.title)}"


def sections(name: str) -> dict[str, list[list[str]]]:
    """A text file's [sections], each a list of blocks of lines (blank lines part them)."""
    return _sections(name)


@cache
def _sections(name: str) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    block: list[str] = []
    for line in (TEXT / name).read_text("utf-8").splitlines():
        line = line.strip()
        if re.fullmatch(r"\[.+\]", line):
            found[line[1:-1]] = []
            block = []
        elif line and not line.startswith("#") and found:
            if not block:
                list(found.values())[-1].append(block)
            block.append(line)
        elif not line:
            block = []
    return found


def _lines(name: str) -> dict[str, list[str]]:
    return {k: [line for b in v for line in b] for k, v in sections(name).items()}


def week_posts(now: datetime, zone: ZoneInfo, seed: int = SEED) -> list[Post]:
    """Every post of the week ending at `now`, copies included, oldest first."""
    rng = random.Random(seed)
    slots = _slots(now, zone, rng)
    posts = _composed(slots, rng) + _stories(slots) + _episodes(slots)
    posts.append(_sponsored(slots[SPONSORED_DAY][0]))
    posts = _with_images(sorted(posts, key=lambda p: p.dated))
    originals = [p for p in posts if p.blog not in (PODCAST, SPONSORED_BY)
                 and p.dated < now - timedelta(days=1, hours=1)]
    picked = rng.sample(originals, AGGREGATED + SYNDICATED)
    posts += [_aggregated(p, now) for p in picked[:AGGREGATED]]
    posts += [_syndicated(p, now) for p in picked[AGGREGATED:]]
    return sorted(posts, key=lambda p: p.dated)


def _slots(now: datetime, zone: ZoneInfo, rng: random.Random) -> list[list[datetime]]:
    """For each day, oldest first, publication times (more than needed), in order: in
    the blogs' hours, and on the last day not after `now`."""
    today = now.astimezone(zone).date()
    days = []
    for back in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(FIRST_HOUR), zone)
        end = min(datetime.combine(day, time(LAST_HOUR), zone), now - timedelta(minutes=5))
        if end <= start:  # early on the last day: its posts are of the small hours
            start = min(datetime.combine(day, time(0), zone), now)
            end = max(start, now - timedelta(minutes=1))
        span = (end - start).total_seconds()
        times = sorted(start + timedelta(seconds=int(rng.random() * span)) for _ in range(24))
        days.append([t.astimezone(zone) for t in times])
    return days


def _composed(slots: list[list[datetime]], rng: random.Random) -> list[Post]:
    """Posts of a title and the paragraph written for it; some add a paragraph of the
    same subject that no other post has, and the blog's sign-off. No two posts share a
    paragraph: the store would take one holding another for a copy, and "À la une" two
    alike for a story."""
    titles, paragraphs = _lines("titles.txt"), _lines("paragraphs.txt")
    closings = _lines("stories.txt")["closings"]
    leads: list[tuple[str, int]] = [(tag, i) for tag, texts in paragraphs.items()
                                    for i in range(len(texts))]
    rng.shuffle(leads)
    wanted = sum(POSTS_A_DAY)
    extras = {tag: [p for i, p in enumerate(texts) if (tag, i) not in leads[:wanted]]
              for tag, texts in paragraphs.items()}
    news = [lead for lead in leads[:wanted] if lead[0] == BUSY_TAG][:BUSY_NEWS]
    rest = [lead for lead in leads[:wanted] if lead not in news]
    first = sum(POSTS_A_DAY[:BUSY_DAY])
    leads = rest[:first] + news + rest[first:]
    writers = {tag: [b for b in BLOGS[:-3] if tag in b.tags] for tag in paragraphs}
    written: dict[str, int] = defaultdict(int)
    posts = []
    days = [d for d, count in enumerate(POSTS_A_DAY) for _ in range(count)]
    for (tag, index), day in zip(leads[:wanted], days, strict=True):
        blog = min(writers[tag], key=lambda b: (written[b.slug], rng.random()))
        written[blog.slug] += 1
        body = [paragraphs[tag][index]]
        if extras[tag] and rng.random() < 0.6:
            body.append(extras[tag].pop(rng.randrange(len(extras[tag]))))
        if blog.closing >= 0:
            body.append(closings[blog.closing])
        dated = slots[day].pop(rng.randrange(len(slots[day])))
        posts.append(_post(blog, titles[tag][index], body, dated, (tag,)))
    return posts


def _post(blog: Blog, title: str, body: list[str], dated: datetime,
          categories: tuple[str, ...], **media: str) -> Post:
    link = f"{blog.site}{dated:%Y/%m}/{base_slug(title)}/"
    return Post(blog, title, tuple(body), dated, categories, link, **media)


def _by_slug(slug: str) -> Blog:
    return next(b for b in BLOGS if b.slug == slug)


def _stories(slots: list[list[datetime]]) -> list[Post]:
    """The news stories, each told by three blogs in their own words."""
    told = sections("stories.txt")
    return [_post(_by_slug(slug), block[0], block[1:], slots[day].pop(0),
                  (_by_slug(slug).tags[0], STORY_CATEGORY[story]))
            for story, tellers in STORIES.items()
            for (slug, day), block in zip(tellers, told[f"story {story}"], strict=True)]


def _episodes(slots: list[list[datetime]]) -> list[Post]:
    episodes = _lines("stories.txt")["podcast"]
    return [_post(PODCAST, title, [summary], slots[day].pop(0), ("podcast",),
                  audio=f"episode-{n}.mp3")
            for n, (title, summary, day) in enumerate(
                zip(episodes[::2], episodes[1::2], EPISODE_DAYS, strict=True), start=41)]


def _sponsored(dated: datetime) -> Post:
    title, *body = sections("stories.txt")["sponsored"][0]
    return _post(SPONSORED_BY, title, body, dated, ("Sponsorisé",))


def _with_images(posts: list[Post]) -> list[Post]:
    """Each post of a blog that illustrates its posts gets its own picture."""
    return [replace(p, image=f"img/{n:03d}.png") if p.blog.image and not p.audio else p
            for n, p in enumerate(posts)]


def _aggregated(post: Post, now: datetime) -> Post:
    """The aggregator's copy: its own title and tracked link, a "read on" line."""
    dated = min(post.dated + timedelta(hours=3, minutes=17), now)
    slug = base_slug(post.title)
    return replace(
        post, blog=AGGREGATOR, title=f"Vu sur {post.blog.name} : {post.title}",
        paragraphs=(*post.paragraphs, f"Lu sur {post.blog.name}, à retrouver sur le Fil des CM."),
        dated=dated, categories=(*post.categories, "agrégateur"),
        link=f"{AGGREGATOR.site}lire/{slug}?utm_source=le-fil-des-cm&utm_medium=rss")


def _syndicated(post: Post, now: datetime) -> Post:
    """The partner site's copy: the same title, its own link, a footer naming the source."""
    dated = min(post.dated + timedelta(days=1), now)
    footer = (f"Cet article a été publié initialement sur {post.blog.name} ({post.link}) ; "
              "il est reproduit ici avec l’accord de son auteur.")
    return replace(post, blog=PARTNER, paragraphs=(*post.paragraphs, footer), dated=dated,
                   link=f"{PARTNER.site}partenaires/{base_slug(post.title)}.html")
