"""French typography on the feeds' text: no-break spaces where French puts them, never
inside addresses, times, emoticons or code, and only on the pages of French text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import pytest

from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.render import render_site
from aggregator.publish.typography import french_spacing, typeset
from aggregator.store import Store
from tests.conftest import FeedServer

NB, NN = "\u00a0", "\u202f"  # no-break space, narrow no-break space

CASES = [
    # Spaces added where there is none, an ordinary space replaced.
    ("Pourquoi? Parce que!", f"Pourquoi{NN}? Parce que{NN}!"),
    ("Pourquoi ? Parce que !", f"Pourquoi{NN}? Parce que{NN}!"),
    ("Ceci;cela ; et ça", f"Ceci;cela{NN}; et ça"),  # no space after: one token
    ("Ceci; cela", f"Ceci{NN}; cela"),
    ("Note: bien", f"Note{NB}: bien"),
    ("Note : bien", f"Note{NB}: bien"),
    ("Note  :  bien", f"Note{NB}:  bien"),  # several spaces become one
    ("Quoi ?!", f"Quoi{NN}?!"),  # a run of marks takes one space, before it
    ("Quoi?!?", f"Quoi{NN}?!?"),
    ("(sic!)", f"(sic{NN}!)"),
    ("Vraiment… ?", f"Vraiment…{NN}?"),
    # Existing no-break spaces kept; U+00A0 before ; ! ? made narrow.
    (f"Quoi{NB}?", f"Quoi{NN}?"),
    (f"Quoi{NN}?", f"Quoi{NN}?"),
    (f"Note{NN}: bien", f"Note{NN}: bien"),
    ("Quoi\u2009?", f"Quoi{NN}?"),  # a thin space breaks: replaced
    # Guillemets, with and without spaces.
    ("«Bonjour»", f"«{NB}Bonjour{NB}»"),
    ("« Bonjour »", f"«{NB}Bonjour{NB}»"),
    (f"«{NN}Bonjour{NN}»", f"«{NN}Bonjour{NN}»"),
    ("Il dit « Oui ! » ?", f"Il dit «{NB}Oui{NN}!{NB}»{NN}?"),
    ("«Quoi?»", f"«{NB}Quoi{NN}?{NB}»"),
    ("«»", "«»"),
    ("« »", "« »"),
    ("Elle cite « un extrait…", f"Elle cite «{NB}un extrait…"),
    # Nothing at the start of the text or after an opening bracket.
    ("? au début", "? au début"),
    ("Un doute (?) ici", "Un doute (?) ici"),
    # Times, ratios, numbers: a mark between two characters of a token.
    ("Rendez-vous à 12:30 !", f"Rendez-vous à 12:30{NN}!"),
    ("Le 16:9 gagne 3:2", "Le 16:9 gagne 3:2"),
    ("Jean 3:16 et 12:30:45", "Jean 3:16 et 12:30:45"),
    ("Score : 3 à 2", f"Score{NB}: 3 à 2"),
    # Addresses and e-mail addresses.
    ("Voir https://ex.fr/a?b=1;c:d !", f"Voir https://ex.fr/a?b=1;c:d{NN}!"),
    ("Voir http://ex.fr/faq? Oui", f"Voir http://ex.fr/faq{NN}? Oui"),
    ("Allez sur www.ex.fr!", f"Allez sur www.ex.fr{NN}!"),
    ("Écrivez à jean@ex.fr !", f"Écrivez à jean@ex.fr{NN}!"),
    ("mailto:jean@ex.fr", "mailto:jean@ex.fr"),
    ("Le lien : http://x.fr.", f"Le lien{NB}: http://x.fr."),
    ("ftp://ex.fr:21/a:b", "ftp://ex.fr:21/a:b"),
    # Emoticons.
    ("Super :)", "Super :)"),
    ("Super :-) et ;-)", "Super :-) et ;-)"),
    ("Bof :( et :/", "Bof :( et :/"),
    ("Top :D et :P", "Top :D et :P"),
    # Code.
    ("`a : b` et std::vector", "`a : b` et std::vector"),
    ("Le CSS !important", "Le CSS !important"),
    ("Query ?q=1&r=2", "Query ?q=1&r=2"),
    # HTML entities a feed left in its text: their ";" is no mark.
    ("Tom &amp; Jerry ; suite", f"Tom &amp; Jerry{NN}; suite"),
    ("R&amp;D : bilan &#8230; &#x2026; &eacute;t&eacute;",
     f"R&amp;D{NB}: bilan &#8230; &#x2026; &eacute;t&eacute;"),
    # Text with nothing to do.
    ("", ""),
    ("Aucune ponctuation ici.", "Aucune ponctuation ici."),
    ("Prix : 3 € ; TVA : 20 %", f"Prix{NB}: 3 €{NN}; TVA{NB}: 20 %"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_french_spacing(text: str, expected: str) -> None:
    assert french_spacing(text) == expected


@pytest.mark.parametrize("text", [text for text, _ in CASES] + [expected for _, expected in CASES])
def test_applying_it_twice_changes_nothing(text: str) -> None:
    once = french_spacing(text)
    assert french_spacing(once) == once


def test_only_french_text_is_touched() -> None:
    english = "Why? Because: it works! « Quoted »"
    for language in ("en", "en-US", "de", None, ""):
        assert typeset(english, language) == english
    for language in ("fr", "fr-FR", "FR-ca"):
        assert typeset("Pourquoi?", language) == f"Pourquoi{NN}?"


TITLE = "Pourquoi ? Parce que !"
SPACED = f"Pourquoi{NN}? Parce que{NN}!"


def _feed(language: str, items: list[tuple[str, str, str]]) -> bytes:
    posts = "".join(
        f"<item><title>{escape(title)}</title><link>https://blog.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>Thu, 12 Dec 2013 10:00:00 +0000</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for guid, title, text in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Blog {language}</title><link>https://blog.example/</link>"
            f"<description>Blog</description><language>{language}</language>{posts}"
            f"</channel></rss>").encode()


@pytest.mark.parametrize("page_language", ["fr", "en"])
def test_pages_space_french_titles_and_excerpts_and_feeds_keep_them_as_published(
    feed_server: FeedServer, make_config: Any, page_language: str
) -> None:
    french = feed_server.set("/fr.xml", _feed("fr-FR", [
        ("fr1", TITLE, "Voici : « la réponse » sur https://ex.fr/?a=1 à 12:30 :)")]))
    english = feed_server.set("/en.xml", _feed("en", [
        ("en1", "Why? Because!", "Here: the answer.")]))
    config = make_config([{"name": "Carnet", "url": french}, {"name": "Notes", "url": english}],
                         language=page_language)
    store = Store.open(config.settings.database)
    try:
        now = datetime(2013, 12, 13, 9, 0, tzinfo=UTC)
        update_feeds(store, make_session(), config, now)
        render_site(store, config.settings, config.feeds, now)
    finally:
        store.close()
    root = config.settings.output_dir
    for name in ("digest/2013-12-12.html", "index.html"):
        page = (root / name).read_text("utf-8")
        assert f">{SPACED}</a>" in page, name
        assert (f"Voici{NB}: «{NB}la réponse{NB}» sur https://ex.fr/?a=1 à 12:30 :)"
                in page), name
        # The entry's own language decides, whatever the page's.
        assert ">Why? Because!</a>" in page and "Here: the answer." in page, name
    for name in ("atom.xml", "rss.xml", "feed.json"):
        text = (root / name).read_text("utf-8")
        assert TITLE in text and NN not in text and "Why? Because!" in text, name
