"""OPML 2.0 lists in and out: title, text, htmlUrl, xmlUrl, type and categories kept, and
the real exports of other readers (tests/data/opml/) read back as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from aggregator.config.opml import Outline, read_outlines, write_outlines
from tests.conftest import DATA

CREATED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["rsparser-Subs.opml", "rsparser-SubsNoTitleAttributes.opml",
                                  "feedjira-google-reader-subscriptions.xml"])
def test_real_exports_round_trip(name: str) -> None:
    outlines = read_outlines((DATA / "opml" / name).read_bytes())
    written = write_outlines("Abonnements", outlines, CREATED)
    assert read_outlines(written.encode("utf-8")) == outlines
    root = etree.fromstring(written.encode("utf-8"))
    assert root.get("version") == "2.0" and root.findtext("head/dateCreated")
    # Every outline of a subscription has what OPML 2.0 requires of one.
    assert all(o.get("type") and o.get("text") and o.get("xmlUrl")
               for o in root.iterfind("body/outline"))


def test_every_attribute_is_read() -> None:
    outlines = read_outlines((DATA / "opml" / "rsparser-Subs.opml").read_bytes())
    assert outlines[0] == Outline(text="Daring Fireball", xml_url="http://daringfireball.net/feeds/main",
                                  title="Daring Fireball", html_url="http://daringfireball.net/",
                                  type="rss")
    julia = next(o for o in outlines if o.text == "Julia Evans")
    assert julia.html_url is None  # htmlUrl="" is no address
    assert sum(1 for o in outlines if o.categories) == 138  # the folders
    reader = read_outlines((DATA / "opml" / "feedjira-google-reader-subscriptions.xml")
                           .read_bytes())
    assert all(o.html_url and o.title for o in reader[:5])


def test_titles_and_categories_apart_from_the_label() -> None:
    outline = Outline(text="Mon métier", xml_url="https://metier.example/feed",
                      title="Mon métier, c’est le web", html_url="https://metier.example/",
                      type="atom", categories=("community management", "métier"))
    written = write_outlines("Veille", [outline], CREATED)
    assert 'category="community management,métier"' in written
    assert read_outlines(written.encode("utf-8")) == [outline]
