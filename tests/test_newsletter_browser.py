"""The HTML part of a newsletter as a mail client's web view shows it: headless Chromium at
a phone's 375 px and a mail pane's 600 px, light and dark; screenshots are kept in
/tmp/mail-shots/ to be looked at, and axe-core finds no violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# The SMTP server and the day's articles, as fixtures of this module too.
from tests.conftest import CHROMIUM
from tests.test_newsletter import Mail, certificate, mail, smtp  # noqa: F401

SHOTS = Path("/tmp/mail-shots")
pytest.importorskip("playwright.sync_api")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_html_part_reads_on_a_phone_and_in_a_mail_pane(
        mail: Mail, browser: Any) -> None:  # noqa: F811
    assert mail.send().status == "sent"
    html = mail.handler.received[0].message.get_body(("html",)).get_content()
    SHOTS.mkdir(exist_ok=True)
    page_file = SHOTS / "newsletter.html"
    page_file.write_text(html, "utf-8")
    for width in (375, 600):
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": width, "height": 900})
            try:
                page.emulate_media(color_scheme=scheme)
                page.goto(page_file.as_uri())
                page.screenshot(path=str(SHOTS / f"newsletter-{width}-{scheme}.png"))
                # Nothing wider than the screen: no sideways scrolling on a phone.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                titles = page.locator("td.entry h3 a")
                assert titles.count() == 40
                assert titles.first.bounding_box()["width"] <= width
                background = page.evaluate(
                    "getComputedStyle(document.querySelector('td.entry')).backgroundColor")
                assert (background == "rgb(30, 30, 30)") == (scheme == "dark")
                results = axe_api.Axe().run(page)
                assert results.violations_count == 0, results.generate_report()
            finally:
                page.close()
