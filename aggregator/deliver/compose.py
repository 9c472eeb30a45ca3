"""A newsletter's content: the digest's view models for its period, then its HTML part
(made for mail clients: tables, CSS inlined, under Gmail's clipping size), its plain-text
part and its subject, in the newsletter's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import css_inline
from babel.dates import format_date
from jinja2 import Environment
from markupsafe import Markup

from aggregator.config.load import NewsletterConfig, Settings
from aggregator.dedup import normalize_text
from aggregator.deliver.periods import Period
from aggregator.models import StoredEntry
from aggregator.publish.digest import (
    EntryView,
    babel_locale,
    blog_order,
    day_link,
    entry_view,
    group_by_tag,
    upper_first,
)
from aggregator.publish.environment import make_environment
from aggregator.publish.stories import Article, Story, top_stories

# Gmail clips a message whose HTML passes 102 KB; below this the whole of it shows.
MAX_HTML_BYTES = 100_000
EXCERPT_CHARACTERS = 240
# The articles a first render of a newsletter holds: about what 100 KB of HTML takes.
FIRST_GUESS = 110
MAX_STORIES = 3  # a mail's "À la une": the first stories, the page has the others
# The dark-mode rules cannot be inlined: kept in <style>, which Apple Mail and Gmail's
# apps read. Nothing is fetched: the template links no stylesheet.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Card:
    """An article as a newsletter shows it: its view, its HTML and its text, the same in
    every newsletter of its language."""

    view: EntryView
    html: Markup
    text: str


# Articles' cards by (id of the entry, language); the entry is kept beside its card, so
# its id is not reused by another while the cache lives.
CardCache = dict[tuple[int, str], tuple[StoredEntry, Card]]


@dataclass(frozen=True)
class MailGroup:
    """The articles of one tag on one day."""

    tag: str | None
    count: int
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class MailDay:
    """One day of the newsletter: its heading, its page online, its articles by tag."""

    heading: str
    url: str
    groups: tuple[MailGroup, ...]
    count: int


@dataclass(frozen=True)
class MailView:
    """What the templates of a newsletter show."""

    title: str
    name: str
    language: str
    period_label: str
    heading: str  # the label, capitalized
    count: int  # the period's articles
    shown: int  # those the message holds: fewer when the whole would be clipped
    days: tuple[MailDay, ...]
    stories: tuple[Story, ...]
    more_url: str  # the period's first day page, for "read on online"
    unsubscribe: str

    @property
    def weekly(self) -> bool:
        """Whether the days are headed (a week), or the one day is the heading."""
        return len(self.days) > 1


@dataclass(frozen=True)
class Content:
    """A newsletter's three texts, and how many articles it counts and shows."""

    subject: str
    text: str
    html: str
    count: int
    shown: int


def period_label(period: Period, language: str) -> str:
    """"jeudi 9 juin 2016", or "du lundi 6 au dimanche 12 juin 2016" for a week."""
    locale = babel_locale(language)
    if period.first == period.last:
        return day_link(period.first, language).label
    first = format_date(period.first, format="EEEE d MMMM", locale=locale)
    last = format_date(period.last, format="full", locale=locale)
    return f"{first} – {last}"


def find_stories(period: Period, days: Sequence[tuple[date, Sequence[StoredEntry]]],
                 tz: ZoneInfo) -> list[Story]:
    """The period's stories told by several blogs ("À la une"), as the day pages find them."""
    articles = [Article(number, e.feed_name, e.title, e.link, e.excerpt, e.dated)
                for number, e in enumerate(e for _, entries in days for e in entries)]
    return top_stories(articles, *period.bounds(tz)) if articles else []


def stories_among(stories: Sequence[Story], days: Sequence[tuple[date, Sequence[StoredEntry]]]
                  ) -> tuple[Story, ...]:
    """The stories of which a newsletter carries two articles at least (of its tags)."""
    carried = {(e.feed_name, e.title) for _, entries in days for e in entries}
    return tuple(story for story in stories
                 if sum((a.blog, a.title) in carried for a in story.articles) >= 2)


def build_view(newsletter: NewsletterConfig, settings: Settings, period: Period,
               days: Sequence[tuple[date, Sequence[StoredEntry]]], unsubscribe: str,
               stories: Sequence[Story], limit: int | None = None,
               cards: CardCache | None = None) -> MailView:
    """The newsletter's view model: at most `limit` articles, in the day pages' order;
    each article's card is kept in `cards` for the next render or newsletter."""
    language = newsletter.language or settings.language
    tz = ZoneInfo(settings.timezone)
    count = sum(len(entries) for _, entries in days)
    left = count if limit is None else min(limit, count)
    shown = left
    mail_days = []
    for day, entries in days:
        kept = sorted(entries, key=lambda e: (
            _blog_order(lead_tags(e.tags, newsletter.tags), e.feed_name), e.dated))
        kept = kept[:left]
        left -= len(kept)
        if kept:
            link = day_link(day, language)
            mail_days.append(MailDay(link.heading, settings.base_url + link.path,
                                     _groups([_card(e, tz, language, cards) for e in kept],
                                             newsletter.tags),
                                     len(kept)))
    return MailView(
        title=settings.title, name=newsletter.name, language=language,
        period_label=(label := period_label(period, language)), heading=upper_first(label),
        count=count,
        shown=shown - left, days=tuple(mail_days),
        stories=stories_among(stories, days)[:MAX_STORIES], unsubscribe=unsubscribe,
        more_url=settings.base_url + day_link(period.first, language).path)


# The day's thousands of articles come from a few hundred blogs.
_blog_order = lru_cache(maxsize=4096)(blog_order)


@lru_cache(maxsize=4096)
@lru_cache(maxsize=4096)
def chosen_tags(tags: tuple[str, ...], chosen: tuple[str, ...]) -> tuple[str, ...]:
    """Those of a blog's `tags` that a newsletter `chosen` (case and accents aside), in the
    blog's order; cached: a day's thousands of articles share a few hundred sets of tags."""
    wanted = {normalize_text(tag) for tag in chosen}
    return tuple(tag for tag in tags if normalize_text(tag) in wanted)


def lead_tags(tags: tuple[str, ...], chosen: tuple[str, ...]) -> tuple[str, ...]:
    """A blog's tags with the first of the newsletter's `chosen` ones put first, so that a
    newsletter of chosen tags groups its articles under them, not under "marketing" for a
    blog tagged [marketing, réseaux sociaux] that came with "réseaux sociaux"."""
    first = chosen_tags(tags, chosen)[:1]
    return (*first, *(tag for tag in tags if tag not in first)) if first else tags


def _groups(cards: Sequence[Card], chosen: tuple[str, ...]) -> tuple[MailGroup, ...]:
    """`cards`, in blog_order, under their blog's first tag as the day pages group them,
    the newsletter's `chosen` tags first."""
    by_view = {id(card.view): card for card in cards}
    views = [card.view for card in cards]
    return tuple(MailGroup(group.tag, group.count,
                           tuple(by_view[id(v)] for blog in group.blogs for v in blog.entries))
                 for group in group_by_tag(views, lambda v: lead_tags(v.tags, chosen)))


def _card(entry: StoredEntry, tz: ZoneInfo, language: str, cache: CardCache | None
          ) -> Card:
    """The article's card, made once per language and kept in `cache`."""
    key = (id(entry), language)
    if cache is not None and key in cache:
        return cache[key][1]
    view = _short(entry_view(entry, tz, language))
    html_env, text_env = _environments(language)
    lang = view.lang or language  # the article's own language sets its typography
    card = Card(view, Markup(html_env.get_template("mail/card.html").render(entry=view,
                                                                           lang=lang)),
                text_env.get_template("mail/card_text.html").render(entry=view, lang=lang))
    if cache is not None:
        cache[key] = (entry, card)
    return card


def _short(view: EntryView) -> EntryView:
    """An article's view with its excerpt cut to a mail's few lines, and no pictures or
    players (mail clients block the one and cannot play the other)."""
    excerpt = view.excerpt
    if len(excerpt) > EXCERPT_CHARACTERS:
        excerpt = excerpt[:EXCERPT_CHARACTERS].rsplit(" ", 1)[0] + "…"
    return replace(view, excerpt=excerpt, image=None, media=())


@cache
def _environments(language: str) -> tuple[Environment, Environment]:
    """The templates' environment for the HTML part, and one without HTML escaping for the
    subject and the text part (their templates end in .html only so that Babel finds them)."""
    html = make_environment(language=language)
    text = make_environment(language=language)
    text.autoescape = False
    return html, text


def render(view: MailView) -> Content:
    """The subject, the text part and the HTML part (CSS inlined) of `view`."""
    html_env, text_env = _environments(view.language)
    subject = " ".join(text_env.get_template("mail/subject.html").render(mail=view).split())
    html = _INLINER.inline(html_env.get_template("mail/newsletter.html").render(mail=view))
    text = text_env.get_template("mail/text.html").render(mail=view)
    return Content(upper_first(subject), text, html, view.count, view.shown)


def compose(newsletter: NewsletterConfig, settings: Settings, period: Period,
            days: Sequence[tuple[date, Sequence[StoredEntry]]], unsubscribe: str,
            stories: Sequence[Story] | None = None, cards: CardCache | None = None
            ) -> Content:
    """The newsletter of `period`, cut to its first articles when its HTML would pass
    MAX_HTML_BYTES (the rest is a link to the day pages). `stories`: the period's, found
    once for every newsletter of it; found from `days` without. `cards`: the articles'
    cards, shared by the newsletters of a period."""
    cards = {} if cards is None else cards
    if stories is None:
        stories = find_stories(period, days, ZoneInfo(settings.timezone))

    def made(limit: int) -> Content:
        return render(build_view(newsletter, settings, period, days, unsubscribe, stories,
                                 limit, cards))

    # A first guess of what fits, then scaled by the size it came to: a crowded day is
    # not rendered whole only to be cut. Two renders are usual.
    content = made(FIRST_GUESS)
    for _ in range(6):
        size = len(content.html.encode("utf-8"))
        if size > MAX_HTML_BYTES and content.shown > 1:
            content = made(max(1, int(content.shown * MAX_HTML_BYTES / size * 0.95)))
        elif content.shown < content.count and (
                limit := int(content.shown * MAX_HTML_BYTES / size * 0.95)) > content.shown:
            more = made(limit)
            if len(more.html.encode()) > MAX_HTML_BYTES:
                break
            content = more
        else:
            break
    return content
