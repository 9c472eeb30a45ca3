"""French typography on the feeds' own plain text: no-break spaces before : ; ! ? and
inside « guillemets », as French readers expect and as most blogs forget.

U+202F (narrow no-break space) goes before ; ! ? and U+00A0 before : and inside « ».
A space that is already there is replaced, one is added where there is none; an
existing no-break space is kept, except U+00A0 before ; ! ?, made narrow. Titles and
excerpts are plain text (the templates escape them), so this works on text, not HTML.

Addresses, e-mail addresses, HTML entities and `code` are left alone, and so are marks
inside a token (12:30, 16:9, std::vector, ?q=1) and emoticons (:) ;-)). Applying it
twice changes nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right

NBSP, NNBSP = "\u00a0", "\u202f"
# Horizontal spaces a mark may follow: ordinary, no-break, thin and the like.
_SPACE = "[ \t\u00a0\u202f\u2007\u2009\u200a]"
_MARKS = re.compile(f"(?P<space>{_SPACE}*)(?P<run>[;:!?]+)")
_GUILLEMETS = re.compile(f"«(?P<after>{_SPACE}*)|(?P<before>{_SPACE}*)»")
# What a mark must not be spaced from: the start of a line or an opening bracket.
_OPENERS = "([{«\n"
# A mark followed by one of these is inside a token (a time, a query string, code).
_TOKEN = "/\\=&_#@%+~"
_EMOTICON = re.compile(r"[:;]['’]?[-^o]?[()\[\]{}|/\\*<>3DPpOoXx]")
_PROTECTED = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"«»]*[^\s<>\"«».,;:!?)'’]"  # addresses
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);"  # entities some feeds leave in text
    r"|`[^`\n]*`",  # code, as Markdown writes it
    re.IGNORECASE,
)


def typeset(text: str, language: str | None) -> str:
    """`text` with the typography of `language` (a BCP 47 tag): French gets
    french_spacing, other languages are left as they are."""
    if language and language.split("-")[0].lower() == "fr":
        return french_spacing(text)
    return text


def french_spacing(text: str) -> str:
    """Plain `text` with French no-break spaces before : ; ! ? and inside « »."""
    spans = _Spans(text)
    text = _MARKS.sub(lambda match: _space_mark(match, spans), text)
    spans = _Spans(text)  # the marks' spaces moved what follows them
    return _GUILLEMETS.sub(lambda match: _space_guillemet(match, spans), text)


class _Spans:
    """The stretches of a text no space goes into (see _PROTECTED)."""

    def __init__(self, text: str) -> None:
        found = [match.span() for match in _PROTECTED.finditer(text)]
        self.starts = [start for start, _ in found]
        self.ends = [end for _, end in found]

    def inside(self, index: int) -> bool:
        """Whether the character at `index` is in a protected stretch."""
        at = bisect_right(self.starts, index) - 1
        return at >= 0 and index < self.ends[at]


def _space_mark(match: re.Match[str], spans: _Spans) -> str:
    text, start, end = match.string, match.start("run"), match.end("run")
    before = text[match.start() - 1] if match.start() else "\n"
    after = text[end] if end < len(text) else " "
    if (spans.inside(start) or before in _OPENERS or after.isalnum() or after in _TOKEN
            or _EMOTICON.match(text, start)):
        return match.group()
    run = match.group("run")
    return _no_break(match.group("space"), narrow=run[0] != ":") + run


def _space_guillemet(match: re.Match[str], spans: _Spans) -> str:
    text = match.string
    if match.group("after") is not None:  # «, and the text after it
        start, space = match.start(), match.group("after")
        neighbour = text[match.end()] if match.end() < len(text) else "\n"
        if spans.inside(start) or neighbour in "»\n":
            return match.group()
        return "«" + _no_break(space, narrow=False)
    end = match.end() - 1
    neighbour = text[match.start() - 1] if match.start() else "\n"
    if spans.inside(end) or neighbour in "«\n" or neighbour.isspace():
        return match.group()
    return _no_break(match.group("before"), narrow=False) + "»"


def _no_break(space: str, *, narrow: bool) -> str:
    """The no-break space that replaces `space`: narrow before ; ! ?; before : and
    inside guillemets, the one already there if it is a no-break space, else U+00A0."""
    if narrow:
        return NNBSP
    return space if space in (NBSP, NNBSP) else NBSP
