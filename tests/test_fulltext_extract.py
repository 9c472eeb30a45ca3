"""Whole articles out of blog pages: the fixture pages of tests/data/articles/, each
beside what extracting it must give, and pages built to break the extractor."""

from __future__ import annotations

import json
import time
from pathlib import Path

import feedparser.mixin
import pytest

from aggregator.fulltext.extract import extract_article, html_text
from aggregator.fulltext.page import decode_page

ARTICLES = Path(__file__).parent / "data" / "articles"
PAGES = sorted(ARTICLES.glob("*.html"))


def _expected(page: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads(
        page.with_name(page.stem + ".expected.json").read_text("utf-8"))
    return result


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_each_page_gives_its_article_and_none_of_its_furniture(page: Path) -> None:
    expected = _expected(page)
    found = extract_article(page.read_bytes(), str(expected["url"]))
    if not expected["article"]:
        assert found is None
        return
    assert found is not None
    assert str(expected["first"]) in found.text
    assert str(expected["last"]) in found.text
    for furniture in expected["absent"]:  # type: ignore[attr-defined]
        assert furniture not in found.text, furniture
        assert furniture not in found.html, furniture
    for image in expected["images"]:  # type: ignore[attr-defined]
        assert f'src="{image}"' in found.html
    for never in expected["never"]:  # type: ignore[attr-defined]
        assert never not in found.html


def test_the_last_paragraph_is_the_articles_own_last() -> None:
    found = extract_article((ARTICLES / "wp-metier.html").read_bytes(),
                            "https://monmetier.example/2012/x/")
    assert found is not None
    assert found.text.splitlines()[-1] == (
        "Ce web qui m’a donné un métier, un vrai, qui me permet de gagner ma vie.")


def test_links_and_images_are_absolute_and_the_html_is_ours() -> None:
    page = ("<html><body><nav><a href='/'>Accueil</a></nav><article><h1>Titre</h1>"
            + "<p>Un paragraphe de l’article, assez long pour compter, avec <a href='/autre/'>"
            "un lien relatif</a> et du texte autour. </p>" * 4
            + "<p><img src='../img/photo.jpg' alt='photo' onerror='alert(1)'></p>"
            "<script>alert(2)</script>" + "<p>Encore du texte, toujours de l’article. </p>" * 4
            + "</article></body></html>")
    found = extract_article(page, "https://blog.example/2013/12/billet.html")
    assert found is not None
    assert 'href="https://blog.example/autre/"' in found.html
    assert 'src="https://blog.example/2013/img/photo.jpg"' in found.html
    assert "onerror" not in found.html and "alert" not in found.html
    assert 'rel="noopener noreferrer nofollow"' in found.html


def test_french_no_break_spaces_survive_extraction() -> None:
    found = extract_article((ARTICLES / "wp-metier.html").read_bytes(),
                            "https://monmetier.example/2012/x/")
    assert found is not None
    assert "«\u00a0Tu vis dans un monde à part\u00a0»" in found.text
    assert "\u237d" not in found.text  # the sign that stood for them is gone


def test_a_page_holding_the_no_break_sign_keeps_it() -> None:
    page = "".join(f"<p>Le signe ⍽ est celui de l’espace insécable, au paragraphe {i} ; « ok »."
                   "</p>" for i in range(8))
    found = extract_article(f"<html><body><article>{page}</article></body></html>",
                            "https://blog.example/a")
    assert found is not None
    assert "⍽" in found.text


def test_text_is_one_block_a_line() -> None:
    assert html_text("<h2>Titre</h2><p>Un<br>deux</p><ul><li>trois</li></ul>") == (
        "Titre\nUn\ndeux\ntrois")


@pytest.mark.parametrize(("page", "content_type", "text"), [
    (b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "", "<p>café</p>"),
    ("<p>café</p>".encode("utf-16"), "", "<p>café</p>"),
    ("<p>café</p>".encode("utf-16-be"), "text/html; charset=UTF-16BE", "<p>café</p>"),
    (b'<meta charset="windows-1252"><p>caf\xe9 \x92</p>', "",
     '<meta charset="windows-1252"><p>café ’</p>'),
    (b"<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'><p>\xe9 \x92", "",
     "<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'><p>é ’"),
    (b'<meta charset="no-such-thing"><p>caf\xc3\xa9', "", '<meta charset="no-such-thing"><p>café'),
    (b'<meta charset="utf-16"><p>caf\xc3\xa9', "", '<meta charset="utf-16"><p>café'),
    # HTTP's charset before the page's own.
    (b'<meta charset="iso-8859-1"><p>caf\xc3\xa9', "text/html; charset=utf-8",
     '<meta charset="iso-8859-1"><p>café'),
    # windows-1252 labelled UTF-8, in the page or by HTTP: read as feeds are, no U+FFFD.
    (b'<meta charset="utf-8"><p>caf\xe9', "", '<meta charset="utf-8"><p>café'),
    ("<p>Sécurité : l’été</p>".encode("cp1252"), "text/html; charset=utf-8",
     "<p>Sécurité : l’été</p>"),
])
def test_pages_are_decoded_as_declared_else_utf8_else_windows_1252(
        page: bytes, content_type: str, text: str) -> None:
    assert decode_page(page, content_type) == text


def test_c1_controls_are_read_as_feedparsers_windows_1252_table_read_them() -> None:
    """All 32 of U+0080 to U+009F in a Latin-1 page, against the private table of
    feedparser's that decode_page used before the cp1252 codec: the 5 bytes windows-1252
    leaves undefined stay as they are."""
    head = '<meta charset="iso-8859-1"><p>'
    controls = "".join(map(chr, range(0x80, 0xA0)))
    page = decode_page(head.encode("ascii") + controls.encode("latin-1"))
    assert page is not None and page.startswith(head)
    read = page.removeprefix(head)
    assert read == controls.translate(feedparser.mixin._cp1252)
    assert [f"{ord(c):X}" for c in read if c in controls] == ["81", "8D", "8F", "90", "9D"]


def test_utf8_page_served_as_latin1_is_repaired_as_a_feed_is() -> None:
    """Apache's old default label: the bytes read as Latin-1 give "Ã©", which the feeds'
    mojibake repair (poll.clean.repair_text) undoes."""
    page = (ARTICLES / "wp-existe.html").read_bytes()
    url = str(_expected(ARTICLES / "wp-existe.html")["url"])
    found = extract_article(page, url, "text/html; charset=ISO-8859-1")
    assert found is not None
    assert found == extract_article(page, url)
    assert "Bonjour à toutes et à tous," in found.text


def test_binary_is_not_text() -> None:
    assert decode_page(bytes(range(256)) * 20) is None
    assert decode_page((ARTICLES / "hostile-binary.html").read_bytes()) is None


def _article_paragraphs(count: int) -> str:
    return "".join(f"<p>Paragraphe {i} de l’article, avec des mots en nombre suffisant pour "
                   "passer pour du texte.</p>" for i in range(count))


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deeply_nested_pages_end_quickly(depth: int) -> None:
    page = ("<html><body><article>" + _article_paragraphs(6) + "<div>" * depth + "tout au fond"
            + "</div>" * depth + "</article></body></html>")
    started = time.perf_counter()
    found = extract_article(page, "https://blog.example/profond")
    assert time.perf_counter() - started < 10
    assert found is None or "Paragraphe 0" in found.text


def test_a_huge_page_is_cut_not_choked_on() -> None:
    page = ("<html><body><article>" + _article_paragraphs(8) + "<p>" + "bla " * 3_000_000
            + "</p></article></body></html>")
    started = time.perf_counter()
    found = extract_article(page.encode(), "https://blog.example/enorme")
    assert time.perf_counter() - started < 20
    assert found is None or "Paragraphe 0" in found.text


@pytest.mark.parametrize("page", [
    b"", b"   ", b"<", b"<html>", b"<?xml version='1.0'?><rss></rss>", b"\x00\x01\x02" * 1000,
    "<p>\ud800 surrogate</p>", b"<html><body>" + b"<a>" * 5000 + b"</body></html>",
    b"<table>" * 2000, b"<p>" + "é".encode() * 100_000,
])
def test_hostile_pages_give_none_or_text_never_an_error(page: bytes | str) -> None:
    found = extract_article(page, "https://blog.example/x")
    assert found is None or isinstance(found.text, str)
