"""Sanitize entry HTML with an allowlist, absolutize links, and derive text excerpts."""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.dedup import entry_identity, entry_signature
from aggregator.models import CleanEntry, ParsedEntry
from aggregator.poll.depth import bound_depth
from aggregator.poll.values import MAX_EXCERPT, cap_text, display_text, elide, valid_text

EXCERPT_WORDS = 60
# A few words over is kept whole: an ellipsis hiding one word helps nobody.
EXCERPT_SLACK = EXCERPT_WORDS // 12

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "*": {"lang", "dir"},
}
# Dropped with everything inside them, not only their tags.
DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "noscript", "template", "svg",
    "math", "form", "button", "select", "textarea", "head", "title",
}
_URL_ATTRIBUTES = {"href", "src", "cite"}
# An absolute http(s) address that urljoin gives back as it is, whatever the base: no
# empty query or fragment (which it drops), no ";" parameters, brackets or backslashes.
# Nearly every link of a feed is one; urljoin costs a fifth of cleaning an entry.
PLAIN_ABSOLUTE = re.compile(
    r"https?://[^\s/?#;\[\]\\]+(?:/[^\s?#;\[\]\\]*)?(?:\?[^\s#;\[\]\\]+)?(?:#[^\s\[\]\\]+)?")


def keeps_link(base: str, link: str) -> bool:
    """Whether urljoin(base, link) gives `link` back as it is, without raising: an
    ASCII PLAIN_ABSOLUTE address against none, or against another (urlsplit checks
    the host of a non-ASCII one, and raises on some bases)."""
    return (link.isascii() and PLAIN_ABSOLUTE.fullmatch(link) is not None
            and (not base or (base.isascii() and PLAIN_ABSOLUTE.fullmatch(base) is not None)))


_BLOCK_TAG = re.compile(
    r"<(/?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|td|th|pre|figure|figcaption|hr|dd|dt)\b)",
    re.IGNORECASE,
)
# ASCII white space only: French puts no-break spaces inside « guillemets » on purpose.
# The "[…]" WordPress and others end their excerpts with; we add our own ellipsis.
_ELISION = re.compile(r"\s*[\[(](?:…|\.\.\.)[\])]\s*$")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
# The runs of _SPACES that are not already one plain space: folding only these gives
# the same text, without replacing each space of a paragraph by itself.
_SPACES_TO_FOLD = re.compile(r"[\t\n\r\f\v][ \t\n\r\f\v]*| [ \t\n\r\f\v]+")


def sanitize_html(fragment: str, base_url: str | None) -> str:
    """Keep only allowlisted markup; make every link and image absolute against `base_url`."""
    token = _BASE_URL.set(base_url)
    try:
        cleaned = _SANITIZER.clean(bound_depth(fix_images(valid_text(fragment))))
    finally:
        _BASE_URL.reset(token)
    return _EMPTY_PARAGRAPH.sub("", cleaned).strip()


# What sanitize_html resolves links against, for _absolutize: the sanitizers are made
# once (giving nh3 its sets at each call cost 20 microseconds, a tenth of cleaning an
# entry), so the address of the entry at hand reaches their callback through this.
_BASE_URL: ContextVar[str | None] = ContextVar("base_url", default=None)


def _absolutize(_tag: str, attribute: str, value: str) -> str | None:
    if attribute not in _URL_ATTRIBUTES:
        return value
    if not value.strip():
        # feedparser blanks unsafe links (javascript:); resolved, "" would
        # point at the page itself, so drop the attribute instead.
        return None
    base_url = _BASE_URL.get()
    if not base_url:
        return value
    value = value.strip()
    return value if PLAIN_ABSOLUTE.fullmatch(value) else urljoin(base_url, value)


_SANITIZER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_absolutize,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=DROPPED_WITH_CONTENT)


# Hosts that serve only counting pixels, never a picture worth showing.
TRACKER_HOSTS = (
    "feeds.feedburner.com", "feedproxy.google.com", "pixel.wp.com", "stats.wordpress.com",
    "google-analytics.com", "www.google-analytics.com", "pixel.quantserve.com",
    "ad.doubleclick.net", "pubads.g.doubleclick.net", "sb.scorecardresearch.com",
    "b.scorecardresearch.com", "pi.feedsportal.com", "da.feedsportal.com", "bat.bing.com",
    "analytics.twitter.com", "www.facebook.com", "mailtrack.io", "feeds.wordpress.com",
)
# Where lazy-loading scripts keep the real address while `src` holds a placeholder.
LAZY_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-url")
_PLACEHOLDER = re.compile(r"^data:|blank\.gif|spacer\.gif|placeholder|lazy|1x1", re.IGNORECASE)
_IMG = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_EMPTY_PARAGRAPH = re.compile(r"<p>(?:\s|&nbsp;|\xa0|<br\s*/?>)*</p>", re.IGNORECASE)


def fix_images(fragment: str) -> str:
    """Drop tracking pixels and give lazy-loaded images their real address."""
    return _IMG.sub(_fix_image, fragment)


def _fix_image(match: re.Match[str]) -> str:
    attributes = {
        name.lower(): html.unescape(value.strip("\"'")) if value else ""
        for name, value in _ATTRIBUTE.findall(match.group(1))
    }
    src = _real_source(attributes)
    if src is None or _is_tracking_pixel(src, attributes):
        return ""
    kept = {"src": src, **{k: attributes[k] for k in ("alt", "title", "width", "height")
                           if k in attributes}}
    return "<img " + " ".join(f'{k}="{html.escape(v)}"' for k, v in kept.items()) + ">"


def _real_source(attributes: dict[str, str]) -> str | None:
    src = attributes.get("src", "").strip()
    if src and not _PLACEHOLDER.search(src):
        return src
    for name in LAZY_ATTRIBUTES:
        if attributes.get(name, "").strip():
            return attributes[name].strip()
    for name in ("data-srcset", "srcset"):
        candidates = attributes.get(name, "").split(",")
        first = candidates[0].split() if candidates else []
        if first:
            return first[0]
    return src or None


def _is_tracking_pixel(src: str, attributes: dict[str, str]) -> bool:
    sizes = [attributes.get(k, "").lower().removesuffix("px").strip() for k in ("width", "height")]
    if all(size in ("0", "1") for size in sizes):
        return True
    host = (urlsplit(src).hostname or "").lower()
    return host in TRACKER_HOSTS


def repair_text(text: str) -> str:
    """Undo mojibake ("Ã©" for "é", "â€™" for "’") left by a feed that encoded twice."""
    if is_plain_french(text):
        return text
    # Imported here: half of this module's import time, which `status` and the render
    # pay to read entries' text but never need (the parse workers preload it).
    import ftfy

    return ftfy.fix_encoding(text)


# ftfy's test for mojibake is one large regex, the slowest step of cleaning a feed.
# Mojibake is UTF-8 read a byte at a time: a lead character (Ã, Â, é, É, ...) next to
# continuation characters (©, €, ™, », NBSP, ...). Text whose non-ASCII characters are
# only French letters and punctuation, never in such a run, cannot hold any; ftfy
# leaves every window of up to three of them unchanged (tests/test_clean.py checks
# all of them), so it is not asked.
FRENCH_LOWER = "àâäçéèêëîïôöùûüÿæ"
FRENCH_UPPER = "ÀÇÈÉÊËÎÏÔÙÛÆ"
CONTINUATION = "œ«»’‘“”–—…°€\u00a0"
FRENCH_CHARACTERS = FRENCH_LOWER + FRENCH_UPPER + CONTINUATION + "\u202f"
_NOT_FRENCH = re.compile(f"[^\\x00-\\x7f{FRENCH_CHARACTERS}]")
# The shapes of mojibake: a character of the first set, then what follows it.
MOJIBAKE_SHAPES = (
    (FRENCH_LOWER, f"[{CONTINUATION}]{{2}}"),
    (FRENCH_UPPER, f"[{CONTINUATION}]"),
    ("œ»”€", f"[{FRENCH_LOWER}{FRENCH_UPPER}]"),
    ("œ", "°"),
    ("^\\x00-\\x7f\u00a0\u202f", "[^\\x00-\\x7f\u00a0\u202f]{2}"),
)
# Written as one non-ASCII character, then each shape's first set looked behind: a
# pattern that starts with a set is searched for in C from one such character to the
# next, where an alternation of sets is tried at every place of a post. Every shape
# goes on with a non-ASCII character: looked for first, it spares trying the five
# after nearly every accented letter.
_MOJIBAKE_SHAPE = re.compile("[^\\x00-\\x7f](?=[^\\x00-\\x7f])(?:" + "|".join(
    f"(?<=[{first}]){rest}" for first, rest in MOJIBAKE_SHAPES) + ")")


def is_plain_french(text: str) -> bool:
    """True when `text` cannot hold mojibake: ASCII, French letters and punctuation."""
    if text.isascii():
        return True
    return not (_NOT_FRENCH.search(text) or _MOJIBAKE_SHAPE.search(text))


# Lines that plugins append to summaries: never part of an excerpt (and the sign of a
# teaser for fulltext/truncation.py: the first pair is "appeared first on", the second
# "read more").
# Each is a sentence of its own at the very end, capitalized as plugins write it:
# "Lisez donc l’article « Bref »" in the middle of a post is the author's, not noise.
_SENTENCE_START = r"(?:^|(?<=[.!?…»\]”\"')])\s+)"
# Each with words it cannot match without, looked for first: the patterns are tried at
# every place of every summary, which most often has none of them.
EXCERPT_NOISE = (
    (("appeared first on", "est apparu en premier sur", "a été publié en premier sur"),
     re.compile(_SENTENCE_START + r"(?:The post|L[’']article|Cet article|Le billet)\s.{1,300}?\s"
                r"(?:appeared first on|est apparu en premier sur|a été publié en premier sur)"
                r"\s[^.!?]{1,150}[.!?]?\s*$")),
    (("Continue reading", "Continuer la lecture", "Lire la suite", "Read more", "En savoir plus",
      "Read the full article"),
     re.compile(_SENTENCE_START + r"(?:Continue reading|Continuer la lecture|Lire la suite"
                r"|Read more|En savoir plus|Read the full article)\b[^.!?]{0,100}[.!?]?\s*$")),
)


def excerpt_text(fragment: str) -> str:
    """The text an excerpt is cut from: plugin footers and "read more" links left out."""
    text = html_to_text(fragment)
    for words, noise in EXCERPT_NOISE:
        if any(word in text for word in words):
            text = noise.sub("", text)
    return text


def html_to_text(fragment: str) -> str:
    """The readable text of an HTML fragment, on one line, entities decoded."""
    spaced = _BLOCK_TAG.sub(r" <\1", valid_text(fragment))
    text = _TEXT_ONLY.clean(spaced)
    return _SPACES_TO_FOLD.sub(" ", html.unescape(text)).strip()


def make_excerpt(text: str, words: int = EXCERPT_WORDS) -> str:
    """The first `words` words of `text`, cut at a word boundary, with an ellipsis if cut."""
    text, elided = text.strip(), 0
    if text.endswith(("]", ")")):  # _ELISION's end: the pattern is tried at every place
        text, elided = _ELISION.subn("", text)
    kept_whole = words + words // 12  # EXCERPT_SLACK over, for the usual 60
    # Split no further than the words kept whole: a longer text gives one more part.
    parts = _SPACES.split(text.strip(), maxsplit=kept_whole)
    if len(parts) > kept_whole:
        parts, elided = parts[:words], 1
    excerpt = " ".join(parts)
    if len(excerpt) > MAX_EXCERPT:  # words of thousands of letters: a hostile feed's
        return cap_text(excerpt, MAX_EXCERPT)
    return elide(excerpt) if elided and excerpt else excerpt


def clean_title(title: str, is_html: bool) -> str:
    """A title (or a name) as plain text: markup removed, entities decoded, whitespace
    folded, bidi controls and zero-width runs gone (values.display_text)."""
    if is_html:
        return display_text(html_to_text(title)).strip()
    return display_text(_SPACES_TO_FOLD.sub(" ", valid_text(title))).strip()


def clean_link(link: str | None, base_url: str | None) -> str | None:
    """An absolute http(s) link, or None for anything else (javascript:, data:, ...)."""
    if not link:
        return None
    link = link.strip()
    if keeps_link(base_url or "", link):  # most links: an http(s) address already
        return link
    absolute = urljoin(base_url or "", link)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def clean_entry(entry: ParsedEntry, base_url: str | None) -> CleanEntry:
    """Turn a parsed entry into one that is safe to store and show."""
    link = clean_link(entry.link, base_url)
    base = link or base_url
    content = sanitize_html(repair_text(entry.content or ""), base)
    # feedparser copies the content of an entry without a summary to its summary: a
    # third of the entries of real feeds, sanitized once.
    summary = (content if entry.summary == entry.content
               else sanitize_html(repair_text(entry.summary or ""), base))
    title = clean_title(repair_text(entry.title), entry.title_is_html)
    excerpt = make_excerpt(excerpt_text(summary or content))
    author = clean_title(repair_text(entry.author), False) if entry.author else None
    enclosures = tuple(
        replace(e, url=url) for e in entry.enclosures
        if (url := clean_link(e.url, base)) is not None
    )
    thumbnail = clean_link(entry.thumbnail, base)
    # A feed that only has the full text in <description> gives it to us twice.
    if summary == content:
        summary = ""
    return CleanEntry(
        identity=entry_identity(entry.guid, link, title, content or summary),
        signature=entry_signature(title, link, author, content, summary,
                                  [e.url for e in enclosures] + [thumbnail or ""]),
        title=title or excerpt[:80] or (link or ""),
        link=link,
        author=author or None,
        published=entry.published,
        updated=entry.updated,
        content=content,
        summary=summary,
        excerpt=excerpt,
        language=entry.language,
        enclosures=enclosures,
        thumbnail=thumbnail,
        categories=tuple(dict.fromkeys(
            c for c in (clean_title(repair_text(c), False) for c in entry.categories) if c)),
    )
