"""Every feed we publish checked as the W3C feed validator checks it.

The RELAX NG schema of RFC 4287 covers Atom's structure; the rest is what the
validator adds and the schema cannot say (its messages, from the conformance cases in
../shared/corpus/feedvalidator-testcases/, name each check): DuplicateUpdated,
DuplicateIds / DuplicateEntries, MissingAuthor, MissingSourceElement (updated), NotBlank
(title), MissingTextualContent, MissingContentOrAlternate (RFC 4287 4.1.1),
InvalidLanguage, InvalidFullLink / InvalidIRI (relative addresses), InvalidRFC3339Date,
MissingSelf / SelfDoesntMatchLocation, FeedHistoryRelInEntry; for RSS 2.0: MissingElement
(title, link, description), InvalidRFC2822Date, InvalidPermalink (guid isPermaLink),
MissingAtomSelfLink, DuplicateValue (guid), InvalidLanguage, NotBlank (title); JSON Feed 1.1
by its schema. The real validator, run on the demo site and on a site of every real-world
feed of the corpus, reports nothing else but ContainsUndeclaredHTML, which we keep (see
docs/feed-standards.md).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from lxml import etree

from tests.conftest import DATA, SITE_NOW, FeedServer, Site, poll_and_render

NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0",
      "dc": "http://purl.org/dc/elements/1.1/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
JSON_FEED = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))
# RFC 5646 well-formed tags (the forms feeds use: language, script, region, variants).
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?"
                   r"(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# RFC 822 as the RSS 2.0 profile wants it: a day name, a four-digit year, seconds, a zone.
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                    r"\d\d:\d\d:\d\d (GMT|UT|[ECMP][SD]T|[+-]\d{4})$")


def absolute(iri: str | None) -> bool:
    """An absolute IRI: a scheme, and for the web a host (urn: ids have none)."""
    if not iri:
        return False
    parts = urlsplit(iri)
    return parts.scheme == "urn" or (parts.scheme in ("http", "https") and bool(parts.netloc))


def atom_problems(path: Path, base: str) -> list[str]:
    """What the validator would say of an Atom document published at `base` + its path."""
    root = etree.parse(str(path)).getroot()
    problems = [] if ATOM.validate(root) else [f"RFC 4287: {ATOM.error_log}"]
    if not BCP47.match(root.get(XML_LANG) or ""):
        problems.append(f"InvalidLanguage {root.get(XML_LANG)!r}")
    selves = [link.get("href") for link in root.findall("a:link[@rel='self']", NS)]
    if not selves or not (selves[0] or "").startswith(base):
        problems.append(f"MissingSelf or SelfDoesntMatchLocation {selves}")
    for element in root.iter("{*}link", "{*}id", "{*}uri", "{*}icon", "{*}logo"):
        iri = element.get("href") if element.tag.endswith("link") else element.text
        if not absolute(iri):
            problems.append(f"InvalidFullLink {element.tag} {iri!r}")
    for element in root.iter("{*}updated", "{*}published"):
        if not RFC3339.match(element.text or ""):
            problems.append(f"InvalidRFC3339Date {element.text!r}")
    feed_author = root.find("a:author", NS) is not None
    seen_ids: set[str] = set()
    seen_updated: set[str] = set()
    for entry in root.findall("a:entry", NS):
        problems += _entry_problems(entry, feed_author, seen_ids, seen_updated)
    return problems


def _entry_problems(entry: Any, feed_author: bool, seen_ids: set[str],
                    seen_updated: set[str]) -> list[str]:
    problems = []
    entry_id = entry.findtext("a:id", namespaces=NS) or ""
    updated = entry.findtext("a:updated", namespaces=NS) or ""
    if entry_id in seen_ids:
        problems.append(f"DuplicateIds {entry_id}")
    if updated in seen_updated:
        problems.append(f"DuplicateUpdated {updated} ({entry_id})")
    seen_ids.add(entry_id)
    seen_updated.add(updated)
    if not feed_author and entry.find("a:author", NS) is None:
        problems.append(f"MissingAuthor {entry_id}")
    if not (entry.findtext("a:title", namespaces=NS) or "").strip():
        problems.append(f"NotBlank title {entry_id}")
    if entry.find("a:content", NS) is None:
        if entry.find("a:summary", NS) is None:
            problems.append(f"MissingTextualContent {entry_id}")
        if entry.find("a:link[@rel='alternate']", NS) is None:
            problems.append(f"MissingContentOrAlternate {entry_id}")
    published = entry.findtext("a:published", namespaces=NS)
    if published and datetime.fromisoformat(published) > datetime.fromisoformat(updated):
        problems.append(f"updated before published {entry_id}")
    source = entry.find("a:source", NS)
    if source is not None and source.find("a:updated", NS) is None:
        problems.append(f"MissingSourceElement updated {entry_id}")
    if entry.get(XML_LANG) is not None and not BCP47.match(entry.get(XML_LANG)):
        problems.append(f"InvalidLanguage {entry.get(XML_LANG)!r}")
    for rel in ("prev-archive", "next-archive", "current", "next", "previous"):
        if entry.find(f"a:link[@rel='{rel}']", NS) is not None:
            problems.append(f"FeedHistoryRelInEntry {rel}")
    return problems


def rss_problems(path: Path, base: str) -> list[str]:
    """What the validator would say of an RSS 2.0 document."""
    channel = etree.parse(str(path)).getroot().find("channel")
    assert channel is not None
    problems = [f"MissingElement channel/{name}" for name in ("title", "link", "description")
                if not (channel.findtext(name) or "").strip()]
    if not BCP47.match(channel.findtext("language") or ""):
        problems.append(f"InvalidLanguage {channel.findtext('language')!r}")
    selves = channel.findall("a:link[@rel='self']", NS)
    if len(selves) != 1 or not (selves[0].get("href") or "").startswith(base) \
            or selves[0].get("type") != "application/rss+xml":
        problems.append("MissingAtomSelfLink")
    for stamp in channel.iter("pubDate", "lastBuildDate"):
        if not RFC822.match(stamp.text or "") or parsedate_to_datetime(stamp.text) is None:
            problems.append(f"InvalidRFC2822Date {stamp.text!r}")
    guids: set[str] = set()
    for item in channel.findall("item"):
        guid = item.find("guid")
        if guid is None or not guid.text:
            problems.append("MissingGuid")
            continue
        permalink = guid.get("isPermaLink", "true") == "true"
        if permalink and not absolute(guid.text):
            problems.append(f"InvalidPermalink {guid.text}")
        if guid.text in guids:
            problems.append(f"DuplicateValue guid {guid.text}")
        guids.add(guid.text)
        if not item.findtext("title") and not item.findtext("description"):
            problems.append("ItemMustContainTitleOrDescription")
        if item.find("title") is not None and not (item.findtext("title") or "").strip():
            problems.append(f"NotBlank title {guid.text}")
        for address in [item.findtext("link"), *(e.get("url") for e in item.iter("enclosure",
                                                                                   "source"))]:
            if address is not None and not absolute(address):
                problems.append(f"InvalidFullLink {address!r}")
    return problems


def json_problems(path: Path) -> list[str]:
    """JSON Feed 1.1 by its schema, with the feed's authors and language."""
    document = json.loads(path.read_text("utf-8"))
    jsonschema.validate(document, JSON_FEED)
    problems = []
    if not document.get("authors") or not BCP47.match(document.get("language", "")):
        problems.append("authors or language missing")
    ids = [item["id"] for item in document["items"]]
    if len(ids) != len(set(ids)):
        problems.append("duplicate ids")
    return problems


def published_feeds(root: Path) -> dict[str, list[Path]]:
    return {
        "atom": sorted([root / "atom.xml", root / "digest.xml", *root.glob("tags/*/atom.xml"),
                        *root.glob("archive/*.xml")]),
        "rss": sorted([root / "rss.xml", *root.glob("tags/*/rss.xml")]),
        "json": sorted([root / "feed.json", *root.glob("tags/*/feed.json"),
                        *root.glob("archive/*.json")]),
    }


def test_every_output_feed_passes_what_the_validator_checks(site: Site) -> None:
    base = site.config.settings.base_url
    feeds = published_feeds(site.root)
    assert len(feeds["atom"]) >= 10 and len(feeds["rss"]) == 4
    problems = {path.relative_to(site.root).as_posix(): found for path, found in [
        *((p, atom_problems(p, base)) for p in feeds["atom"]),
        *((p, rss_problems(p, base)) for p in feeds["rss"]),
        *((p, json_problems(p)) for p in feeds["json"])] if found}
    assert not problems, problems


def test_the_checks_catch_what_the_validator_reports() -> None:
    """The checks say of the validator's own cases what it says (tests/data/feedvalidator)."""
    cases = DATA / "feedvalidator"
    for name, message in [("duplicate-updated.xml", "DuplicateUpdated"),
                          ("missing-self.xml", "MissingSelf"),
                          ("duplicate-entries.xml", "DuplicateIds")]:
        assert message in " ".join(atom_problems(cases / name, "http://example.org/")), name
    # Its error-free RSS 2.0 sample has no atom:link self, which the validator only
    # recommends; nothing else is reported.
    assert rss_problems(cases / "rss-valid.xml", "http://example.org/") == [
        "MissingAtomSelfLink"]


def test_digest_entries_have_author_dates_summary_and_the_day_page(site: Site) -> None:
    root = etree.parse(str(site.root / "digest.xml")).getroot()
    base = site.config.settings.base_url
    for entry in root.findall("a:entry", NS):
        assert entry.findtext("a:author/a:name", namespaces=NS) == site.config.settings.title
        published = entry.findtext("a:published", namespaces=NS) or ""
        link = entry.find("a:link[@rel='alternate']", NS)
        assert link is not None
        day = link.get("href", "").removeprefix(base + "digest/").removesuffix(".html")
        # The day starts at midnight, Paris time.
        assert published in (f"{day}T00:00:00Z", _previous_day(day) + "T22:00:00Z",
                             _previous_day(day) + "T23:00:00Z")
        assert (entry.findtext("a:summary", namespaces=NS) or "").strip()
    latest = root.find("a:entry", NS)
    assert latest is not None
    assert latest.findtext("a:summary", namespaces=NS) == "«\xa0Le métier qui n’existe pas\xa0»"


def _previous_day(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def test_an_article_has_one_id_in_every_output(site: Site) -> None:
    """Atom id, RSS guid and JSON Feed id agree, in the merged feed, the tag feeds and
    the archives: found by the article's link, each link has one id."""
    ids_by_link: dict[str, set[str]] = {}
    feeds = published_feeds(site.root)
    for path in feeds["atom"]:
        for entry in etree.parse(str(path)).getroot().findall("a:entry", NS):
            link = entry.find("a:link[@rel='alternate']", NS)
            if link is not None and path.name != "digest.xml":
                ids_by_link.setdefault(link.get("href", ""), set()).add(
                    entry.findtext("a:id", namespaces=NS) or "")
    for path in feeds["rss"]:
        for item in etree.parse(str(path)).getroot().iter("item"):
            ids_by_link.setdefault(item.findtext("link") or "", set()).add(
                item.findtext("guid") or "")
    for path in feeds["json"]:
        for item in json.loads(path.read_text("utf-8"))["items"]:
            ids_by_link.setdefault(item.get("url", ""), set()).add(item["id"])
    assert len(ids_by_link) >= 8
    assert {link: ids for link, ids in ids_by_link.items() if len(ids) != 1} == {}


def _updated_by_id(root: Path) -> dict[str, str]:
    document = etree.parse(str(root / "atom.xml")).getroot()
    return {e.findtext("a:id", namespaces=NS) or "": e.findtext("a:updated", namespaces=NS)
            or "" for e in document.findall("a:entry", NS)}


def test_updated_moves_when_the_text_changes_not_when_a_copy_is_found(
        feed_server: FeedServer, make_config: Any) -> None:
    metier = {"name": "Mon métier", "url": feed_server.serve_file("blog-metier.rss",
                                                                    "/metier.rss")}
    vis = {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")}
    copies = {"name": "Copies", "url": feed_server.serve_file("hostile.rss")}
    root = poll_and_render(make_config([metier, vis]))
    first = _updated_by_id(root)
    # A copy of "Vis ma vie de CM" (July 2012) found on another blog.
    config = make_config([metier, vis, copies])
    poll_and_render(config, SITE_NOW + timedelta(days=1))
    text = (root / "atom.xml").read_text("utf-8")
    assert 'rel="related"' in text and "piege.example/2012/07/" in text
    assert {i: u for i, u in _updated_by_id(root).items() if i in first} == first
    # The same article edited (v2): its updated moves, to the poll that saw it.
    feed_server.set("/metier.rss", (DATA / "blog-metier-v2.rss").read_bytes(),
                    content_type="application/rss+xml")
    poll_and_render(config, SITE_NOW + timedelta(days=2))
    moved = {i for i, u in _updated_by_id(root).items() if i in first and first[i] != u}
    assert len(moved) == 1
    assert _updated_by_id(root)[moved.pop()].startswith(
        (SITE_NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))


def test_an_empty_tag_feed_is_written_but_not_advertised(
        feed_server: FeedServer, make_config: Any) -> None:
    """Every article of the "copies" blog (a mirror of another) is shown from the other."""
    feeds = [{"name": "Mon métier", "url": feed_server.serve_file("blog-metier.rss")},
             {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")},
             # Same dates, same poll: the feed whose name sorts first shows the article.
             {"name": "Vos copies", "url": feed_server.serve_file("vis-ma-vie.atom",
                                                                   "/copie.atom"),
              "tags": ["copies"]}]
    root = poll_and_render(make_config(feeds))
    feed = etree.parse(str(root / "tags/copies/atom.xml")).getroot()
    assert feed.findall("a:entry", NS) == []
    index = (root / "index.html").read_text("utf-8")
    assert "tags/copies/atom.xml" not in index
    assert 'href="atom.xml"' in index


# Entries as sparse as real feeds have them (the corpus's rss-parser/missing-fields.atom,
# link blogs): no title, no text, no link, or only some of them.
SPARSE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Liens</title><link>https://liens.example/</link>
<description>Liens du jour</description>
<item><guid>https://liens.example/1</guid><title>Un lien sans texte</title>
<link>https://liens.example/1</link><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>
<item><guid>https://liens.example/2</guid><description>C&amp;C4 : une note sans titre, dont les
premiers mots font le titre dans nos flux</description>
<pubDate>Fri, 20 Nov 2026 11:00:00 GMT</pubDate></item>
<item><guid>tag:liens.example,2026:3</guid><pubDate>Fri, 20 Nov 2026 12:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_entries_with_no_title_text_or_link_still_validate(
        feed_server: FeedServer, make_config: Any) -> None:
    """Untitled entries take their first words as title ("(untitled)" with none); an
    entry with no text takes its title as text, which also gives an entry with no link
    the content that RFC 4287 then requires."""
    feed_server.set("/liens.rss", SPARSE_FEED, content_type="application/rss+xml")
    config = make_config([{"name": "Liens", "url": feed_server.url("/liens.rss"),
                           "tags": ["liens"]}])
    root = poll_and_render(config)
    base = config.settings.base_url
    feeds = published_feeds(root)
    problems = {path.name: found for path, found in [
        *((p, atom_problems(p, base)) for p in feeds["atom"]),
        *((p, rss_problems(p, base)) for p in feeds["rss"])] if found}
    assert not problems, problems
    entries = etree.parse(str(root / "atom.xml")).getroot().findall("a:entry", NS)
    titles = [e.findtext("a:title", namespaces=NS) for e in entries]
    # (The poll already titles an RSS item that has a description with its text.)
    assert titles == ["(untitled)", "C&C4 : une note sans titre, dont les premiers mots "
                      "font le titre dans nos flux", "Un lien sans texte"]
    assert [e.findtext("a:content", namespaces=NS) for e in entries][::2] == [
        "(untitled)", "Un lien sans texte"]
    items = json.loads((root / "feed.json").read_text("utf-8"))["items"]
    assert [item["title"] for item in items] == titles
