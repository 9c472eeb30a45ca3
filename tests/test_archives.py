"""RFC 5005 archives: one complete Atom document and one JSON Feed page a month, walked
back from the merged feed; a month written again only when one of its articles changed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from lxml import etree

from aggregator.publish.archives import plan_archives
from aggregator.publish.feeds import build_feed
from aggregator.publish.serve import StaticHandler
from tests.conftest import DATA, SITE_NOW, FeedServer, Site, poll_and_render

ATOM_NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}
ATOM = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
JSON_FEED = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))


def _local(root: Path, base: str, url: str) -> Path:
    assert url.startswith(base), url  # absolute, under base_url
    return root / url[len(base):]


def _link(document: Any, rel: str) -> str | None:
    found = document.findall(f"a:link[@rel='{rel}']", ATOM_NS)
    assert len(found) <= 1, f"{len(found)} links rel={rel}"
    return found[0].get("href") if found else None


def _walk_atom(root: Path, base: str) -> list[tuple[str, list[str]]]:
    """(file, entry ids) from atom.xml back through prev-archive to the first month."""
    walked = []
    url: str | None = base + "atom.xml"
    while url:
        path = _local(root, base, url)
        document = etree.parse(str(path)).getroot()
        assert ATOM.validate(document), ATOM.error_log
        ids = [e.findtext("a:id", namespaces=ATOM_NS) or "" for e in
               document.findall("a:entry", ATOM_NS)]
        walked.append((path.relative_to(root).as_posix(), ids))
        url = _link(document, "prev-archive")
        assert len(walked) < 100, "the chain loops"
    return walked


def _all_article_ids(site: Site) -> set[str]:
    """The published id of every stored article."""
    entries = site.store.latest_entries(10_000)
    return {item.id for item in build_feed(entries, site.config.settings, SITE_NOW).items}


def test_the_chain_walks_back_to_the_first_month_and_finds_every_article_once(
        site: Site) -> None:
    base = site.config.settings.base_url
    walked = _walk_atom(site.root, base)
    assert walked[0][0] == "atom.xml"
    archives = walked[1:]
    months = [name for name, _ in archives]
    assert months == sorted(months, reverse=True) and len(months) >= 5
    assert all(name.startswith("archive/") and name.endswith(".xml") for name in months)
    in_archives = [i for _, ids in archives for i in ids]
    assert len(in_archives) == len(set(in_archives)), "an article in two months"
    assert set(in_archives) == _all_article_ids(site)
    assert set(walked[0][1]) <= set(in_archives)  # the merged feed's are archived too
    # Each archive: fh:archive, current, and next-archive mirroring prev-archive.
    newer: str | None = None
    for name, _ in archives:
        document = etree.parse(str(site.root / name)).getroot()
        assert document.find("fh:archive", ATOM_NS) is not None
        assert document.find("fh:complete", ATOM_NS) is None
        assert _link(document, "current") == base + "atom.xml"
        assert _link(document, "self") == base + name
        assert _link(document, "next-archive") == (base + newer if newer else None)
        month = name.removeprefix("archive/").removesuffix(".xml")
        for entry in document.findall("a:entry", ATOM_NS):
            # Filed in that month (Paris time: no fixture article is near midnight).
            assert (entry.findtext("a:published", namespaces=ATOM_NS) or "")[:7] == month
        newer = name
    main = etree.parse(str(site.root / "atom.xml")).getroot()
    assert main.find("fh:archive", ATOM_NS) is None and _link(main, "current") is None


def test_json_feed_pages_the_same_way(site: Site) -> None:
    base = site.config.settings.base_url
    url: str | None = base + "feed.json"
    pages = []
    while url:
        document = json.loads(_local(site.root, base, url).read_text("utf-8"))
        jsonschema.validate(document, JSON_FEED)
        pages.append([item["id"] for item in document["items"]])
        url = document.get("next_url")
    archived = [i for page in pages[1:] for i in page]
    assert len(archived) == len(set(archived)) and set(archived) == _all_article_ids(site)
    atom_months = [name for name, _ in _walk_atom(site.root, base)[1:]]
    assert len(pages) - 1 == len(atom_months)


def test_archives_are_served_as_atom(site: Site) -> None:
    handler = StaticHandler.__new__(StaticHandler)
    for path in (site.root / "archive").glob("*.xml"):
        assert handler.guess_type(str(path)) == "application/atom+xml"


def _mtimes(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (root / "archive").iterdir()}


def test_past_months_are_written_again_only_when_an_article_in_them_changes(
        feed_server: FeedServer, make_config: Any) -> None:
    url = feed_server.serve_file("blog-metier.rss", "/metier.rss")
    config = make_config([{"name": "Mon métier", "url": url}])
    root = poll_and_render(config)
    before = _mtimes(root)
    assert sorted(before) == [f"{m}{s}" for m in ("2012-03", "2012-04", "2012-10", "2013-01")
                              for s in (".json", ".xml")]
    poll_and_render(config, SITE_NOW + timedelta(hours=1))  # nothing new
    assert _mtimes(root) == before
    # v2: a new article in February 2013, the October 2012 one edited.
    feed_server.set("/metier.rss", (DATA / "blog-metier-v2.rss").read_bytes(),
                    content_type="application/rss+xml")
    poll_and_render(config, SITE_NOW + timedelta(hours=2))
    after = _mtimes(root)
    rewritten = sorted({name[:7] for name in after if after[name] != before.get(name)})
    # 2013-01 gains its next-archive link to the new month.
    assert rewritten == ["2012-10", "2013-01", "2013-02"]
    edited = etree.parse(str(root / "archive/2012-10.xml")).getroot()
    titles = [e.findtext("a:title", namespaces=ATOM_NS) for e in
              edited.findall("a:entry", ATOM_NS)]
    assert "Pourquoi je suis Community Manager ? (mis à jour)" in titles


def test_the_plan_writes_changed_months_and_their_neighbours(tmp_path: Path) -> None:
    days = [date(2024, 3, 2), date(2024, 1, 5), date(2023, 12, 1)]
    first = plan_archives(days, None, set(), tmp_path)
    assert first.months == (date(2024, 3, 1), date(2024, 1, 1), date(2023, 12, 1))
    assert first.write == set(first.months)
    (tmp_path / "archive").mkdir()
    for name in ("2024-03", "2024-01", "2023-12"):
        (tmp_path / "archive" / f"{name}.xml").write_text("<feed/>")
    same = plan_archives(days, days, set(), tmp_path)
    assert same.write == set()
    edited = plan_archives(days, days, {date(2024, 1, 5)}, tmp_path)
    assert edited.write == {date(2024, 1, 1)}
    # A new month: it, and the month before it (its next-archive), are written.
    grown = plan_archives([date(2024, 4, 9), *days], days, {date(2024, 4, 9)}, tmp_path)
    assert grown.write == {date(2024, 4, 1), date(2024, 3, 1)}
    # A month gone: its neighbours are linked to each other now.
    shrunk = plan_archives([days[0], days[2]], days, set(), tmp_path)
    assert shrunk.write == {date(2024, 3, 1), date(2023, 12, 1)}
