"""The digest pages in a real browser (headless Chromium): they fit every screen from 360 to
1440 px in light and dark themes, show their entries, and pass axe-core's accessibility rules."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aggregator.config.load import Settings
from aggregator.publish.digest import DayTotals, build_day_page, build_month
from aggregator.publish.environment import make_environment
from aggregator.publish.render import _common_context, render_day_page, render_site
from aggregator.publish.serve import make_server, server_url, start_server
from aggregator.publish.typography import french_spacing
from aggregator.store import Store
from tests.conftest import SITE_NOW, Site
from tests.test_digest import BUSY_DAY, make_busy_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# axe-core from the npm registry, pinned: the version and the tarball's integrity hash.
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = ("sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFN"
                 "NtuFooJpZe37OgudVGtQ==")

THEMES = {
    "light": ["--blink-settings=preferredColorScheme=1"],
    "dark": ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"],
}

# Loads the page in a frame of the given width (media queries follow the frame), then
# writes what the page measured, or what axe-core found in it, into #result.
HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="{page}" style="width:{width}px;height:900px;border:0"></iframe>
<pre id="result">pending</pre>
<script>
var frame = document.getElementById("page");
function report(value) {{
  document.getElementById("result").textContent = JSON.stringify(value);
}}
function measure(doc, win) {{
  var root = doc.documentElement;
  var entries = Array.from(doc.querySelectorAll("article.entry"));
  var visible = entries.filter(function (e) {{
    var box = e.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= root.clientWidth;
  }});
  var pageLinks = Array.from(doc.querySelectorAll(".pages a")).filter(function (a) {{
    var box = a.getBoundingClientRect();
    return box.width > 0 && box.left >= 0 && box.right <= root.clientWidth;
  }});
  var excerpt = doc.querySelector(".excerpt");
  var link = doc.querySelector("article.entry h4 a");
  win.focus();
  link.focus();
  var ring = win.getComputedStyle(link);
  report({{
    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
    bodyScrollWidth: doc.body.scrollWidth,
    entries: entries.length, visible: visible.length,
    titles: visible.map(function (e) {{ return e.querySelector("h4").textContent.trim(); }}),
    pageLinks: pageLinks.map(function (a) {{ return a.textContent.trim(); }}),
    dark: win.matchMedia("(prefers-color-scheme: dark)").matches,
    background: win.getComputedStyle(doc.body).backgroundColor,
    excerptPx: excerpt ? parseFloat(win.getComputedStyle(excerpt).fontSize) : null,
    focus: [link.matches(":focus-visible"), ring.outlineStyle, parseFloat(ring.outlineWidth)]
  }});
}}
function audit(doc, win) {{
  var script = doc.createElement("script");
  script.src = "{axe}";
  script.onload = function () {{
    win.axe.run(doc, {{resultTypes: ["violations"]}}).then(function (results) {{
      report({{
        rules: results.passes.length + results.violations.length + results.inapplicable.length,
        violations: results.violations.map(function (v) {{
          return {{id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map(function (n) {{ return n.target.join(" "); }})}};
        }})
      }});
    }}, function (error) {{ report({{error: String(error)}}); }});
  }};
  script.onerror = function () {{ report({{error: "axe.min.js did not load"}}); }};
  doc.head.appendChild(script);
}}
frame.addEventListener("load", function () {{
  {action}(frame.contentDocument, frame.contentWindow);
}});
</script></body></html>"""


def chromium(profile: Path, *args: str) -> str:
    assert CHROMIUM
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="session")
def axe_script(request: pytest.FixtureRequest) -> Path:
    """axe.min.js, installed once from the npm registry into pytest's cache folder."""
    folder = Path(request.config.cache.mkdir(f"axe-core-{AXE_VERSION}"))
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install axe-core for the accessibility tests")
        result = subprocess.run(
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
             "--ignore-scripts", f"axe-core@{AXE_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0 or not script.is_file():
            pytest.skip(f"npm could not install axe-core@{AXE_VERSION}: {result.stderr[-500:]}")
    lock = json.loads((folder / "package-lock.json").read_text("utf-8"))
    installed = lock["packages"]["node_modules/axe-core"]
    assert (installed["version"], installed["integrity"]) == (AXE_VERSION, AXE_INTEGRITY)
    return script


@dataclass
class Served:
    """An output folder served on 127.0.0.1, and the page under test in it."""

    root: Path
    base: str
    page: str
    titles: list[str]

    def harness(self, name: str, width: int, action: str) -> str:
        """Write a harness page around the page under test; returns its URL."""
        file = self.root / f"harness-{name}.html"
        file.write_text(HARNESS.format(page=self.page, width=width, action=action,
                                       axe="/axe.min.js"), encoding="utf-8")
        return self.base + file.name


@pytest.fixture
def serve() -> Iterator[Any]:
    servers = []

    def start(root: Path, page: str, titles: list[str]) -> Served:
        server = make_server(root, "127.0.0.1", 0)
        start_server(server)
        servers.append(server)
        return Served(root, server_url(server), page, titles)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def render_sample_day(site: Site, totals: DayTotals | None = None) -> tuple[str, list[str]]:
    """Every real fixture entry filed on one day page, to see many at once; with
    `totals`, as one page of a crowded day."""
    entries = site.store.latest_entries(50)
    day = date(2013, 12, 12)
    settings = site.config.settings
    page = build_day_page(day, entries, settings, previous=date(2013, 2, 5),
                          following=date(2016, 6, 9), totals=totals)
    month = build_month(day.replace(day=1), [day, date(2013, 12, 2)], settings.language)
    path = f"digest/sample-{totals.number}.html" if totals else "digest/sample.html"
    (site.root / path).write_text(
        render_day_page(make_environment(language=settings.language), page,
                        _common_context(settings), month),
        encoding="utf-8")
    return path, [e.title for g in page.groups for b in g.blogs for e in b.entries]


@pytest.fixture
def sample_day(site: Site, serve: Any) -> Served:
    path, titles = render_sample_day(site)
    return serve(site.root, path, titles)  # type: ignore[no-any-return]


@pytest.fixture
def paged_day(site: Site, serve: Any) -> Served:
    """Page 12 of a day of 2,950 articles in 30 pages."""
    path, titles = render_sample_day(site, DayTotals(2950, 40, 12, 30))
    return serve(site.root, path, titles)  # type: ignore[no-any-return]


@pytest.fixture
def busy_day(feed_server: Any, make_config: Any, serve: Any) -> Iterator[Served]:
    site = make_busy_site(feed_server, make_config)
    yield serve(site.root, f"digest/{BUSY_DAY.isoformat()}.html", [])
    site.store.close()


def run_harness(served: Served, tmp_path: Path, width: int, theme: str, action: str) -> Any:
    url = served.harness(f"{action}-{width}-{theme}", width, action)
    dom = chromium(tmp_path / "profile", *THEMES[theme], "--virtual-time-budget=30000",
                   "--dump-dom", url)
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert found and found.group(1) != "pending", dom[-1000:]
    return json.loads(html.unescape(found.group(1)))


def screenshot(served: Served, tmp_path: Path, width: int, theme: str, name: str) -> Path:
    shot = tmp_path / f"{name}-{width}-{theme}.png"
    chromium(tmp_path / "profile", *THEMES[theme], "--hide-scrollbars",
             f"--window-size={width},1600", f"--screenshot={shot}", served.base + served.page)
    assert shot.stat().st_size > 10_000
    return shot


def assert_fits(measured: dict[str, Any], width: int, theme: str) -> None:
    # The frame's vertical scroll bar may take a few pixels of its width.
    assert width - 20 <= measured["clientWidth"] <= width
    assert measured["scrollWidth"] <= measured["clientWidth"], "the page scrolls sideways"
    assert measured["bodyScrollWidth"] <= measured["clientWidth"], "the page scrolls sideways"
    assert measured["dark"] is (theme == "dark")
    red, green, blue = map(int, re.findall(r"\d+", measured["background"])[:3])
    assert (red + green + blue < 150) is (theme == "dark"), measured["background"]
    assert measured["excerptPx"] >= 16, "body text under 16 px is hard to read"
    assert measured["focus"] == [True, "solid", 3], "a focused link shows no focus ring"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 375, 1280, 1440])
def test_real_entries_fit_the_screen_and_are_visible(
    sample_day: Served, width: int, theme: str, tmp_path: Path
) -> None:
    measured = run_harness(sample_day, tmp_path, width, theme, "measure")
    assert_fits(measured, width, theme)
    assert measured["entries"] == measured["visible"] == len(sample_day.titles) == 9
    # As the page writes them: French typography on the feeds' titles.
    assert measured["titles"] == [french_spacing(title) for title in sample_day.titles]
    screenshot(sample_day, tmp_path, width, theme, "sample-day")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 1440])
def test_a_busy_day_fits_the_screen(
    busy_day: Served, width: int, theme: str, tmp_path: Path
) -> None:
    measured = run_harness(busy_day, tmp_path, width, theme, "measure")
    assert_fits(measured, width, theme)
    assert measured["entries"] == measured["visible"] == 50
    screenshot(busy_day, tmp_path, width, theme, "busy-day")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 1440])
def test_the_pages_of_a_crowded_day_fit_the_screen(
    paged_day: Served, width: int, theme: str, tmp_path: Path
) -> None:
    measured = run_harness(paged_day, tmp_path, width, theme, "measure")
    assert_fits(measured, width, theme)
    assert measured["entries"] == measured["visible"] == 9
    # Above and below the entries: previous, 1, 10 to 14, 30, next.
    links = ["← Page précédente", "1", "10", "11", "12", "13", "14", "30", "Page suivante →"]
    assert measured["pageLinks"] == links * 2
    screenshot(paged_day, tmp_path, width, theme, "paged-day")


def audit(served: Served, axe_script: Path, tmp_path: Path, width: int, theme: str) -> None:
    shutil.copyfile(axe_script, served.root / "axe.min.js")
    result = run_harness(served, tmp_path, width, theme, "audit")
    assert "error" not in result, result
    assert result["rules"] > 50, "axe-core ran too few rules"
    violations = result["violations"]
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, json.dumps(blocking, indent=1, ensure_ascii=False)
    for violation in violations:
        warnings.warn(f"axe {width}px {theme}: {violation}", stacklevel=2)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_day_page_passes_axe(
    sample_day: Served, axe_script: Path, width: int, theme: str, tmp_path: Path
) -> None:
    audit(sample_day, axe_script, tmp_path, width, theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_index_passes_axe(
    site: Site, serve: Any, axe_script: Path, width: int, theme: str, tmp_path: Path
) -> None:
    audit(serve(site.root, "index.html", []), axe_script, tmp_path, width, theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_archive_passes_axe(
    site: Site, serve: Any, axe_script: Path, width: int, theme: str, tmp_path: Path
) -> None:
    audit(serve(site.root, "archive.html", []), axe_script, tmp_path, width, theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_paged_day_passes_axe(
    paged_day: Served, axe_script: Path, theme: str, tmp_path: Path
) -> None:
    audit(paged_day, axe_script, tmp_path, 375, theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_busy_day_passes_axe(
    busy_day: Served, axe_script: Path, theme: str, tmp_path: Path
) -> None:
    audit(busy_day, axe_script, tmp_path, 375, theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_empty_index_passes_axe(
    database_url: str, serve: Any, axe_script: Path, theme: str, tmp_path: Path
) -> None:
    settings = Settings(database=database_url, output_dir=tmp_path / "public")
    store = Store.open(database_url)
    try:
        render_site(store, settings, (), SITE_NOW)
    finally:
        store.close()
    audit(serve(settings.output_dir, "index.html", []), axe_script, tmp_path, 375, theme)
