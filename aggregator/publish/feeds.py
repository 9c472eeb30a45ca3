"""The feeds we publish: merged, per tag, and one digest entry a day."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

from jinja2 import Environment
from markupsafe import Markup, escape

from aggregator import PROJECT_URL, USER_AGENT, __version__
from aggregator.config.load import FeedConfig, Settings
from aggregator.config.opml import write_opml
from aggregator.i18n import _
from aggregator.models import Copy, Enclosure, FeedState, StoredEntry
from aggregator.poll.clean import html_to_text, make_excerpt
from aggregator.publish.digest import DayPage, own_categories
from aggregator.publish.safe import language_tag, media_type, plain_text, web_url
from aggregator.publish.slugs import tag_slugs
from aggregator.xmlchars import strip_forbidden_chars

DIGEST_DAYS = 30  # days the digest feed keeps, at most
# ...and no day more once its entries reach this many characters (the newest day is
# always there): a day of a thousand blogs is 360 KB, and 30 of them made an 11 MB
# feed, more than feed readers fetch (our own fetch stops at 10 MB).
DIGEST_CHARACTERS = 2_000_000
JSON_FEED_EXTENSION = "https://jsonfeed.org/version/1.1#extensions"
TITLE_WORDS = 12  # words of its text that an untitled entry's title takes


@dataclass(frozen=True)
class FeedItem:
    """One entry of a published feed, credited to the blog it came from."""

    id: str
    title: str
    link: str | None
    content_html: str
    summary: str
    author: str | None
    published: datetime
    updated: datetime
    source_title: str
    source_url: str
    source_feed: str
    tags: tuple[str, ...]
    copies: tuple[Copy, ...] = ()
    language: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    thumbnail: str | None = None
    first_seen: datetime | None = None  # when we stored it: who keeps a shared `updated`
    whole: bool = False  # content_html is the article's page, summary the feed's teaser


@dataclass(frozen=True)
class FeedDocument:
    """A published feed: its addresses and its items, newest first."""

    title: str
    id: str
    home_url: str
    atom_url: str
    rss_url: str
    json_url: str
    language: str
    updated: datetime
    items: tuple[FeedItem, ...]
    hub: str | None = None  # the WebSub hub it declares
    # RFC 5005: the older month's archive (for the merged feed: the newest month), the
    # newer month's, and, in an archive, the merged feed; the JSON Feed page after this one.
    prev_archive: str | None = None
    next_archive: str | None = None
    current_url: str | None = None
    next_url: str | None = None


@dataclass(frozen=True)
class DigestDay:
    """One day of the digest feed: its page and the HTML of its content."""

    day: date
    id: str
    heading: str  # the day, written out
    count: int
    link: str
    published: datetime  # the day's start, in the site's time zone
    updated: datetime
    summary: str  # the first titles of the day, as plain text
    content_html: str


class XmlFragment(Markup):
    """XML rendered by our environment, whose finalize already took the characters XML
    forbids out of every value in it: written again as it is, not scanned again."""


@dataclass(frozen=True)
class DigestEntry:
    """One day of the digest feed as its Atom <entry>, which later renders reuse
    while the day does not change."""

    day: date
    updated: datetime
    xml: XmlFragment


@dataclass(frozen=True)
class TagFeed:
    """A tag, and where its feeds live (relative to the output root)."""

    tag: str
    path: str


def rfc3339(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp, as Atom and JSON Feed want it; milliseconds only
    where distinct_updates put them."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(moment: datetime) -> str:
    """An RFC 822 date, as RSS wants it."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def tag_feeds(feeds: Sequence[FeedConfig]) -> list[TagFeed]:
    """Every tag of feeds.yaml once, in order of first use, with its own folder."""
    tags = dict.fromkeys(tag for feed in feeds for tag in feed.tags)
    slugs = tag_slugs(tags)
    return [TagFeed(tag, f"tags/{slugs[tag]}/") for tag in tags]


def entry_id(feed_name: str, identity: str) -> str:
    """A stable, globally unique id for an entry of a published feed."""
    name = feed_name + chr(10) + identity
    if not name.isascii():  # uuid5 cannot encode a lone surrogate; the same id otherwise
        name = name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def build_feed(
    entries: Sequence[StoredEntry], settings: Settings, now: datetime, *,
    path: str = "", title: str | None = None,
) -> FeedDocument:
    """A feed's view model; `updated` moves only when one of its entries changes."""
    items = distinct_updates([_feed_item(e) for e in entries])
    base = settings.base_url + path
    return FeedDocument(
        title=title or settings.title,
        id=base + "atom.xml",
        home_url=settings.base_url,
        atom_url=base + "atom.xml",
        rss_url=base + "rss.xml",
        json_url=base + "feed.json",
        language=settings.language,
        updated=max((i.updated for i in items), default=now),
        items=items,
        hub=settings.websub_hub,
    )


def distinct_updates(items: Sequence[FeedItem]) -> tuple[FeedItem, ...]:
    """`items` with no two `updated` alike: of the items updated in one second, the one
    stored first keeps it, the next one stored gets a millisecond more, and so on.

    The W3C validator warns of entries updated at the same instant (readers that
    sort or de-duplicate by it cannot tell them apart); blogs date posts to the
    minute, and a poll stores several at once. An article stored later never moves
    the `updated` of those before it.
    """
    moved: dict[int, datetime] = {}
    epoch = datetime.min.replace(tzinfo=UTC)
    last = epoch
    for index in sorted(range(len(items)), key=lambda i: (
            items[i].updated.replace(microsecond=0), items[i].first_seen or epoch,
            items[i].id)):
        # In this order the instants given so far end in one run of milliseconds: the
        # first free one is the run's next, or the item's own second when past the run
        # (a day of 10,000 undated entries searched the run afresh for each: 30 s).
        updated = max(items[index].updated.replace(microsecond=0),
                      last + timedelta(milliseconds=1))
        moved[index] = last = updated
    return tuple(replace(item, updated=moved[i]) if moved[i] != item.updated else item
                 for i, item in enumerate(items))


def _feed_item(entry: StoredEntry) -> FeedItem:
    published = entry.dated.replace(microsecond=0)
    title, content_html, summary = _entry_text(entry)
    # Edited means its title or text changed; a copy found on another blog is not an edit.
    updated = max(published, entry.updated or published, entry.edited or published)
    return FeedItem(
        # The article's first stored copy names it: the id holds when the canonical moves.
        id=entry_id(entry.article_feed or entry.feed_name,
                    entry.article_identity or entry.identity),
        title=title,
        link=web_url(entry.link),
        content_html=content_html,
        summary=summary,
        whole=bool(entry.teaser),
        author=entry.author,
        published=published,
        updated=updated,
        source_title=entry.feed_title,
        source_url=web_url(entry.site_url) or entry.feed_url,
        source_feed=entry.feed_url,
        # The blog's tags, then the article's own categories.
        tags=(*entry.tags, *own_categories(entry)),
        copies=tuple(replace(c, link=web_url(c.link)) for c in entry.copies),
        language=language_tag(entry.language),
        enclosures=tuple(replace(e, type=media_type(e.type)) for e in entry.enclosures
                         if web_url(e.url)),
        thumbnail=web_url(entry.thumbnail),
        first_seen=entry.first_seen,
    )


def _entry_text(entry: StoredEntry) -> tuple[str, str, str]:
    """An entry's title, HTML content and plain-text summary as the feeds carry them.

    The article's whole text is the content; the feed's own teaser stays the summary.
    An untitled entry is titled with its first words (or "(untitled)"): Atom requires
    a title, and the validator warns of a blank one (NotBlank). An entry with no text
    gets its title as text: the validator warns of an entry with neither summary nor
    content (MissingTextualContent), and RFC 4287 (4.1.1) forbids one that has no
    content and no alternate link either (MissingContentOrAlternate).
    """
    content_html = entry.content or entry.summary
    summary = entry.teaser or entry.excerpt
    title = entry.title.strip() or make_excerpt(
        summary or html_to_text(content_html), TITLE_WORDS) or _("(untitled)")
    if not content_html.strip():
        return title, str(escape(title)), title
    return title, content_html, summary


def json_feed(feed: FeedDocument) -> str:
    """A feed as JSON Feed 1.1, the blog credited in a `_source` extension.

    Its plain-text fields go through plain_text (see publish/safe.py), and it keeps
    to the characters the XML feeds keep to: JSON would escape the controls, but a
    lone surrogate cannot be written in UTF-8 at all.
    """
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": plain_text(feed.title),
        "home_page_url": feed.home_url,
        "feed_url": feed.json_url,
        "language": feed.language,
        **({"hubs": [{"type": "WebSub", "url": feed.hub}]} if feed.hub else {}),
        "authors": [{"name": plain_text(feed.title), "url": feed.home_url}],
        "items": [_json_item(item) for item in feed.items],
        **({"next_url": feed.next_url} if feed.next_url else {}),
    }
    return strip_forbidden_chars(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"


def _json_item(item: FeedItem) -> dict[str, object]:
    extra: dict[str, object] = {}
    if item.link:
        extra["url"] = item.link
    if item.author:
        extra["authors"] = [{"name": plain_text(item.author)}]
    if item.tags:
        extra["tags"] = [plain_text(tag) for tag in item.tags]
    if item.language:
        extra["language"] = item.language
    if item.thumbnail:
        extra["image"] = item.thumbnail
    if item.enclosures:
        extra["attachments"] = [
            {"url": e.url, "mime_type": e.type or "application/octet-stream",
             **({"size_in_bytes": e.length} if e.length else {})}
            for e in item.enclosures
        ]
    if item.copies:
        extra["_also_published_on"] = {
            "about": JSON_FEED_EXTENSION,
            "copies": [{"title": plain_text(c.feed_title), "url": c.link,
                        "date_published": rfc3339(c.dated)} for c in item.copies],
        }
    return {
        "id": item.id,
        "title": plain_text(item.title),
        "content_html": item.content_html or item.summary,
        "summary": plain_text(item.summary),
        "date_published": rfc3339(item.published),
        "date_modified": rfc3339(item.updated),
        "_source": {"about": JSON_FEED_EXTENSION, "title": plain_text(item.source_title),
                    "home_page_url": item.source_url, "feed_url": item.source_feed},
        **extra,
    }


DIGEST_SUMMARY_TITLES = 5  # titles a digest entry's summary names


def digest_summary(page: DayPage) -> str:
    """A day's digest in one line of plain text: its first titles, in page order."""
    titles = [entry.title for group in page.groups for blog in group.blogs
              for entry in blog.entries]
    more = "…" if page.count > DIGEST_SUMMARY_TITLES else ""
    return plain_text(" · ".join(titles[:DIGEST_SUMMARY_TITLES]) + more)


def digest_day_id(settings: Settings, day: date) -> str:
    """The digest feed's id for a day: stable for a site and a day."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, settings.base_url + 'digest/' + str(day))}"


def render_digest_day(env: Environment, day: DigestDay, settings: Settings) -> DigestEntry:
    """A day of the digest feed as its Atom <entry>.

    One poll changes many days at one instant, and the validator warns of entries
    updated alike: each day's `updated` carries its calendar number (modulo 1000) as
    milliseconds, which keeps the feed's 30 days apart and depends on nothing else,
    so an incremental render writes what a full one does.
    """
    updated = max(day.updated, day.published).replace(microsecond=0)
    day = replace(day, updated=updated + timedelta(milliseconds=day.day.toordinal() % 1000))
    xml = XmlFragment(env.get_template("digest_day.xml").render(day=day, site=settings))
    return DigestEntry(day=day.day, updated=day.updated, xml=xml)


def write_feeds(
    env: Environment, put: Callable[[str, str], None], settings: Settings,
    feeds: Sequence[FeedConfig], states: dict[str, FeedState],
    documents: Sequence[tuple[str, FeedDocument]],
    digest: Sequence[DigestEntry], now: datetime,
) -> None:
    """Write every feed document (Atom, RSS, JSON Feed), the digest feed and the OPML list."""
    context = {"generator": USER_AGENT, "version": __version__, "project_url": PROJECT_URL}
    for path, document in documents:
        put(path + "atom.xml", env.get_template("atom.xml").render(context, feed=document))
        put(path + "rss.xml", env.get_template("rss.xml").render(context, feed=document))
        put(path + "feed.json", json_feed(document))
    updated = max((d.updated for d in digest), default=now)
    put("digest.xml", env.get_template("digest.xml").render(
        context, site=settings, entries=[d.xml for d in digest], updated=updated,
        feed_url=settings.base_url + "digest.xml"))
    put("feeds.opml", write_opml(settings.title, feeds, states, updated))
