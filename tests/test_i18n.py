"""Interface translations: gettext catalogs made with Babel; French by default, or English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from babel import Locale
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from aggregator.publish.environment import make_environment
from aggregator.i18n import LOCALE_DIR, load_translations, read_catalog
from tests.conftest import SITE_SOURCES, FeedServer, poll_and_render

ROOT = Path(__file__).parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]*>")


def template_messages() -> dict[str, tuple[str, ...]]:
    """Every message of the HTML templates, extracted as babel.cfg says: msgid to all its ids."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map):
        ids = (message,) if isinstance(message, str) else tuple(message)
        found[ids[0]] = ids
    return found


def test_babel_extracts_the_template_messages() -> None:
    messages = template_messages()
    assert len(messages) >= 15
    assert messages["%(num)d article"] == ("%(num)d article", "%(num)d articles")
    assert "Other" in messages and "Also published on:" in messages


def test_every_template_message_has_a_french_translation() -> None:
    catalog = read_catalog("fr")
    for msgid, ids in template_messages().items():
        entry = catalog.get(msgid)
        assert entry is not None, f"no French translation for {msgid!r}: run pybabel update"
        assert not entry.fuzzy, f"fuzzy French translation for {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"empty French translation for {msgid!r}"
        assert len(strings) == (2 if len(ids) == 2 else 1), msgid
    # Placeholders match their msgid (python-format checks by Babel).
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_template_catalog_and_french_catalog_follow_the_templates() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    extracted = set(template_messages())
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id} == extracted, (
        "messages.pot is stale: run pybabel extract (see aggregator/i18n.py)")
    french = read_catalog("fr")
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in french if m.id} == extracted
    assert not french.obsolete
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"
    # Catalogs are compiled in memory: no binary .mo file is kept.
    assert not list(LOCALE_DIR.rglob("*.mo"))


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", ["0 article", "1 article", "3 articles", "1 min de lecture", "7 min de lecture"]),
    ("en", ["0 articles", "1 article", "3 articles", "1 min read", "7 min read"]),
])
def test_counts_take_the_plural_forms_of_the_language(language: str, expected: list[str]) -> None:
    env = make_environment(language=language)
    template = env.from_string(
        "{{ ngettext('%(num)d article', '%(num)d articles', n) }}|"
        "{{ ngettext('%(num)d min read', '%(num)d min read', n) }}")
    counts = [template.render(n=n).split("|") for n in (0, 1, 3)]
    minutes = [template.render(n=n).split("|")[1] for n in (1, 7)]
    assert [c[0] for c in counts] + minutes == expected


def test_translations_escape_what_they_format() -> None:
    env = make_environment(language="fr")
    html = env.from_string('{{ _("by %(author)s", author=name) }}').render(name="<b>A&B</b>")
    assert html == "par &lt;b&gt;A&amp;B&lt;/b&gt;"
    assert load_translations("fr").gettext("Other") == "Autres"
    assert load_translations("en").gettext("Other") == "Other"


ENGLISH_TAGS = {"community management": "community management", "humour": "humor",
                "métier": "careers"}


@pytest.fixture
def english_site(feed_server: FeedServer, make_config: Any) -> Path:
    feeds = [
        {"name": name, "url": feed_server.serve_file(file),
         "tags": [ENGLISH_TAGS[t] for t in tags]}
        for name, (file, tags) in SITE_SOURCES.items()
    ]
    return poll_and_render(make_config(feeds, language="en", title="Community watch"))


def interface_text(page: str) -> str:
    """The page's own words: its text and labels without the entries' data (titles, blogs,
    authors, excerpts, tags), which stay in the language they were written in."""
    document = lxml.html.fromstring(page)
    for node in document.xpath("//h3 | //h4 | //*[contains(@class, 'source')] | "
                               "//*[@class='name'] | //*[@class='excerpt'] | "
                               "//ul[@class='tags'] | //p[@class='also']/a | //title"):
        node.drop_tree()
    labels = " ".join(document.xpath("//@aria-label | //@title"))
    return document.text_content() + " " + labels


def french_interface_words() -> set[str]:
    """The French phrases of the catalog that English never uses, and French date words."""
    english = " ".join(" ".join(ids) for ids in template_messages().values())
    phrases: set[str] = set()
    for message in read_catalog("fr"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            for part in PLACEHOLDER.split(text or ""):
                part = part.strip(" \xa0.:,()·")
                if len(part) >= 3 and part not in english:
                    phrases.add(part)
    locale = Locale.parse("fr")
    phrases.update(locale.days["format"]["wide"].values())
    phrases.update(locale.months["format"]["wide"].values())
    phrases.update(locale.months["format"]["abbreviated"].values())
    return phrases


def contains_word(text: str, word: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.I) is not None


def test_english_pages_have_english_words_and_dates(english_site: Path) -> None:
    day = (english_site / "digest/2013-12-12.html").read_text("utf-8")
    assert '<html lang="en">' in day
    assert "<h1>Thursday, December 12, 2013</h1>" in day
    assert '<time datetime="2013-12-12T21:47:00+01:00">9:47\u202fPM</time>' in day
    assert '<p class="summary">1 article, 1 blog</p>' in day
    assert "2 min read" in day and 'aria-label="Other days"' in day
    assert 'rel="prev" href="../digest/2013-02-05.html"><span class="dir">← Previous day</span>' \
        ' Tuesday, February 5, 2013</a>' in day
    copy = (english_site / "digest/2012-07-13.html").read_text("utf-8")
    assert re.search(r"Also published on:\s*<a [^>]+>Vis ma vie de CM</a> "
                     r'<span class="when">\(Jul 13, 2012\)</span>', copy), copy
    assert '<h2 id="topic-1">Other <span class="count">1 article</span></h2>' in copy
    index = (english_site / "index.html").read_text("utf-8")
    assert "Updated on Saturday, November 21, 2026 at 10:00\u202fAM." in index
    assert "<h2>Previous days</h2>" in index and "June 2016" in index
    assert ">The whole archive</a>" in index and ">All months</a>" in index
    archive = (english_site / "archive.html").read_text("utf-8")
    assert "<title>Archive · " in archive and "December 2013" in archive
    assert '<p class="summary">8 days, 8 months</p>' in archive


def test_english_pages_have_no_french_interface_words(english_site: Path) -> None:
    words = french_interface_words()
    assert {"Aussi publié sur", "Autres", "min de lecture", "jeudi", "décembre"} <= words
    pages = [english_site / "index.html", english_site / "archive.html",
             *sorted((english_site / "digest").glob("*.html"))]
    assert len(pages) > 5
    for page in pages:
        text = interface_text(page.read_text("utf-8"))
        found = sorted(w for w in words if contains_word(text, w))
        assert not found, f"{page.name}: French interface words {found}"


def test_french_is_the_default(feed_server: FeedServer, make_config: Any) -> None:
    config = make_config([{"name": "Vis", "url": feed_server.serve_file("vis-ma-vie.atom")}])
    assert config.settings.language == "fr"
    day = (poll_and_render(config) / "digest/2013-12-12.html").read_text("utf-8")
    assert '<html lang="fr">' in day and "<h1>Jeudi 12 décembre 2013</h1>" in day
    assert "Aller au contenu" in day and "2 min de lecture" in day
    # The detector of the English test finds French words where there are some.
    text = interface_text(day)
    assert {w for w in french_interface_words() if contains_word(text, w)} >= {
        "Aller au contenu", "min de lecture", "jeudi", "décembre", "Archives", "par"}
