"""HTML nested too deep is flattened before sanitizing, in time linear in its length."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aggregator.poll.clean import sanitize_html
from aggregator.poll.depth import MAX_DEPTH, bound_depth
from aggregator.poll.parse import parse_feed

DATA = Path(__file__).parent / "data"
_TAG = re.compile(r"<(/?)([a-z0-9]+)")


def depth_of(html: str) -> int:
    """The deepest nesting of well-formed, explicitly closed HTML."""
    depth = deepest = 0
    for slash, name in _TAG.findall(html):
        if name in ("br", "img", "hr"):
            continue
        depth += -1 if slash else 1
        deepest = max(deepest, depth)
    return deepest


def nested(count: int, tag: str = "div") -> str:
    return f"<{tag}>" * count + "tout au fond" + f"</{tag}>" * count


def test_shallow_html_is_returned_as_it_is() -> None:
    html = "<p>un</p>" * 200 + nested(MAX_DEPTH)
    assert bound_depth(html) is html


def test_deep_html_keeps_its_text_and_the_first_levels() -> None:
    flattened = bound_depth("<p>avant</p>" + nested(500) + "<p>après</p>")
    assert flattened == ("<p>avant</p>" + nested(MAX_DEPTH) + "<p>après</p>")


def test_mixed_tags_and_unclosed_ones_are_counted_as_nesting() -> None:
    flattened = bound_depth("<div><span>" * 300 + "fond")
    assert depth_of(flattened) == MAX_DEPTH
    assert flattened.endswith("fond") and flattened.count("<") == MAX_DEPTH


@pytest.mark.parametrize("html", [
    "<ul>" + "<li>un point" * 300 + "</ul>",  # items without their end tag
    "<p>un" * 300,  # paragraphs without theirs
    "<table>" + "<tr><td>a<td><b>b</b>" * 300 + "</table>",
    "<div>" + "<p>un<div>deux</div>" * 300 + "</div>",  # a block ends the open p
    "<dl>" + "<dt>terme<dd>définition" * 300 + "</dl>",
    "<div>" + "<br><img src='x'><hr>" * 300 + "</div>",  # void elements do not nest
])
def test_sloppy_but_ordinary_html_is_not_flattened(html: str) -> None:
    assert bound_depth(html) == html


def test_tags_inside_comments_and_scripts_are_text() -> None:
    inert = "<!--" + "<div>" * 300 + "--><script>" + "<div>" * 300 + "</script>"
    assert bound_depth(inert + "<p>fin</p>") == inert + "<p>fin</p>"


def test_unterminated_tags_and_comments_cost_one_pass() -> None:
    for hostile in ("<a" * 200_000, "<!--<div>" * 100_000, "<script>" + "<div>" * 100_000):
        started = time.perf_counter()
        bound_depth(hostile)
        assert time.perf_counter() - started < 5


def test_sanitizing_100000_nested_divs_is_quick_and_keeps_the_text() -> None:
    # Before the bound: 48 s for nh3 alone on this fragment (a 1.1 MB feed), growing as
    # the square of the depth.
    started = time.perf_counter()
    cleaned = sanitize_html(nested(100_000), "https://blog.example/")
    assert time.perf_counter() - started < 20  # about 2 s, on a loaded 2-core machine
    assert cleaned == nested(MAX_DEPTH)


def test_real_world_entries_are_not_changed() -> None:
    # None of these real feeds nests 64 deep; many have more than 64 tags an entry.
    scanned = 0
    for path in sorted((DATA / "content" / "real-world").rglob("*")):
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
            continue
        for entry in parse_feed(path.read_bytes(), {}, "https://blog.example/").entries:
            for html in (entry.content or "", entry.summary or ""):
                scanned += html.count("<") > MAX_DEPTH
                assert bound_depth(html) == html, path
    assert scanned > 20
