"""Entry HTML nested too deep, flattened before it is sanitized.

The HTML parser under nh3 (html5ever) looks through the open elements at every tag, so
its cost grows with the square of the nesting depth: one entry of 100,000 nested <div>
(a 1.1 MB feed) took minutes to clean, and as long again at each render. No page meant
for reading nests 64 deep: the tags deeper than that are dropped, and their text kept.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64

# One pass, each character read once: comments and raw-text elements are skipped whole
# (the tags inside them are text), and a tag ends at the first ">" or "<" ("<a<a<a..."
# must not make every "<" scan to the end of the document).
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp)\b[^<>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^<>]*>",
    re.DOTALL | re.IGNORECASE,
)
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr"})
# Inline elements: a start tag's implied end looks back through them, as HTML parsers do.
_INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del",
                     "dfn", "em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "s",
                     "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt",
                     "u", "var"})
_BLOCKS = ("address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
           "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
           "header", "hgroup", "main", "menu", "nav", "ol", "pre", "section", "table", "ul")
# The open elements a start tag ends: "<li>a<li>b" is two items, "<p>a<div>" no p around
# the div. Counting them as nested would flatten sloppy but ordinary pages.
_ENDS: dict[str, frozenset[str]] = {
    **{block: frozenset({"p"}) for block in _BLOCKS},
    "p": frozenset({"p"}),
    "li": frozenset({"li", "p"}),
    "dt": frozenset({"dt", "dd", "p"}),
    "dd": frozenset({"dt", "dd", "p"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
}


def bound_depth(fragment: str, limit: int = MAX_DEPTH) -> str:
    """`fragment` without the tags nested deeper than `limit` (their text stays).

    An approximation of how HTML parsers nest (implied ends included), linear in the
    fragment's length; what it gives is sanitized afterwards like any other HTML.
    """
    # Each element kept open starts at a "<" not followed by "/": too few of them to
    # nest that deep, nothing is dropped (nearly every entry).
    if fragment.count("<") - fragment.count("</") <= limit:
        return fragment
    open_: list[str] = []  # the elements open and kept, at most `limit`
    dropped: dict[str, int] = {}  # start tags dropped, by name, whose end tags go too
    cuts: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(fragment):
        name = match.group(3)
        if name is None or (name := name.lower()) in VOID:
            continue
        if match.group(2):  # an end tag
            if dropped.get(name):
                dropped[name] -= 1
                cuts.append(match.span())
            elif name in open_:
                del open_[len(open_) - 1 - open_[::-1].index(name):]
            continue
        _end_implied(open_, name)
        if len(open_) < limit:
            open_.append(name)
        else:
            dropped[name] = dropped.get(name, 0) + 1
            cuts.append(match.span())
    return _without(fragment, cuts) if cuts else fragment


def _end_implied(open_: list[str], name: str) -> None:
    """Close what the start tag `name` ends, looking back through inline elements."""
    ends = _ENDS.get(name)
    if not ends:
        return
    found = None
    for index in range(len(open_) - 1, -1, -1):
        element = open_[index]
        if element in ends:
            found = index
        elif element not in _INLINE:
            break
    if found is not None:
        del open_[found:]


def _without(text: str, cuts: list[tuple[int, int]]) -> str:
    pieces, start = [], 0
    for begin, end in cuts:
        pieces.append(text[start:begin])
        start = end
    pieces.append(text[start:])
    return "".join(pieces)
