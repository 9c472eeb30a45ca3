"""Robustness corpus: every document of tests/data/corpus polled over loopback, then rendered.

No document may crash the run: each one is stored, or becomes a per-feed error that
`status` can show. The merged feeds must stay valid whatever went in. The files and
their provenance are described in tests/data/corpus/README.md; the full corpus runs
with benchmarks/corpus_run.py, which reuses the helpers below.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import jsonschema
from lxml import etree

from aggregator.config.load import Config, load_config
from aggregator.models import FeedState, UpdateOutcome
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.render import RenderReport, render_site
from aggregator.store import Store
from tests.conftest import DATA, FeedServer, write_config

CORPUS = DATA / "corpus"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CORPUS_PARTS = ("feedparser-tests", "feedvalidator-testcases", "real-world")
NOTES = {"README.md", "LICENSE-NOTE.txt", "SOURCES.txt", "MANIFEST.tsv"}

# As the corpus README says: by extension, .xml.gz as-is with Content-Encoding.
CONTENT_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
    ".rdf": "application/xml",
    ".html": "text/html",
    ".opml": "text/x-opml",
    ".gz": "application/xml",
}
# feedparser's own harness serves its http cases as text/xml unless a header says otherwise.
FEEDPARSER_HTTP_DEFAULT = "text/xml"
_HEADER_LINE = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):[ \t]*(.*?)\s*$", re.MULTILINE)

# Well-formed blog feeds with posts: each must give stored entries, not an error.
FEEDS_WITH_ENTRIES = (
    "real-world/laminas-feed/wordpress-atom10.xml",
    "real-world/laminas-feed/wordpress-rss2-dc-atom.xml",
    "real-world/feedjira-2009/AdamBitscribe.xml",
    "real-world/feedjira-2009/PragmaticTheory.xml",
    "real-world/node-feedparser/compressed.xml.gz",
    "real-world/node-feedparser/iconv.xml",
    "real-world/rss-parser/encoding.rss",
    "real-world/rsparser/DaringFireball.atom",
)
# Documents that are no feed at all: each must be a stored error.
NOT_FEEDS = (
    "real-world/not-a-feed/feedjira-2009-JoomlapoweredSite.html",
    "real-world/not-a-feed/node-feedparser-notafeed.html",
    "real-world/rsparser/allthis-partial.json",
)


def corpus_files(root: Path, parts: Iterable[str] = CORPUS_PARTS) -> list[str]:
    """Relative POSIX paths of the feed documents under `root` (notes and licences left out)."""
    return sorted(
        path.relative_to(root).as_posix()
        for part in parts
        for path in (root / part).rglob("*")
        if path.is_file() and path.name not in NOTES
    )


def leading_headers(body: bytes) -> dict[str, str]:
    """The `Header: Name: value` lines of a feedparser test file's leading comment."""
    start = body.find(b"<!--")
    end = body.find(b"-->", start)
    if start < 0 or end < 0:
        return {}
    comment = body[start:end]
    return {
        name.decode("ascii"): value.decode("latin-1")
        for name, value in _HEADER_LINE.findall(comment)
    }


def serve_options(relative: str, body: bytes) -> dict[str, Any]:
    """FeedServer route options for one corpus file, following the corpus README."""
    suffix = Path(relative).suffix
    options: dict[str, Any] = {
        "content_type": CONTENT_TYPES.get(suffix, "application/octet-stream"),
        "headers": {},
    }
    if relative.endswith(".xml.gz"):
        options["headers"]["Content-Encoding"] = "gzip"
    if relative.startswith("feedparser-tests/") and "http" in relative:
        options["content_type"] = FEEDPARSER_HTTP_DEFAULT
        for name, value in leading_headers(body).items():
            if name.lower() == "content-type":
                options["content_type"] = value
            else:
                options["headers"][name] = value
        # The file's own ETag / Last-Modified must not be doubled by the server's.
        options["conditional"] = False
    return options


def serve_corpus(server: FeedServer, root: Path, files: Sequence[str]) -> list[dict[str, str]]:
    """Put every file on `server`; returns feeds.yaml items, named by relative path."""
    feeds = []
    for relative in files:
        body = (root / relative).read_bytes()
        url = server.set("/" + quote(relative), body, **serve_options(relative, body))
        feeds.append({"name": relative, "url": url})
    return feeds


@dataclass
class CorpusRun:
    """What one poll-and-render of a corpus produced."""

    config: Config
    outcomes: list[UpdateOutcome]
    states: dict[str, FeedState]
    report: RenderReport

    @property
    def errors(self) -> dict[str, str]:
        """Stored last_error of every feed whose outcome was an error."""
        return {
            o.feed: self.states[o.feed].last_error or ""
            for o in self.outcomes if o.outcome == "error"
        }

    def summary(self) -> str:
        """One line of counts, then the error messages grouped by their first words."""
        kinds = Counter(o.outcome for o in self.outcomes)
        lines = [f"{len(self.outcomes)} feeds: " + ", ".join(
            f"{k} {n}" for k, n in sorted(kinds.items()))]
        prefixes = Counter(" ".join(e.split()[:3]) for e in self.errors.values())
        lines += [f"  {n:5d}  {prefix}" for prefix, n in prefixes.most_common()]
        return "\n".join(lines)


def run_corpus(workdir: Path, feeds: list[dict[str, str]], **settings: Any) -> CorpusRun:
    """One update_feeds over all `feeds` into a SQLite file, then render_site."""
    settings.setdefault("database", str(workdir / "corpus.db"))
    config = load_config(write_config(workdir, feeds, **settings))
    store = Store.open(config.settings.database)
    try:
        outcomes = update_feeds(store, make_session(), config, NOW)
        report = render_site(store, config.settings, config.feeds, NOW)
        return CorpusRun(config, outcomes, store.feed_states(), report)
    finally:
        store.close()


def output_problems(output_dir: Path) -> list[str]:
    """What is wrong with the merged feeds: schema errors, feedparser bozo, bad dates."""
    problems = []
    rng = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
    if not rng.validate(etree.parse(str(output_dir / "atom.xml"))):
        problems.append(f"atom.xml is not valid RFC 4287: {rng.error_log}")
    schema = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    document = json.loads((output_dir / "feed.json").read_text("utf-8"))
    problems += [f"feed.json: {e.json_path}: {e.message}"
                 for e in validator.iter_errors(document)]
    # The format checker needs optional packages for date-time; check the dates here too.
    for index, item in enumerate(document.get("items", [])):
        for key in ("date_published", "date_modified"):
            if key in item and not _is_rfc3339(item[key]):
                problems.append(f"feed.json: items[{index}].{key}: {item[key]!r}")
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((output_dir / name).read_bytes())
        if parsed.bozo:
            problems.append(f"{name} re-read by feedparser: {parsed.get('bozo_exception')!r}")
    return problems


def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def test_whole_corpus_is_ingested_without_a_crash(tmp_path: Path) -> None:
    files = corpus_files(CORPUS)
    assert len(files) > 1500, "tests/data/corpus is missing; see its README"
    server = FeedServer()
    try:
        feeds = serve_corpus(server, CORPUS, files)
        run = run_corpus(tmp_path, feeds, feed_entries=500)
    finally:
        server.close()
    summary = run.summary()

    by_name = {o.feed: o for o in run.outcomes}
    assert sorted(by_name) == files, f"feeds without an outcome\n{summary}"
    assert set(run.states) == set(files), summary
    for name, outcome in by_name.items():
        assert outcome.outcome in ("new", "unchanged", "error"), f"{name}: {outcome}\n{summary}"
        state = run.states[name]
        if outcome.outcome == "error":
            assert state.last_error, f"{name}: error without a stored message\n{summary}"
            assert state.failures == 1 and state.last_success is None, f"{name}: {state}"
        else:
            assert state.last_error is None and state.last_success == NOW, f"{name}: {state}"
    for name in FEEDS_WITH_ENTRIES:
        assert by_name[name].outcome == "new", f"{name}: {run.states[name]}\n{summary}"
        assert run.states[name].entry_count > 0, f"{name}\n{summary}"
    for name in NOT_FEEDS:
        assert by_name[name].outcome == "error", f"{name}: {by_name[name]}\n{summary}"
    assert len(run.errors) < len(files) / 2, f"{len(run.errors)} errors\n{summary}"

    assert run.report.entries_in_feed > 0, summary
    problems = output_problems(run.config.settings.output_dir)
    assert not problems, "\n".join(problems[:20]) + f"\n{len(run.errors)} errors\n{summary}"
