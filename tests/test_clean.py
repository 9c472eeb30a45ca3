"""Sanitizing entry HTML, absolute URLs, text titles and excerpts."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import feedparser.urls
import ftfy
import pytest

from aggregator.models import CleanEntry, ParsedEntry
from aggregator.poll.clean import (
    _NOT_FRENCH,
    EXCERPT_WORDS,
    FRENCH_CHARACTERS,
    MOJIBAKE_SHAPES,
    PLAIN_ABSOLUTE,
    clean_entry,
    clean_link,
    clean_title,
    html_to_text,
    is_plain_french,
    keeps_link,
    make_excerpt,
    repair_text,
    sanitize_html,
)
from aggregator.poll.parse import parse_feed
from aggregator.poll.values import MAX_EXCERPT
from aggregator.xmlchars import strip_forbidden_chars

DATA = Path(__file__).parent / "data"
BASE = "https://blog.example/2013/12/billet.html"

HOSTILE = (
    '<p style="color:red;font-size:40px">Bonjour <strong>à tous</strong></p>'
    "<script>alert(1)</script>"
    '<img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">lien</a>'
    '<iframe src="https://evil.example/"></iframe>'
    "<style>body{display:none}</style>"
    '<a href="https://ok.example/">ok</a>'
    "<ul><li>la com,</li><li>le marketing</li></ul>"
    "<blockquote><p>Citation</p></blockquote>"
)


def hostile_entries() -> list[CleanEntry]:
    body = (DATA / "hostile.rss").read_bytes()
    feed = parse_feed(body, {"Content-Type": "application/rss+xml"},
                      "http://127.0.0.1:8000/hostile.rss")
    return [clean_entry(e, feed.site_url) for e in feed.entries]


def parsed(**fields: object) -> ParsedEntry:
    values: dict[str, object] = {
        "guid": None, "link": None, "title": "", "title_is_html": False, "author": None,
        "published": None, "updated": None, "content": None, "summary": None,
    }
    values.update(fields)
    return ParsedEntry(**values)  # type: ignore[arg-type]


# --- sanitize_html on raw hostile markup ----------------------------------------------


@pytest.mark.parametrize(
    "forbidden",
    ["<script", "alert(1)", "<style", "display:none", "<iframe", "evil.example",
     "onerror", "alert(2)", "javascript:", "alert(3)", "style="],
)
def test_sanitize_removes_hostile_markup(forbidden: str) -> None:
    assert forbidden not in sanitize_html(HOSTILE, BASE)


@pytest.mark.parametrize(
    "kept",
    ["<p>Bonjour <strong>à tous</strong></p>",
     '<a href="https://ok.example/" rel="noopener noreferrer nofollow">ok</a>',
     "<ul><li>la com,</li><li>le marketing</li></ul>",
     "<blockquote><p>Citation</p></blockquote>"],
)
def test_sanitize_keeps_good_markup(kept: str) -> None:
    assert kept in sanitize_html(HOSTILE, BASE)


def test_sanitize_exact_output_for_a_small_fragment() -> None:
    fragment = '<p class="x" onclick="f()">Un <em>mot</em><script>x()</script></p>'
    assert sanitize_html(fragment, None) == "<p>Un <em>mot</em></p>"


def test_sanitize_makes_relative_urls_absolute() -> None:
    fragment = ('<a href="/autre.html">a</a><img src="photo.jpg" alt="p">'
                '<blockquote cite="../source.html">c</blockquote>')
    assert sanitize_html(fragment, BASE) == (
        '<a href="https://blog.example/autre.html" rel="noopener noreferrer nofollow">a</a>'
        '<img src="https://blog.example/2013/12/photo.jpg" alt="p">'
        '<blockquote cite="https://blog.example/2013/source.html">c</blockquote>'
    )


def test_absolute_links_left_as_they_are_are_what_urljoin_gives() -> None:
    """The links sanitize_html keeps without asking urljoin: on every href, src and cite
    of the test corpus, urljoin would have given them back unchanged."""
    values = set()
    for path in (DATA / "corpus").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace").replace("&amp;", "&")
            values.update(re.findall(r"""(?:href|src|cite)\s*=\s*(?:"|'|&quot;)?([^"'\s>&]+)""",
                                     text))
    plain = [v for v in values if PLAIN_ABSOLUTE.fullmatch(v)]
    assert len(plain) > 3000
    for base in (BASE, "http://127.0.0.1:8000/feed.xml", "https://autre.example"):
        assert [v for v in plain if urljoin(base, v) != v] == []
        # What feedparser's own joining gives too (parse._urljoin leaves it out).
        kept = [v for v in plain if keeps_link(base, v)]
        assert len(kept) > 3000
        assert [v for v in kept if feedparser.urls._urljoin(base, v) != v] == []
    for changed in ("https://blog.example/a?", "https://blog.example/a#", "HTTPS://blog.example/",
                    "https://blog.example/a;p", "https://[::1]/", "https://blog.example/a b"):
        assert not PLAIN_ABSOLUTE.fullmatch(changed)


def test_sanitize_resolves_against_each_calls_own_base_in_threads() -> None:
    """The sanitizer is made once; the base reaches its link callback per call, and
    threads (a parse inline beside another) never see each other's."""
    fragment = '<a href="x/y">l</a><img src="p.png">'
    seen: dict[str, set[str]] = {}

    def clean_many(base: str) -> None:
        seen[base] = {sanitize_html(fragment, base) for _ in range(500)}

    bases = ["https://a.example/d/", "https://b.example/e/", "https://c.example/"]
    threads = [threading.Thread(target=clean_many, args=(base,)) for base in bases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for base in bases:
        assert seen[base] == {f'<a href="{base}x/y" rel="noopener noreferrer nofollow">l</a>'
                              f'<img src="{base}p.png">'}
    assert sanitize_html(fragment, None) == (
        '<a href="x/y" rel="noopener noreferrer nofollow">l</a><img src="p.png">')


def test_sanitize_without_base_keeps_relative_urls() -> None:
    assert sanitize_html('<img src="photo.jpg">', None) == '<img src="photo.jpg">'


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JavaScript:alert(1)",
                                  " javascript:alert(1)", "data:text/html,x"])
def test_sanitize_drops_dangerous_link_schemes(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">x</a>', BASE) == (
        '<a rel="noopener noreferrer nofollow">x</a>'
    )


def test_sanitize_keeps_mailto() -> None:
    assert 'href="mailto:cm@blog.example"' in sanitize_html(
        '<a href="mailto:cm@blog.example">m</a>', BASE)


# --- the hostile.rss fixture through parse and clean ----------------------------------


@pytest.mark.parametrize(
    "forbidden",
    ["<script", "alert(", "<style", "<iframe", "evil.example", "onerror",
     "javascript:", "style="],
)
def test_hostile_feed_content_is_cleaned(forbidden: str) -> None:
    for entry in hostile_entries():
        assert forbidden not in entry.content


def test_hostile_feed_keeps_good_markup() -> None:
    first, second = hostile_entries()
    assert "<p>Je fais un <strong>drôle de métier</strong>." in first.content
    assert "<ul><li>la com,</li><li>le marketing,</li><li>la relation client</li></ul>" in (
        first.content)
    assert '<a href="https://ok.example/" rel="noopener noreferrer nofollow">Facebook</a>' in (
        first.content)
    assert "<blockquote><p>Community manager ou le métier couteau suisse.</p></blockquote>" in (
        second.content)


def test_hostile_feed_title_markup_becomes_text() -> None:
    first, second = hostile_entries()
    assert first.title == 'Vis ma vie de CM en gras & "guillemets"'
    assert second.title == "Pourquoi je suis Community Manager ?"


def test_atom_relative_urls_become_absolute() -> None:
    body = (DATA / "vis-ma-vie.atom").read_bytes()
    feed = parse_feed(body, {"Content-Type": "application/atom+xml"},
                      "http://127.0.0.1:8000/vis-ma-vie.atom")
    entry = clean_entry(feed.entries[0], feed.site_url)
    assert entry.link == "https://vismavie.example/2013/12/vis-ma-vie-de-cm-2.html"
    assert 'src="https://vismavie.example/images/photo.jpg"' in entry.content


# --- titles and text ------------------------------------------------------------------


def test_clean_title_from_html() -> None:
    title = 'Vis ma vie de CM en <b>gras</b> &amp; "guillemets"'
    assert clean_title(title, True) == 'Vis ma vie de CM en gras & "guillemets"'


def test_clean_title_plain_text_keeps_angle_brackets() -> None:
    assert clean_title("Le ROI < la relation", False) == "Le ROI < la relation"


def test_clean_title_folds_whitespace() -> None:
    assert clean_title("  Vis ma\n vie\tde CM  ", False) == "Vis ma vie de CM"


def test_html_to_text_separates_blocks_and_decodes_entities() -> None:
    fragment = "<p>Un</p><p>deux &amp; <b>trois</b></p><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(fragment) == "Un deux & trois a b"


def test_html_to_text_keeps_no_break_spaces_of_guillemets() -> None:
    fragment = "<p>la notion de «&nbsp;CM&nbsp;»\n  était</p>"
    assert html_to_text(fragment) == "la notion de «\u00a0CM\u00a0» était"


def test_html_to_text_drops_script_and_style_contents() -> None:
    assert html_to_text("<p>x</p><script>alert(1)</script><style>p{}</style>") == "x"


def test_html_to_text_keeps_escaped_markup_as_text() -> None:
    assert html_to_text("<p>&lt;b&gt; n’est pas du gras</p>") == "<b> n’est pas du gras"


# --- excerpts -------------------------------------------------------------------------


def test_short_text_is_its_own_excerpt() -> None:
    assert make_excerpt("Je fais un  drôle de\nmétier.") == "Je fais un drôle de métier."


def test_long_text_is_cut_at_sixty_words_with_an_ellipsis() -> None:
    text = " ".join(f"mot{i}" for i in range(100))
    excerpt = make_excerpt(text)
    assert EXCERPT_WORDS == 60
    assert excerpt == " ".join(f"mot{i}" for i in range(60)) + "…"
    assert len(excerpt.split()) == 60


def test_exactly_sixty_words_has_no_ellipsis() -> None:
    text = " ".join(f"mot{i}" for i in range(60))
    assert make_excerpt(text) == text


def test_excerpt_drops_trailing_punctuation_before_the_ellipsis() -> None:
    assert make_excerpt("la com, le marketing, la relation client", 3) == "la com, le…"


def test_excerpt_counts_guillemets_with_no_break_spaces_as_one_word() -> None:
    assert make_excerpt("un «\u00a0deux\u00a0» trois quatre", 2) == "un «\u00a0deux\u00a0»…"


def test_excerpt_never_cuts_inside_a_word() -> None:
    text = "anticonstitutionnellement " * 80
    excerpt = make_excerpt(text)
    assert excerpt.endswith("anticonstitutionnellement…")
    assert all(w == "anticonstitutionnellement" for w in excerpt.rstrip("…").split())


def test_entry_excerpt_is_at_most_sixty_words() -> None:
    body = (DATA / "vis-ma-vie.atom").read_bytes()
    feed = parse_feed(body, {"Content-Type": "application/atom+xml"}, "http://127.0.0.1:8000/")
    entry = clean_entry(feed.entries[0], feed.site_url)
    assert entry.excerpt.startswith("Il y a bien longtemps, je vous parlais")
    assert entry.excerpt.endswith("…")
    assert "«\u00a0CM\u00a0»" in entry.excerpt  # a no-break space does not split words
    assert len(entry.excerpt.split(" ")) == 60


# --- forbidden characters -------------------------------------------------------------


def test_strip_forbidden_chars() -> None:
    assert strip_forbidden_chars("a\x00b\x0bc\x1fd\ud800e\ufffef") == "abcdef"


def test_strip_forbidden_chars_keeps_allowed_whitespace_and_astral() -> None:
    text = "a\tb\nc\rd é\u00a0🙂"
    assert strip_forbidden_chars(text) == text


def test_sanitize_and_title_remove_forbidden_chars() -> None:
    assert sanitize_html("<p>a\x00b\x0bc\x1fd\ud800e</p>", None) == "<p>abcde</p>"
    assert clean_title("Vis\x00 ma\x1f vie", False) == "Vis ma vie"


# --- links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("mailto:cm@blog.example", None),
        ("", None),
        (None, None),
        ("/autre.html", "https://blog.example/autre.html"),
        (" https://ok.example/a ", "https://ok.example/a"),
        ("http://ok.example/", "http://ok.example/"),
    ],
)
def test_clean_link(link: str | None, expected: str | None) -> None:
    assert clean_link(link, BASE) == expected


# --- clean_entry ----------------------------------------------------------------------


def test_clean_entry_builds_a_safe_entry() -> None:
    published = datetime(2012, 7, 13, 8, 24, tzinfo=UTC)
    entry = clean_entry(parsed(
        guid="g-1", link="/billet.html", title="Vis <i>ma</i> vie", title_is_html=True,
        author=" Chifoumy ", published=published, content='<p onclick="x">Corps</p>',
        summary="<p>Résumé</p>",
    ), "https://blog.example/")
    assert entry.identity == "id:g-1"
    assert entry.link == "https://blog.example/billet.html"
    assert entry.title == "Vis ma vie"
    assert entry.author == "Chifoumy"
    assert entry.content == "<p>Corps</p>"
    assert entry.summary == "<p>Résumé</p>"
    assert entry.excerpt == "Résumé"
    assert entry.published == published


def test_clean_entry_drops_a_summary_equal_to_the_content() -> None:
    entry = clean_entry(parsed(guid="g", content="<p>Tout</p>", summary="<p>Tout</p>"), None)
    assert entry.content == "<p>Tout</p>"
    assert entry.summary == ""
    assert entry.excerpt == "Tout"


def test_clean_entry_without_title_uses_the_excerpt() -> None:
    entry = clean_entry(parsed(guid="g", summary="<p>Un billet sans titre</p>"), None)
    assert entry.title == "Un billet sans titre"


def test_clean_entry_drops_a_javascript_link() -> None:
    entry = clean_entry(parsed(link="javascript:alert(1)", title="t", content="c"), None)
    assert entry.link is None
    assert entry.identity.startswith("hash:")


@pytest.mark.parametrize("text, expected", [
    ("Mon métier, c’est le web. […]", "Mon métier, c’est le web…"),
    ("Trois petits mots [...]", "Trois petits mots…"),
    ("Déjà fini (…)", "Déjà fini…"),
    ("Rien à couper", "Rien à couper"),
    ("[…]", ""),
])
def test_excerpt_replaces_the_feeds_elision_marker_with_one_ellipsis(
    text: str, expected: str
) -> None:
    assert make_excerpt(text) == expected


def test_plain_french_skips_ftfy_only_where_ftfy_would_change_nothing() -> None:
    """Every window of up to three French characters that skips ftfy is one it keeps."""
    for size in (1, 2, 3):
        for chars in itertools.product(FRENCH_CHARACTERS, repeat=size):
            text = "ab" + "".join(chars) + "cd"
            if is_plain_french(text):
                assert ftfy.fix_encoding(text) == text, repr(text)


def test_plain_french_agrees_with_its_definition() -> None:
    """The shapes of mojibake, searched for as one non-ASCII character and each shape's
    first set looked behind, are found where the plain alternation of them finds them:
    on every window of the French characters and on every corpus document."""
    shapes = re.compile("|".join(f"[{first}]{rest}" for first, rest in MOJIBAKE_SHAPES))

    def by_definition(text: str) -> bool:
        return text.isascii() or not (_NOT_FRENCH.search(text) or shapes.search(text))

    texts = ["a" + "".join(chars) + "b" for size in (1, 2)
             for chars in itertools.product(FRENCH_CHARACTERS + "Ã©âæ文 ", repeat=size)]
    paths = sorted((DATA / "corpus").rglob("*.xml"))[::3] + sorted(DATA.glob("*.*"))
    texts += [path.read_bytes().decode("utf-8", "replace") for path in paths if path.is_file()]
    assert len(texts) > 1000
    disagree = [text[:80] for text in texts if is_plain_french(text) != by_definition(text)]
    assert not disagree
    assert sum(not by_definition(text) for text in texts) > 100  # both answers occur


@pytest.mark.parametrize("text", [
    "l’équipe d’été\u00a0: « café » à 10\u00a0€", "Écrire, c’est œuvrer", "plain ASCII"])
def test_everyday_french_is_plain(text: str) -> None:
    assert is_plain_french(text)


@pytest.mark.parametrize("text", ["Ã©tÃ©", "lâ€™Ã©quipe", "âœ“ fait", "Â\u00a0»", "æ–‡"])
def test_mojibake_is_not_plain_and_is_repaired(text: str) -> None:
    assert not is_plain_french(text)
    assert repair_text(text) == ftfy.fix_encoding(text)


@pytest.mark.parametrize("title, is_html, shown", [
    ("\u202eevil\u202c title", False, "evil title"),
    ("&#x202E;evil&#x202C; <b>title</b>", True, "evil title"),
    ("\u2066isolé\u2069\u200b", False, "isolé"),
    ("\u200b \u2060\ufeff", False, ""),
    ("👩\u200d💻 CM", False, "👩\u200d💻 CM"),
])
def test_clean_title_drops_bidi_controls_and_zero_width_runs(title: str, is_html: bool,
                                                             shown: str) -> None:
    assert clean_title(title, is_html) == shown


def test_a_title_of_zero_width_characters_gets_the_usual_fallback() -> None:
    entry = clean_entry(parsed(guid="g", title="\u200b\u200d\u2060", author="\u202e\u200b",
                               categories=("\u2066\u2069", "cm\u200b"),
                               summary="<p>Le titre était invisible</p>"), None)
    assert (entry.title, entry.author, entry.categories) == (
        "Le titre était invisible", None, ("cm",))


def test_an_excerpt_of_absurdly_long_words_is_bounded() -> None:
    excerpt = make_excerpt("x" * 9_000_000 + " fin")
    assert len(excerpt) == MAX_EXCERPT and excerpt.endswith("…")
