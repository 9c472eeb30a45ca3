"""Sanitize entry HTML with an allowlist, absolutize links, and derive text excerpts."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.dedup import entry_identity, entry_signature
from aggregator.models import CleanEntry, ParsedEntry

EXCERPT_WORDS = 60

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
# Code points XML 1.0 forbids; a feed that carries them must not break ours.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLOCK_TAG = re.compile(
    r"<(/?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|td|th|pre|figure|figcaption|hr|dd|dt)\b)",
    re.IGNORECASE,
)
# ASCII white space only: French puts no-break spaces inside « guillemets » on purpose.
# The "[…]" WordPress and others end their excerpts with; we add our own ellipsis.
_ELISION = re.compile(r"\s*[\[(](?:…|\.\.\.)[\])]\s*$")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def strip_forbidden_chars(text: str) -> str:
    """Remove the characters that XML 1.0 forbids (control codes, lone surrogates)."""
    return _XML_FORBIDDEN.sub("", text)


def sanitize_html(fragment: str, base_url: str | None) -> str:
    """Keep only allowlisted markup; make every link and image absolute against `base_url`."""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        if not value.strip():
            # feedparser blanks unsafe links (javascript:); resolved, "" would
            # point at the page itself, so drop the attribute instead.
            return None
        return urljoin(base_url, value.strip()) if base_url else value

    return nh3.clean(
        strip_forbidden_chars(fragment),
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=absolutize,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def html_to_text(fragment: str) -> str:
    """The readable text of an HTML fragment, on one line, entities decoded."""
    spaced = _BLOCK_TAG.sub(r" <\1", strip_forbidden_chars(fragment))
    text = nh3.clean(spaced, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def make_excerpt(text: str, words: int = EXCERPT_WORDS) -> str:
    """The first `words` words of `text`, cut at a word boundary, with an ellipsis if cut."""
    text, elided = _ELISION.subn("", text.strip())
    parts = _SPACES.split(text.strip())
    if len(parts) > words:
        parts, elided = parts[:words], 1
    excerpt = " ".join(parts)
    return excerpt.rstrip(",;:.!?-–— ") + "…" if elided and excerpt else excerpt


def clean_title(title: str, is_html: bool) -> str:
    """A title as plain text: markup removed, entities decoded, whitespace folded."""
    if is_html:
        return html_to_text(title)
    return _SPACES.sub(" ", strip_forbidden_chars(title)).strip()


def clean_link(link: str | None, base_url: str | None) -> str | None:
    """An absolute http(s) link, or None for anything else (javascript:, data:, ...)."""
    if not link:
        return None
    absolute = urljoin(base_url or "", link.strip())
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def clean_entry(entry: ParsedEntry, base_url: str | None) -> CleanEntry:
    """Turn a parsed entry into one that is safe to store and show."""
    link = clean_link(entry.link, base_url)
    base = link or base_url
    content = sanitize_html(entry.content or "", base)
    summary = sanitize_html(entry.summary or "", base)
    title = clean_title(entry.title, entry.title_is_html)
    excerpt = make_excerpt(html_to_text(summary or content))
    author = clean_title(entry.author, False) if entry.author else None
    # A feed that only has the full text in <description> gives it to us twice.
    if summary == content:
        summary = ""
    return CleanEntry(
        identity=entry_identity(entry.guid, link, title, content or summary),
        signature=entry_signature(title, link, author, content, summary, entry.published),
        title=title or excerpt[:80] or (link or ""),
        link=link,
        author=author or None,
        published=entry.published,
        updated=entry.updated,
        content=content,
        summary=summary,
        excerpt=excerpt,
    )
