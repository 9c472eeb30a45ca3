"""The demo week as the files a loopback server serves: RSS 2.0, Atom and JSON Feed
documents, a podcast feed with iTunes tags, and their pictures and audio."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from aggregator.demo.media import cover_svg, illustration_png, silent_mp3, tracking_pixel
from aggregator.demo.week import BLOGS, PODCAST, Blog, Post, week_posts

# A blog that puts a tracking pixel before its lead image, as some feeds do.
PIXEL_BLOG = "la-charte"
PNG_SIZE = 'width="320" height="180"'


def week_files(now: datetime, zone: ZoneInfo, base: str) -> dict[str, bytes]:
    """Every file of the week ending at `now`, by path under `base` (where it is served)."""
    posts = week_posts(now, zone)
    files = {blog.filename: feed_document(blog, [p for p in posts if p.blog == blog], base)
             for blog in BLOGS}
    for post in posts:
        if post.image:
            files[post.image] = illustration_png(post.image)
        if post.audio:
            files["audio/" + post.audio] = silent_mp3()
    files["img/pixel.gif"] = tracking_pixel()
    files["img/podcast.svg"] = cover_svg(PODCAST.name).encode()
    return files


def feed_document(blog: Blog, posts: Sequence[Post], base: str) -> bytes:
    """`blog`'s feed, newest post first, in its format."""
    newest = sorted(posts, key=lambda p: p.dated, reverse=True)
    if blog.kind == "json":
        return _json_feed(blog, newest, base)
    if blog.kind == "atom":
        return _atom(blog, newest, base)
    return _rss(blog, newest, base)


def _html(post: Post, base: str) -> str:
    """A post's content: its paragraphs, after its picture when the blog shows it inline."""
    html = "".join(f"<p>{escape(p)}</p>" for p in post.paragraphs)
    if post.image and post.blog.image == "img":
        html = (f'<p><img src="{base}{post.image}" {PNG_SIZE} alt=""></p>' + html)
    if post.blog.slug == PIXEL_BLOG:
        html = f'<img src="{base}img/pixel.gif" width="1" height="1" alt="">' + html
    return html


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rss(blog: Blog, posts: Sequence[Post], base: str) -> bytes:
    podcast = blog.kind == "podcast"
    items = "".join(_rss_item(p, base) for p in posts)
    show = (f"<itunes:author>{escape(blog.name)}</itunes:author>"
            f'<itunes:image href="{base}img/podcast.svg"/>'
            '<itunes:category text="Business"><itunes:category text="Marketing"/>'
            "</itunes:category><itunes:explicit>false</itunes:explicit>"
            f"<image><url>{base}img/podcast.svg</url><title>{escape(blog.name)}</title>"
            f"<link>{blog.site}</link></image>") if podcast else ""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:media="http://search.yahoo.com/mrss/" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
            f"<title>{escape(blog.name)}</title><link>{blog.site}</link>"
            f"<description>{escape(_about(blog))}</description><language>fr</language>"
            f"{show}{items}</channel></rss>\n").encode()


def _rss_item(post: Post, base: str) -> str:
    media = ""
    if post.image and post.blog.image == "thumbnail":
        media = f'<media:thumbnail url="{base}{post.image}" {PNG_SIZE}/>'
    elif post.image and post.blog.image == "enclosure":
        size = len(illustration_png(post.image))
        media = f'<enclosure url="{base}{post.image}" type="image/png" length="{size}"/>'
    elif post.audio:
        media = (f'<enclosure url="{base}audio/{post.audio}" type="audio/mpeg" '
                 f'length="{len(silent_mp3())}"/><itunes:duration>00:00:01</itunes:duration>'
                 f"<itunes:episode>{_episode(post)}</itunes:episode>"
                 f"<itunes:summary>{escape(post.paragraphs[0])}</itunes:summary>")
    categories = "".join(f"<category>{escape(c)}</category>" for c in post.categories)
    return (f"<item><title>{escape(post.title)}</title><link>{escape(post.link)}</link>"
            f'<guid isPermaLink="false">{post.guid}</guid>'
            f"<pubDate>{email.utils.format_datetime(post.dated)}</pubDate>"
            f"<dc:creator>{escape(post.blog.name)}</dc:creator>{categories}"
            f"<description>{escape(post.paragraphs[0])}</description>"
            f"<content:encoded>{_cdata(_html(post, base))}</content:encoded>{media}</item>")


def _episode(post: Post) -> str:
    return post.audio.removeprefix("episode-").removesuffix(".mp3")


def _atom(blog: Blog, posts: Sequence[Post], base: str) -> bytes:
    updated = posts[0].dated.isoformat() if posts else "2026-01-01T00:00:00+00:00"
    entries = "".join(
        f"<entry><title>{escape(p.title)}</title><link rel=\"alternate\" "
        f"href={quoteattr(p.link)}/><id>{p.guid}</id>"
        f"<published>{p.dated.isoformat()}</published><updated>{p.dated.isoformat()}</updated>"
        + "".join(f"<category term={quoteattr(c)}/>" for c in p.categories)
        + f'<content type="html">{escape(_html(p, base))}</content></entry>'
        for p in posts)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
            f' xml:lang="fr"><title>{escape(blog.name)}</title>'
            f'<subtitle>{escape(_about(blog))}</subtitle><link rel="alternate" '
            f'href="{blog.site}"/><link rel="self" href="{base}{blog.filename}"/>'
            f"<id>{blog.site}</id><updated>{updated}</updated>"
            f"<author><name>{escape(blog.name)}</name></author>{entries}</feed>\n").encode()


def _json_feed(blog: Blog, posts: Sequence[Post], base: str) -> bytes:
    items = [{
        "id": p.guid, "url": p.link, "title": p.title, "content_html": _html(p, base),
        "date_published": p.dated.isoformat(), "tags": list(p.categories),
        **({"image": base + p.image} if p.image else {}),
    } for p in posts]
    document = {"version": "https://jsonfeed.org/version/1.1", "title": blog.name,
                "home_page_url": blog.site, "feed_url": base + blog.filename,
                "description": _about(blog), "language": "fr-FR",
                "authors": [{"name": blog.name}], "items": items}
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def _about(blog: Blog) -> str:
    return f"{blog.name} : un blog de veille ({', '.join(blog.tags)})."
