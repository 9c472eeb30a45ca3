"""The search index (Pagefind) built by a render, and the search page in headless Chromium:
French stemming, accents optional, results that lead to the article's card."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aggregator.publish import search
from aggregator.publish.search_bundles import Bundle
from tests.conftest import FeedServer, poll_and_render

# The render tests read one database: the store is not what they test.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
# Five days of a French blog: the words searched for appear in one article each, in
# another form than the one typed ("communauté" for "communautés", "modération" for
# "moderation"); the third article has neither, and text that looks like markup; the
# last two have "engagement" only after an elided article, with either apostrophe.
ITEMS = [
    ("Animer une communauté en ligne", "2026-11-20T08:00:00Z",
     "Une communauté vivante se construit jour après jour, message après message."),
    ("La charte des commentaires", "2026-11-19T08:00:00Z",
     "Publier une charte claire rend la modération des commentaires plus sereine."),
    ("Mesurer la portée d’un billet", "2026-11-18T08:00:00Z",
     "Les statistiques de lecture (balise &amp;lt;img src=x onerror=alert(1)&amp;gt;) "
     "disent peu de choses sur la fidélité réelle."),
    ("Fidéliser ses lecteurs", "2026-11-17T08:00:00Z",
     "Mieux vaut suivre l’engagement que les vues."),
    ("Le taux qui compte", "2026-11-16T08:00:00Z",
     "Un taux d'engagement élevé dit une audience fidèle."),
]


def french_feed() -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>https://blog.example/{n}</link>"
        f"<guid>https://blog.example/{n}</guid>"
        f"<pubDate>{datetime.fromisoformat(when).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate><description>{text}</description></item>"
        for n, (title, when, text) in enumerate(ITEMS))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Carnet de CM</title><link>https://blog.example/</link>"
            f"<language>fr</language>{items}</channel></rss>").encode()


@pytest.fixture
def output(feed_server: FeedServer, make_config: Any) -> Iterator[Path]:
    """The output folder of a render of the French feed."""
    url = feed_server.set("/carnet.rss", french_feed(), content_type="application/rss+xml")
    config = make_config([{"name": "Carnet de CM", "url": url, "tags": ["veille"]}])
    yield poll_and_render(config, NOW)


def _bundle(output: Path) -> Path:
    """The one bundle of the fixture's days (November 16 to 20)."""
    names = json.loads((output / "pagefind" / "bundles.json").read_text("utf-8"))["bundles"]
    assert names == ["2026-11-16"]  # the fixture's five days: November's second half
    return output / "pagefind" / names[0]


@ON_SQLITE
def test_a_render_builds_the_index_of_the_day_pages(output: Path) -> None:
    bundle = _bundle(output)
    entry = json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
    assert list(entry["languages"]) == ["fr"]  # <html lang="fr">: French stemming
    assert entry["languages"]["fr"]["page_count"] == 5  # the day pages, not the index
    for name in ("pagefind.js", "pagefind-worker.js", "wasm.fr.pagefind"):
        assert (bundle / name).is_file(), name
    assert not list(bundle.glob("pagefind-*ui*"))  # Pagefind's own interfaces: unused
    assert sorted(p.name for p in (output / "pagefind").iterdir()) == [
        "2026-11-16", "bundles.json", "prefixes"]  # the new bundle took the old one's place
    # The word filter: "commun" begins words of the bundle ("communauté"), "xy" none.
    prefixes = output / "pagefind" / "prefixes"
    rests = json.loads((prefixes / "63-6f.json").read_text("utf-8"))["2026-11-16"]
    assert "mmun" in rests.split()
    assert not (prefixes / "78-79.json").exists()
    assert (output / "search.html").is_file()


@ON_SQLITE
def test_the_index_is_built_again_only_when_a_day_page_changed(output: Path) -> None:
    entry = _bundle(output) / "pagefind-entry.json"
    built = entry.stat().st_mtime
    assert search.update_index(output) == ()  # nothing changed since the render
    page = next((output / "digest").glob("*.html"))
    os.utime(page, (built + 5, built + 5))
    assert search.update_index(output) == ("2026-11-16",)
    assert entry.stat().st_mtime > built


@pytest.mark.parametrize(("pages", "index", "indexed", "wanted"), [
    ([1.0, 2.0], None, None, True),  # no bundle yet
    ([1.0, 2.0], 3.0, 2, False),  # every page older than the bundle
    ([1.0, 4.0], 3.0, 2, True),  # a page changed after it
    ([1.0], 3.0, 2, True),  # a page was removed
    ([1.0, 2.0, 2.5], 3.0, 2, True),  # a page was added (an old day's page 2)
    ([1.0, 2.0], 3.0, None, True),  # its entry file says no count
])
def test_needs_index(pages: list[float], index: float | None, indexed: int | None,
                     wanted: bool) -> None:
    assert search.needs_index(pages, index, indexed) is wanted


@ON_SQLITE
def test_a_failing_indexer_says_why_and_leaves_the_last_index(output: Path) -> None:
    before = sorted(p.name for p in _bundle(output).iterdir())
    nothing = Bundle(date(2026, 11, 16), "2026-11-16", "digest/1999-*.html")
    with pytest.raises(search.SearchIndexError) as failed:
        search.build_bundle(output, nothing, [])  # no page
    assert str(failed.value) == "Pagefind failed (exit 1): Pagefind was not able to build an index."
    assert sorted(p.name for p in _bundle(output).iterdir()) == before
    assert sorted(p.name for p in (output / "pagefind").iterdir()) == [
        "2026-11-16", "bundles.json", "prefixes"]


@ON_SQLITE
def test_an_indexer_past_its_deadline_is_one_clear_line(
        output: Path, caplog: pytest.LogCaptureFixture) -> None:
    page = next((output / "digest").glob("*.html"))
    os.utime(page, (page.stat().st_mtime + 60,) * 2)
    assert search.update_index(output, deadline=0.001) == ()
    [record] = [r for r in caplog.records if r.name == search.__name__]
    assert record.getMessage() == ("search index not built: "
                                   "Pagefind took longer than 0.001 s")
    assert (_bundle(output) / "pagefind-entry.json").is_file()
    assert not list((output / "pagefind").glob(".*"))


@contextlib.contextmanager
def _serving(folder: Path) -> Iterator[str]:
    """`folder` over http on 127.0.0.1 (Pagefind does not run from file://)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def served(output: Path) -> Iterator[str]:
    """The rendered site of the French feed, over http."""
    with _serving(output) as address:
        yield address


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def browser_page(browser: Any, served: str) -> Any:
    """A tab on the rendered site's index."""
    page = browser.new_page()
    page.goto(served + "index.html")
    return page


def _search_from_the_index(page: Any, words: str) -> list[str]:
    """Type `words` in the index's search field; the titles of the results shown."""
    page.fill("#search-field", words)
    page.press("#search-field", "Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_selector(".search-result h2 a")
    # The results of each bundle show as it is searched: wait for the last one.
    page.wait_for_function("document.getElementById('search-status').textContent === ''")
    return [title.strip() for title in page.locator(".search-result h2 a").all_inner_texts()]


@ON_SQLITE
def test_a_plural_finds_the_singular(browser_page: Any) -> None:
    assert _search_from_the_index(browser_page, "communautés") == [ITEMS[0][0]]
    meta = browser_page.locator(".search-result .meta").first.inner_text()
    assert meta == "Carnet de CM · Vendredi 20 novembre 2026"
    assert browser_page.locator(".search-result mark").first.inner_text() == "communauté"


@ON_SQLITE
def test_accents_are_optional_and_the_result_leads_to_the_card(browser_page: Any) -> None:
    assert _search_from_the_index(browser_page, "moderation") == [ITEMS[1][0]]
    browser_page.click(".search-result h2 a")
    browser_page.wait_for_url("**/digest/2026-11-19.html#article-*")
    target = browser_page.locator(":target")
    assert target.inner_text().strip() == ITEMS[1][0]
    assert target.evaluate("e => e.closest('article.entry') !== null")


@ON_SQLITE
def test_typing_on_the_search_page_searches_as_one_types(browser_page: Any,
                                                        served: str) -> None:
    browser_page.goto(served + "search.html")
    browser_page.fill("#search-query", "statistiques")
    browser_page.wait_for_selector(".search-result h2 a")
    assert browser_page.locator(".search-result h2 a").all_inner_texts() == [ITEMS[2][0]]
    # The card's text, markup included, is shown as text: Pagefind's excerpts are escaped.
    excerpt = browser_page.locator(".search-result .excerpt").inner_text()
    assert "(balise <img src=x onerror=alert(1)>)" in excerpt
    assert browser_page.locator(".search-result img").count() == 0
    browser_page.fill("#search-query", "xylophone")
    browser_page.wait_for_function("!document.querySelector('.search-result')")
    status = browser_page.locator("#search-status")
    status.filter(has_text="Aucun article ne contient ces mots.").wait_for()


@ON_SQLITE
def test_a_word_after_an_elision_is_found(browser_page: Any, output: Path) -> None:
    # "l’engagement" (U+2019) and "d'engagement" (ASCII): Pagefind reads the first as
    # one word unless fed the ASCII apostrophe; the page itself keeps its typography.
    assert _search_from_the_index(browser_page, "engagement") == [ITEMS[3][0], ITEMS[4][0]]
    # The results show the typographic apostrophe again, around the highlighted word too.
    first, second = browser_page.locator(".search-result .excerpt").all_inner_texts()
    assert "Mieux vaut suivre l’engagement que les vues." in first
    assert "Un taux d’engagement élevé dit une audience fidèle." in second
    browser_page.fill("#search-query", "l’engagement")  # typed as the page writes it
    browser_page.locator(".search-result h2 a").filter(has_text=ITEMS[3][0]).wait_for()
    assert "suivre l’engagement" in (output / "digest" / "2026-11-17.html").read_text("utf-8")


@ON_SQLITE
def test_only_the_cards_are_indexed(browser_page: Any) -> None:
    found = browser_page.evaluate("""async (words) => {
        const pagefind = await import("./pagefind/2026-11-16/pagefind.js");
        const found = {};
        for (const word of words) found[word] = (await pagefind.search(word)).results.length;
        return found;
    }""", ["précédent", "Autres", "minute", "Carnet", "veille", "vivante"])
    # Links to other days, reading times: not indexed; blog names, tags, excerpts: indexed.
    assert found == {"précédent": 0, "Autres": 0, "minute": 0, "Carnet": 5, "veille": 5,
                     "vivante": 1}


@ON_SQLITE
def test_without_javascript_the_field_says_search_needs_it(browser: Any, served: str) -> None:
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(served + "index.html")
    assert page.locator("form.search .no-script").inner_text() == (
        "La recherche a besoin de JavaScript.")
    assert page.locator("article.entry h4").first.inner_text() == ITEMS[0][0]
    page.click("form.search button")  # the form still leads to the search page
    page.wait_for_url("**/search.html?q=")
    assert page.locator(".no-script").inner_text().startswith(
        "La recherche a besoin de JavaScript\u00a0: les pages s’en passent")


# Articles over two years and four bundles (November's halves, October, 2025), each
# about the community in some form; in one bundle, the older day is the longer text.
SPREAD = [
    ("Les communautés de novembre", "2026-11-20T08:00:00Z", "Des communautés en fête."),
    ("Modération du 12 novembre", "2026-11-12T08:00:00Z",
     "Une communauté, sa modération, sa communauté encore."),
    ("Bilan du 10 novembre", "2026-11-10T08:00:00Z",
     "La communauté, la communauté, toujours la communauté, et sa modération."),
    ("Rentrée d’octobre", "2026-10-15T08:00:00Z",
     "Une communauté qui revient au comptoir."),
    ("Noël de la communauté", "2025-12-24T08:00:00Z",
     "La communauté des réseaux sociaux se retrouve."),
    ("Printemps 2025", "2025-03-02T08:00:00Z", "Modérer une communauté au printemps."),
]


def _blog_site(feed_server: FeedServer, make_config: Any, name: str,
               posts: Sequence[tuple[str, str, str]], creator: str = "") -> Path:
    """The rendered site of one French RSS blog `name` whose posts are (title, ISO time,
    text), each by `creator` if given."""
    host = name.lower().replace(" ", "-") + ".example"
    by = f"<dc:creator>{creator}</dc:creator>" if creator else ""
    items = "".join(
        f"<item><title>{title}</title><link>https://{host}/{n}</link>"
        f"<guid>https://{host}/{n}</guid>{by}<pubDate>"
        f"{datetime.fromisoformat(when).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate><description>{text}</description></item>"
        for n, (title, when, text) in enumerate(posts))
    url = feed_server.set(f"/{host}.rss", (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{name}</title><link>https://{host}/</link>"
        f"<language>fr</language>{items}</channel></rss>").encode(),
        content_type="application/rss+xml")
    return poll_and_render(make_config([{"name": name, "url": url}]), NOW)


@pytest.fixture
def spread(feed_server: FeedServer, make_config: Any) -> Iterator[str]:
    """The site of a feed whose articles spread over four bundles, over http."""
    output = _blog_site(feed_server, make_config, "Au fil des mois", SPREAD)
    names = json.loads((output / "pagefind" / "bundles.json").read_text("utf-8"))
    assert names["bundles"] == ["2026-11-16", "2026-11-01", "2026-10", "2025"]
    assert names["filtered"] == names["bundles"]  # each has its word prefixes
    with _serving(output) as address:
        yield address


@ON_SQLITE
def test_results_are_newest_first_across_bundles(browser: Any, spread: str) -> None:
    page = browser.new_page()
    page.goto(spread + "index.html")
    titles = [title for title, _when, _text in SPREAD]
    # Three bundles at a time: the oldest is searched when the reader asks for more.
    assert _search_from_the_index(page, "communauté") == titles[:4]
    page.click("#search-more")
    page.wait_for_function("document.querySelectorAll('.search-result').length === 6")
    assert page.locator(".search-result h2 a").all_inner_texts() == titles
    page.locator("#search-more").wait_for(state="hidden")  # nothing older
    assert page.locator(".search-result .meta").all_inner_texts()[-1] == (
        "Au fil des mois · Dimanche 2 mars 2025")
    page.fill("#search-query", "moderation")  # the accent left out, another form
    page.wait_for_function("document.querySelectorAll('.search-result').length === 3")
    assert page.locator(".search-result h2 a").all_inner_texts() == [
        titles[1], titles[2], titles[5]]
    page.click(".search-result:last-child h2 a")  # into the oldest bundle's day
    page.wait_for_url("**/digest/2025-03-02.html#article-*")
    assert page.locator(":target").inner_text().strip() == titles[5]


@ON_SQLITE
def test_a_search_opens_only_the_bundles_that_can_match(browser: Any, spread: str) -> None:
    page = browser.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url.removeprefix(spread)))
    page.goto(spread + "search.html?q=xylophone")  # on no page: no bundle is opened
    page.locator("#search-status").filter(has_text="Aucun article").wait_for()
    assert [url for url in fetched if url.startswith("pagefind/")] == [
        "pagefind/bundles.json", "pagefind/prefixes/78-79.json"]
    fetched.clear()
    page.fill("#search-query", "printemps")  # in the oldest bundle only
    page.wait_for_selector(".search-result h2 a")
    assert page.locator(".search-result h2 a").all_inner_texts() == ["Printemps 2025"]
    opened = {url.split("/")[1] for url in fetched if url.startswith("pagefind/20")}
    assert opened == {"2025"}
    page.fill("#search-query", "communautés printemps")  # every word must be there
    page.wait_for_function("document.getElementById('search-status').textContent === ''")
    assert page.locator(".search-result h2 a").all_inner_texts() == ["Printemps 2025"]
    opened = {url.split("/")[1] for url in fetched if url.startswith("pagefind/20")}
    assert opened == {"2025"}


def _opened(fetched: list[str]) -> set[str]:
    """The bundles whose files were fetched, of the URLs `fetched`."""
    return {url.split("/")[1] for url in fetched if url.startswith("pagefind/20")}


@ON_SQLITE
def test_a_rare_word_that_begins_like_common_ones_opens_its_bundle_only(
        browser: Any, spread: str) -> None:
    page = browser.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url.removeprefix(spread)))
    # "comptoir" begins as "communauté" does, on every page, but is in October only;
    # "sociaux" (2025 only) is stemmed "social": its filter holds both forms.
    for words, title, bundle in (("comptoirs", "Rentrée d’octobre", "2026-10"),
                                 ("Comptoir", "Rentrée d’octobre", "2026-10"),
                                 ("social", "Noël de la communauté", "2025"),
                                 ("reseau sociaux", "Noël de la communauté", "2025")):
        fetched.clear()
        page.goto(spread + "search.html?q=" + words)
        page.wait_for_selector(".search-result h2 a")
        assert page.locator(".search-result h2 a").all_inner_texts() == [title], words
        assert _opened(fetched) == {bundle}, words
    fetched.clear()
    page.goto(spread + "search.html?q=compote")  # begins as they do, on no page
    page.locator("#search-status").filter(has_text="Aucun article").wait_for()
    assert _opened(fetched) == set()


@pytest.fixture
def minute(feed_server: FeedServer, make_config: Any) -> Iterator[str]:
    """The site of a blog whose posts carry its name as title and as author, over http."""
    output = _blog_site(feed_server, make_config, "La Minute CM", (
        ("La Minute CM", "2026-11-20T08:00:00Z", "Une minute sur la modération."),
        ("Modérer vite", "2026-11-19T08:00:00Z", "Une autre minute de modération."),
        ("Avis clients négatifs sur les plateformes en ligne et ailleurs : ce qu’on peut "
         "faire, et ce qu’on ne peut pas faire du tout",
         "2026-11-18T08:00:00Z", "Des rituels chaque vendredi pour les avis clients négatifs "
         "ou non, qui obéissent à d’autres règles que celles des commentaires."),
        # A title that ends with the word found: Pagefind marks it with its full stop.
        ("Nos rituels", "2026-11-17T08:00:00Z", "Des rituels chaque mois.")),
        creator="La Minute CM")
    with _serving(output) as address:
        yield address


@ON_SQLITE
def test_a_result_names_its_blog_once(browser: Any, minute: str) -> None:
    page = browser.new_page()
    page.goto(minute + "search.html?q=minute moderation")
    page.wait_for_function("document.querySelectorAll('.search-result').length === 2")
    # Title, then the blog (unless the title names it), then the article's own text.
    assert [card.split("\n") for card in page.locator(".search-result").all_inner_texts()] == [
        ["La Minute CM", "", "Vendredi 20 novembre 2026", "", "Une minute sur la modération."],
        ["Modérer vite", "", "La Minute CM · Jeudi 19 novembre 2026", "",
         "Une autre minute de modération."]]
    # The words found stay marked, in the title's part of the excerpt too.
    assert page.locator(".search-result .excerpt mark").all_inner_texts() == [
        "minute", "modération.", "minute", "modération."]
    page.fill("#search-query", "minute")  # found in the title and blog too: cut all the same
    page.wait_for_function("document.getElementById('search-status').textContent === ''"
                           " && document.querySelectorAll('.search-result').length === 4")
    assert page.locator(".search-result .excerpt").all_inner_texts() == [
        "Une minute sur la modération.", "Une autre minute de modération.",
        "Des rituels chaque vendredi pour les avis clients négatifs ou",  # the title's end cut
        "Des rituels chaque mois."]
    # "rituels", far from the long title's start: Pagefind's excerpt begins inside it.
    page.fill("#search-query", "rituels")
    page.wait_for_function("document.getElementById('search-status').textContent === ''"
                           " && document.querySelectorAll('.search-result').length === 2")
    assert page.locator(".search-result .excerpt").all_inner_texts() == [
        "Des rituels chaque vendredi pour les avis clients négatifs ou non, qui obéissent",
        "Des rituels chaque mois."]
    page.fill("#search-query", "minute moderation")
    page.wait_for_function("document.querySelectorAll('.search-result').length === 2")
    page.click(".search-result h2 a")  # and the card itself says it once: no "par"
    page.wait_for_url("**/digest/2026-11-20.html#article-*")
    meta = page.locator(":target ~ .meta").inner_text().split()
    assert meta[:3] == ["La", "Minute", "CM"] and "par" not in meta
