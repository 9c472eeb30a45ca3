"""What a feed publishes of stored values: plain text no reader runs as markup, and the
language tags, media types and addresses that are what they claim to be."""

from __future__ import annotations

import pytest

from aggregator.publish.safe import language_tag, media_type, plain_text, web_url


@pytest.mark.parametrize(("text", "expected"), [
    ("<script>alert(1)</script> Astuces", "alert(1) Astuces"),
    ("Les balises <title> et <meta> du blog", "Les balises et du blog"),
    ("<b>Nouveau</b> : la modération", "Nouveau : la modération"),
    ("<scr<b>ipt>alert(1)</script>", "< script>alert(1)"),
    ("<img src=x onerror=alert(1)", "< img src=x onerror=alert(1)"),
    ("<<a href=x>>", "<>"),
    ("a <!-- b --> c <?php ?> d", "a c d"),
    ("a < b, <3 et 2<3", "a < b, <3 et 2<3"),
    ("Tom & Jerry &lt;b&gt;", "Tom & Jerry &lt;b&gt;"),
    ("Sans balise  ni rien", "Sans balise  ni rien"),
])
def test_plain_text_leaves_nothing_that_opens_markup(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize("value", [
    "fr", "FR", "fr-FR", "fr-CA", "zh-Hant-TW", "de-CH-1996", "sl-rozaj-biske",
    "en-US-x-twain", "x-whatever", "i-klingon", "es-419", "en-a-bbb-x-a-ccc", "zh-yue-HK",
])
def test_language_tags_well_formed(value: str) -> None:
    assert language_tag(value) == value


@pytest.mark.parametrize("value", [
    None, "", "français", "fr_FR", "fr-", "-fr", "fr FR", "f", "fr-FR-", "en-x",
    "abcdefghi", "fr-\u212aK", "<fr>", "fr\n",
])
def test_language_tags_ill_formed(value: str | None) -> None:
    assert language_tag(value) is None


@pytest.mark.parametrize("value", [
    "audio/mpeg", "video/mp4", "application/vnd.ms-excel", "image/svg+xml",
    'audio/mp4; codecs="mp4a.40.2"', "text/plain;charset=utf-8",
])
def test_media_types_kept(value: str) -> None:
    assert media_type(value) == value


@pytest.mark.parametrize("value", [
    None, "", "audio", "audio/", "/mpeg", "audio mpeg", "audio/mpeg/x", "audio/mp\x00eg",
    "audio/mpeg; codecs", "<b>/x", "audio/mpeg\n",
])
def test_media_types_dropped(value: str | None) -> None:
    assert media_type(value) is None


@pytest.mark.parametrize("value", [
    "https://blog.example/a", "http://blog.example:8080/a?b=c#d", "HTTPS://Blog.Example/",
    "https://[::1]/x", "https://exemple.fr/café",
])
def test_web_urls_kept(value: str) -> None:
    assert web_url(value) == value


@pytest.mark.parametrize("value", [
    None, "", "/relative", "blog.example/a", "javascript:alert(1)", "data:text/html,x",
    "ftp://blog.example/a", "https:///no-host", "https://blog.example/a b",
    "https://blog.example/\x00", "https://blog.example:99999/", "https://[::1/",
    "https://blog.example:port/", " https://blog.example/",
])
def test_web_urls_dropped(value: str | None) -> None:
    assert web_url(value) is None
