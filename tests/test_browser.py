"""The digest page in a real browser (headless Chromium): fits the screen, shows its entries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.serve import make_server, server_url, start_server
from tests.conftest import Site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

# Loads the page in a frame of the given width, then writes what the page measured.
HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="{page}" style="width:{width}px;height:900px;border:0"></iframe>
<pre id="result">pending</pre>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var doc = this.contentDocument, root = doc.documentElement;
  var entries = Array.from(doc.querySelectorAll("article.entry"));
  var visible = entries.filter(function (e) {{
    var box = e.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= root.clientWidth;
  }});
  document.getElementById("result").textContent = JSON.stringify({{
    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
    entries: entries.length, visible: visible.length,
    titles: visible.map(function (e) {{ return e.querySelector("h3").textContent.trim(); }})
  }});
}});
</script></body></html>"""


def chromium(profile: Path, *args: str) -> str:
    assert CHROMIUM
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def served(site: Site) -> Iterator[tuple[Site, str]]:
    server = make_server(site.root, "127.0.0.1", 0)
    start_server(server)
    yield site, server_url(server)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_day_page_fits_and_shows_its_entries(
    served: tuple[Site, str], width: int, tmp_path: Path
) -> None:
    site, base = served
    page = "digest/2013-01-22.html"
    harness = site.root / f"harness-{width}.html"
    harness.write_text(HARNESS.format(page=page, width=width), encoding="utf-8")
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom",
                   base + harness.name)
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert found and found.group(1) != "pending", dom[-1000:]
    measured = json.loads(found.group(1))
    # The frame's vertical scroll bar may take a few pixels of its width.
    assert width - 20 <= measured["clientWidth"] <= width
    assert measured["scrollWidth"] <= measured["clientWidth"], "the page scrolls sideways"
    assert measured["entries"] == measured["visible"] == 1
    assert measured["titles"] == ["Aux personnes qui ne comprennent pas mon métier"]

    shot = tmp_path / f"day-{width}.png"
    chromium(tmp_path / "profile", f"--window-size={width},1200",
             f"--screenshot={shot}", base + page)
    assert shot.stat().st_size > 10_000
