"""The pages in headless Chromium (Playwright) at a phone's 375 px and a desktop's 1280 px:
no layout shift while lead images load, no horizontal scroll, tap targets of 44 px, and no
axe-core violation in light and dark themes. The demo's week gives the index, a tag, a blog,
search and the pictures; the busy day of test_digest (50 articles, groups of up to 13)
the folded groups. With SCREENSHOTS set to a folder, screenshots are written there."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.config.load import load_config
from aggregator.demo import start_feed_server, write_demo_config, write_demo_feeds
from aggregator.publish.serve import make_server, server_url, start_server
from tests.conftest import CHROMIUM, FeedServer, poll_and_render
from tests.test_digest import BUSY_DAY, make_busy_site

pytest.importorskip("playwright.sync_api")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")

WIDTHS = (375, 1280)
IMAGE_DELAY = 0.3  # seconds each picture takes, so the page is laid out before it comes
# Layout shifts (not caused by the reader) summed, as Core Web Vitals' CLS counts them. A shift
# whose only sources lie inside an <audio controls> or <video controls> box is left out: those
# are the browser's own controls laying themselves out in their shadow tree (the node is then
# null), which the page cannot style; the media element moving would name itself. A shift's
# rectangles are from the frame it happened in, which may precede the last scroll: each scroll
# position seen is tried.
OBSERVE_SHIFTS = """
window.shifts = [];
window.moved = [];  // what moved, to say so when a shift is found
const scrolls = new Set([0]);
addEventListener("scroll", () => scrolls.add(scrollY));
const insideControls = rect => [...document.querySelectorAll("audio[controls], video[controls]")]
  .map(media => media.getBoundingClientRect()).some(box => [...scrolls].some(at => {
    const top = rect.top + at - scrollY;
    return rect.left >= box.left - 1 && rect.right <= box.right + 1
      && top >= box.top - 1 && top + rect.height <= box.bottom + 1;
  }));
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    const sources = entry.sources || [];
    if (sources.length && sources.every(source => !source.node
        && insideControls(source.previousRect) && insideControls(source.currentRect))) continue;
    window.shifts.push(entry.value);
    for (const source of sources) {
      const node = source.node;
      window.moved.push(node && node.outerHTML ? node.outerHTML.slice(0, 120) : String(node));
    }
  }
}).observe({type: "layout-shift", buffered: true});
"""
# Scrolls down the page a screen at a time, so every lazy picture loads, then waits for them.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise(done => setTimeout(done, 40));
  }
  const images = [...document.images];
  await Promise.all(images.map(image => image.complete ? null
    : new Promise(done => { image.onload = image.onerror = done; })));
  return {images: images.length, loaded: images.filter(i => i.naturalWidth > 0).length};
}"""
# The tap targets of the cards, the folded groups and the index's days, less than 44 px high.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "article.entry a, details.more > summary, section.recent a, section.blog > h3 a")]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().height < 43.5)
  .map(e => e.textContent.trim() + ": " + e.getBoundingClientRect().height)"""


@dataclass(frozen=True)
class DemoSite:
    url: str
    pages: dict[str, str]  # a name → its path under url
    root: Path


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo's week polled and rendered, the pages served on loopback."""
    folder = tmp_path_factory.mktemp("demo")
    feeds = start_feed_server(folder / "feeds")
    now = datetime.now(UTC)
    write_demo_feeds(folder / "feeds", server_url(feeds), now)
    config = load_config(write_demo_config(folder, server_url(feeds), "http://127.0.0.1/"))
    root = poll_and_render(config, now)
    pages = {"index": "index.html", "day": _busiest_day(root),
             "tag": "tags/community-management/index.html",
             "blog": "blogs/" + sorted(p.name for p in (root / "blogs").iterdir())[0]
             + "/index.html", "search": "search.html"}
    site = make_server(root, "127.0.0.1", 0)
    start_server(site)
    yield DemoSite(server_url(site), pages, root)
    for server in (site, feeds):
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy_site(feed_server: FeedServer, make_config: Any) -> Iterator[DemoSite]:
    """test_digest's busy day, rendered and served."""
    site = make_busy_site(feed_server, make_config)
    server = make_server(site.root, "127.0.0.1", 0)
    start_server(server)
    yield DemoSite(server_url(server), {"busy-day": f"digest/{BUSY_DAY.isoformat()}.html"},
                   site.root)
    server.shutdown()
    server.server_close()
    site.store.close()


def _busiest_day(root: Path) -> str:
    """The day page with the most articles."""
    days = sorted((root / "digest").glob("*.html"))
    busiest = max(days, key=lambda p: p.read_text("utf-8").count('<article class="entry"'))
    return busiest.relative_to(root).as_posix()


def open_page(browser: Any, url: str, width: int, scheme: str = "light") -> Any:
    """A page at `width` px in `scheme`, its pictures slowed down, shifts observed."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.emulate_media(color_scheme=scheme)
    page.add_init_script(OBSERVE_SHIFTS)

    def slow(route: Any) -> None:
        page.wait_for_timeout(IMAGE_DELAY * 1000)
        route.continue_()

    page.route(re.compile(r"\.(png|jpe?g|gif|svg|webp)(\?|$)"), slow)
    page.goto(url, wait_until="domcontentloaded")
    return page


def close(page: Any) -> None:
    """Close `page`, pictures still held back by open_page left to fail quietly."""
    page.unroute_all(behavior="ignoreErrors")
    page.close()


def check_layout(site: DemoSite, browser: Any, name: str, width: int) -> dict[str, int]:
    """Load page `name` at `width` px through its pictures; check it never shifts, fits the
    window, and (on a phone) has no small tap target; the pictures it has and loaded."""
    page = open_page(browser, site.url + site.pages[name], width)
    try:
        images: dict[str, int] = page.evaluate(SCROLL_THROUGH)
        page.wait_for_timeout(200)
        assert page.evaluate("window.shifts.reduce((a, b) => a + b, 0)") == 0, \
            page.evaluate("window.moved")
        sizes = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert sizes[0] <= sizes[1], f"{sizes[0]} px wide in a {sizes[1]} px window"
        if width == 375:
            assert page.evaluate(SMALL_TARGETS) == []
        if os.environ.get("SCREENSHOTS"):
            page.evaluate("scrollTo(0, 0)")
            folder = Path(os.environ["SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=folder / f"{name}-{width}.png", full_page=width == 375)
        return images
    finally:
        close(page)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["index", "day", "tag", "blog", "search"])
def test_pages_do_not_shift_nor_scroll_sideways(
        demo_site: DemoSite, browser: Any, name: str, width: int) -> None:
    images = check_layout(demo_site, browser, name, width)
    assert images["loaded"] == images["images"]
    if name in ("index", "day", "tag"):
        assert images["images"] >= 3  # the demo's pictures are there, and were awaited


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_busy_day_does_not_shift_nor_scroll_sideways(
        busy_site: DemoSite, browser: Any, width: int) -> None:
    check_layout(busy_site, browser, "busy-day", width)


@pytest.mark.parametrize(("attributes", "shifts"), [
    ('class="lead"', False), ("", True),
    # As a card writes a feed's sizes, even wrong ones (the picture is 320 × 180).
    ('class="lead" width="1200" height="630" style="aspect-ratio:1200/630"', False)])
def test_the_measure_sees_a_picture_without_a_reserved_box(
        demo_site: DemoSite, browser: Any, attributes: str, shifts: bool) -> None:
    # A card's picture with the site's style keeps its box; a bare one moves the text below.
    picture = re.search(r'<img class="lead" src="([^"]+)"', (demo_site.root / "index.html")
                        .read_text("utf-8"))
    assert picture
    (demo_site.root / "shift.html").write_text(
        '<!DOCTYPE html><html lang="fr"><head><link rel="stylesheet" href="style.css">'
        '<title>Essai</title></head><body><main><article class="entry"><h4>Titre</h4>'
        f'<img {attributes} src="{picture.group(1)}?{len(attributes)}" alt="">'
        '<p class="excerpt">Texte</p></article></main></body></html>', "utf-8")
    page = open_page(browser, demo_site.url + "shift.html", 375)
    try:
        assert page.evaluate(SCROLL_THROUGH)["loaded"] == 1
        page.wait_for_timeout(200)
        assert (page.evaluate("window.shifts.reduce((a, b) => a + b, 0)") > 0) == shifts
    finally:
        close(page)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_big_day_folds_its_groups_and_opens_them_without_javascript(
        busy_site: DemoSite, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375,
                                                                        "height": 800})
    page = context.new_page()
    try:
        page.goto(busy_site.url + busy_site.pages["busy-day"])
        assert page.locator("section.topic > details.more").count() == 1
        summary = page.locator("details.more > summary").first
        hidden = page.locator("details.more article.entry").first
        assert summary.inner_text().strip() == "7 autres articles"  # 13 in the first group
        assert not hidden.is_visible()
        summary.click()
        assert hidden.is_visible()
    finally:
        context.close()


def axe_violations(site: DemoSite, browser: Any, width: int, scheme: str) -> dict[str, str]:
    """axe-core's report on each of the site's pages that has violations."""
    axe = axe_api.Axe()
    found = {}
    for name, path in site.pages.items():
        page = open_page(browser, site.url + path, width, scheme)
        try:
            page.wait_for_load_state("load")
            results = axe.run(page)
            if results.violations_count:
                found[name] = results.generate_report()
        finally:
            close(page)
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_pages_pass_axe(demo_site: DemoSite, browser: Any, width: int, scheme: str) -> None:
    assert axe_violations(demo_site, browser, width, scheme) == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_day_passes_axe(busy_site: DemoSite, browser: Any) -> None:
    for width in WIDTHS:
        for scheme in ("light", "dark"):
            assert axe_violations(busy_site, browser, width, scheme) == {}, (width, scheme)
