"""feeds.yaml as the control panel: add by site, remove, OPML, schema, reload in a daemon."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from aggregator.cli import main
from aggregator.config.load import ConfigError, load_config
from aggregator.config.opml import read_opml
from aggregator.config.schema import schema_text
from tests.conftest import DATA, FeedServer, wait_for, write_config
from tests.test_progress import _on_a_terminal

ROOT = Path(__file__).parent.parent
SCHEMA_FILE = ROOT / "aggregator" / "config" / "feeds.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text("utf-8"))
COMMENTED = """\
# Ma veille : les blogs que je suis.
settings:
  title: Veille de test   # le titre des pages
  database: test.db
  timezone: Europe/Paris
  language: en   # the messages these tests read

feeds:
  # --- Français ---
  - name: Vis ma vie
    url: {vis}
    tags: [humour]   # une série
"""


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def config(tmp_path: Path, feed_server: FeedServer) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(COMMENTED.format(vis=feed_server.serve_file("vis-ma-vie.atom")), "utf-8")
    return path


def test_add_from_a_blog_page_discovers_its_feed(config: Path, feed_server: FeedServer) -> None:
    feed_server.serve_file("blog-metier.rss", "/feed/")
    page = feed_server.serve_file("not-a-feed.html", "/")
    result = invoke(config, "feeds", "add", page, "--tag", "métier", "--tag", "cm")
    assert result.exit_code == 0, result.output
    assert "Added 'Mon métier, c’est le web'" in result.output
    text = config.read_text("utf-8")
    assert text.startswith(COMMENTED.splitlines()[0])  # comments and layout kept
    assert "# --- Français ---" in text and "# une série" in text and "# le titre" in text
    assert text.endswith(f"  - name: Mon métier, c’est le web\n"
                         f"    url: {feed_server.url('/feed/')}\n"
                         f"    tags: [métier, cm]\n")
    loaded = load_config(config)
    assert [f.name for f in loaded.feeds] == ["Vis ma vie", "Mon métier, c’est le web"]


def test_add_finds_a_feed_at_a_common_path(config: Path, feed_server: FeedServer) -> None:
    feed_server.serve_file("metier-cp1252.rss", "/rss.xml")
    page = feed_server.set("/blog/", b"<html><body><h1>Le blog</h1></body></html>",
                           content_type="text/html")
    result = invoke(config, "feeds", "add", page, "--name", "Isabelle")
    assert result.exit_code == 0, result.output
    assert load_config(config).feed("Isabelle").url == feed_server.url("/rss.xml")  # type: ignore[union-attr]


def test_add_refuses_a_duplicate_address(config: Path, feed_server: FeedServer) -> None:
    same = feed_server.url("/vis-ma-vie.atom?utm_source=newsletter")
    result = invoke(config, "feeds", "add", same)
    assert result.exit_code == 1
    assert "is already in" in result.output and "'Vis ma vie'" in result.output
    assert load_config(config).feeds[-1].name == "Vis ma vie"


def test_add_says_when_nothing_is_a_feed(config: Path, feed_server: FeedServer) -> None:
    page = feed_server.set("/nothing/", b"<html><body>rien</body></html>",
                           content_type="text/html")
    result = invoke(config, "feeds", "add", page)
    assert result.exit_code == 1
    assert "is a web page that advertises no feed" in result.output


def test_add_says_why_each_advertised_feed_was_refused(config: Path,
                                                       feed_server: FeedServer) -> None:
    html = b"<html><body>pas un flux</body></html>"
    feed_server.set("/blog/feed", html, content_type="text/html")
    gone = feed_server.url("/blog/gone.xml")
    page = feed_server.set("/blog/", b'<link rel="alternate" type="application/rss+xml" '
                           b'href="feed"><link rel="alternate" type="application/rss+xml" '
                           b'href="gone.xml">', content_type="text/html")
    result = invoke(config, "feeds", "add", page)
    assert result.exit_code == 1
    assert f"{page} advertises 2 feeds, but none is one:" in result.output
    assert (f"{feed_server.url('/blog/feed')}: advertised, but answers text/html, "
            "not a feed") in result.output
    assert f"{gone}: advertised, but cannot be fetched: HTTP 404" in result.output


def test_remove_keeps_the_rest_of_the_file(config: Path, feed_server: FeedServer) -> None:
    feed_server.serve_file("blog-metier.rss", "/feed/")
    invoke(config, "feeds", "add", feed_server.url("/feed/"))
    result = invoke(config, "feeds", "remove", "Vis ma vie")
    assert result.exit_code == 0, result.output
    text = config.read_text("utf-8")
    assert "Vis ma vie" not in text and "# Ma veille" in text and "# le titre" in text
    missing = invoke(config, "feeds", "remove", "Inconnu")
    assert missing.exit_code == 1
    assert "no feed named 'Inconnu'" in missing.output


@pytest.mark.parametrize("name, outlines, kept", [
    ("rsparser-Subs.opml", 207, 202),
    ("rsparser-SubsNoTitleAttributes.opml", 207, 202),
    ("feedjira-google-reader-subscriptions.xml", 300, 285),
])
def test_opml_import_of_real_lists(tmp_path: Path, name: str, outlines: int,
                                   kept: int) -> None:
    # The lists repeat some blogs (same name or same address): those are skipped, counted.
    source = DATA / "opml" / name
    assert len(read_opml(source.read_bytes())) == outlines
    config = tmp_path / "feeds.yaml"
    config.write_text("settings:\n  database: t.db\n  language: en\nfeeds: []\n", "utf-8")
    result = invoke(config, "opml", "import", str(source))
    assert result.exit_code == 0, result.output
    assert (f"Imported {kept} feeds from {source} into {config}; "
            f"{outlines - kept} already there were skipped.") in result.output.replace("\n", "")
    feeds = load_config(config).feeds
    assert len(feeds) == kept
    again = invoke(config, "opml", "import", str(source))
    assert f"Imported 0 feeds from {source}" in again.output.replace("\n", "")


def test_opml_folders_become_tags() -> None:
    feeds = read_opml((DATA / "opml" / "rsparser-Subs.opml").read_bytes())
    tagged = [f for f in feeds if f.tags]
    assert len(tagged) == 138
    assert all(len(f.tags) == 1 for f in tagged)


def test_opml_round_trip_keeps_names_urls_and_tags(config: Path, tmp_path: Path) -> None:
    exported = invoke(config, "opml", "export")
    assert exported.exit_code == 0, exported.output
    listed = tmp_path / "list.opml"
    listed.write_text(exported.output, "utf-8")
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text("settings:\n  database: f.db\nfeeds: []\n", "utf-8")
    invoke(fresh, "opml", "import", str(listed))
    before = [(f.name, f.url, f.tags) for f in load_config(config).feeds]
    after = [(f.name, f.url, f.tags) for f in load_config(fresh).feeds]
    assert after == before == [("Vis ma vie", before[0][1], ("humour",))]


def test_opml_import_rejects_a_non_opml_file(config: Path) -> None:
    result = invoke(config, "opml", "import", str(DATA / "blog-metier.rss"))
    assert result.exit_code == 1
    assert "not an OPML document" in result.output


# --- the JSON Schema editors use, and the loader, agree ---------------------------------

VALID = [
    {"feeds": []},
    {"settings": {"poll_interval": "30m", "timeout": 20, "max_size": "10MB",
                  "language": "en"},
     "feeds": [{"name": "A", "url": "https://a.example/feed", "tags": ["x", "y"],
                "poll_interval": "2h", "enabled": False}]},
    {"feeds": [{"name": "B", "url": "http://b.example/rss", "tags": "seul"}]},
    {"settings": {"digest_time": "07:30",
                  "filters": {"exclude": ["sponsorisé", {"regex": "^\\[Pub\\]", "in": ["title"]}]}},
     "feeds": [{"name": "C", "url": "https://c.example/", "filters": {
         "include": [{"keyword": "réseaux sociaux", "in": "category"}]}}]},
]
INVALID = [
    {"feeds": [{"name": "A"}]},
    {"feeds": [{"url": "https://a.example/"}]},
    {"feeds": [{"name": "A", "url": "ftp://a.example/"}]},
    {"feeds": [{"name": "A", "url": "https://a.example/", "pol_interval": "1h"}]},
    {"feeds": [{"name": "A", "url": "https://a.example/", "poll_interval": "soon"}]},
    {"feeds": [{"name": "A", "url": "https://a.example/", "tags": [3]}]},
    {"settings": {"max_size": "big"}, "feeds": []},
    {"settings": {"language": "de"}, "feeds": []},
    {"settings": {"concurrency": 0}, "feeds": []},
    {"extra": 1, "feeds": []},
    {"settings": {"digest_time": "25:00"}, "feeds": []},
    {"settings": {"filters": {"drop": ["x"]}}, "feeds": []},
    {"settings": {"title": "  "}, "feeds": []},
    {"feeds": [{"name": "A", "url": "https://a.example/",
                "filters": {"exclude": [{"keyword": "x", "regex": "y"}]}}]},
]


def _loads(tmp_path: Path, document: dict[str, Any]) -> bool:
    path = tmp_path / "feeds.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(document, handle)
    try:
        load_config(path)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("document", VALID + INVALID)
def test_schema_and_loader_agree(tmp_path: Path, document: dict[str, Any]) -> None:
    valid = jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    assert valid == _loads(tmp_path, document) == (document in VALID)


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text("utf-8") == schema_text(), (
        "feeds.schema.json differs from what the settings tables generate: regenerate it with "
        "`python -m aggregator.config.schema > aggregator/config/feeds.schema.json`")


def test_shipped_feeds_yaml_points_editors_at_the_schema() -> None:
    first = (ROOT / "feeds.yaml").read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=aggregator/config/feeds.schema.json"
    jsonschema.validate(YAML(typ="safe").load(ROOT / "feeds.yaml"), SCHEMA)


# --- a running daemon picks up edits ----------------------------------------------------


def _status(config: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config),
                          "status", "--json"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return {row["name"]: row for row in json.loads(out.stdout)}


def _edit(config: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one."""
    temporary = config.with_suffix(".tmp")
    temporary.write_text(text, "utf-8")
    temporary.replace(config)


def test_running_daemon_reloads_an_edited_file(config: Path, feed_server: FeedServer) -> None:
    log_path = config.parent / "daemon.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--config", str(config), "run",
             "--tick", "0.5"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _status(config)["Vis ma vie"]["entries"] == 2,
                 "the first poll stored", pause=0.2)
        # A new feed: polled within a tick or two.
        feed_server.serve_file("metier-cp1252.rss", "/isabelle.rss")
        _edit(config, config.read_text("utf-8")
              + f"  - name: Isabelle\n    url: {feed_server.url('/isabelle.rss')}\n")
        wait_for(lambda: _status(config).get("Isabelle", {}).get("entries") == 1,
                 "the new feed polled", pause=0.2)
        # A broken edit: the daemon says where and keeps going on the last good file.
        good = config.read_text("utf-8")
        _edit(config, good + "  - name: Sans adresse\n")
        wait_for(lambda: "feeds[2].url: missing (required)" in log_path.read_text(),
                 "the broken edit reported", pause=0.2)
        assert daemon.poll() is None
        assert "keeping the previous one" in log_path.read_text()
        # Removed: no more polls, its entries stay.
        _edit(config, good.split("  - name: Isabelle")[0])
        wait_for(lambda: "reloaded" in log_path.read_text().split("missing (required)")[-1],
                 "the fixed file reloaded", pause=0.2)
        hits = len(feed_server.hits("/isabelle.rss"))
        time.sleep(1.5)
        assert len(feed_server.hits("/isabelle.rss")) == hits
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)


SECTIONS = """\
feeds:
  # --- Français ---
  - name: A
    url: https://a.example/feed/   # a eol
    tags: [x]   # une série

  # --- English ---
  - name: Buffer  # b eol
    # inside b
    url: https://buffer.example/rss/
  # --- Trailing ---
  - name: C
    url: https://c.example/feed/
  # fin du fichier
"""


@pytest.mark.parametrize("name, gone", [
    ("A", ["name: A", "# a eol", "# une série"]),
    ("Buffer", ["Buffer", "# b eol", "# inside b"]),
    ("C", ["name: C"]),
])
def test_remove_keeps_the_section_comments(tmp_path: Path, name: str, gone: list[str]) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SECTIONS, "utf-8")
    result = invoke(path, "feeds", "remove", name)
    assert result.exit_code == 0, result.output
    text = path.read_text("utf-8")
    for comment in ("  # --- Français ---", "  # --- English ---", "  # --- Trailing ---",
                    "  # fin du fichier"):
        assert comment in text.splitlines()
    assert not any(g in text for g in gone)
    assert [f.name for f in load_config(path).feeds] == [n for n in ("A", "Buffer", "C")
                                                        if n != name]


def test_an_edit_that_would_not_load_leaves_feeds_yaml_unchanged(config: Path) -> None:
    from aggregator.config.edit import SubscriptionError, add_feeds
    from aggregator.config.load import FeedConfig

    before = config.read_text("utf-8")
    # A name feeds.yaml refuses (a control character): the file written must not load.
    with pytest.raises(SubscriptionError, match="left unchanged: the edit would make it invalid"):
        add_feeds(load_config(config), [FeedConfig(name="Bip\x07", url="https://b.example/")])
    assert config.read_text("utf-8") == before
    assert not list(config.parent.glob(".*.tmp"))


def _opml_of(tmp_path: Path, feeds: dict[str, str]) -> Path:
    outlines = "".join(f'<outline type="rss" text="{name}" xmlUrl="{url}"/>'
                       for name, url in feeds.items())
    source = tmp_path / "list.opml"
    source.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', "utf-8")
    return source


def test_opml_import_with_check_leaves_out_what_fails(tmp_path: Path,
                                                       feed_server: FeedServer) -> None:
    good = {name: feed_server.serve_file("blog-metier.rss", f"/{name}.rss")
            for name in ("Un", "Deux")}
    page = feed_server.set("/page", b"<html><body>pas un flux</body></html>",
                           content_type="text/html")
    source = _opml_of(tmp_path, {**good, "Page": page})
    config = write_config(tmp_path, [], language="en")
    result = CliRunner().invoke(main, ["--config", str(config), "opml", "import", "--check",
                                       str(source)])
    assert result.exit_code == 0, result.output
    assert [feed.name for feed in load_config(config).feeds] == ["Un", "Deux"]
    assert f"Not added: Page ({page}): not a feed" in result.stdout
    assert ("Imported 2 feeds from" in result.stdout
            and "0 already there were skipped, 1 that failed was left out." in result.stdout)
    # Off a terminal, a plain line a feed tried, on stderr.
    told = result.stderr.splitlines()
    assert {line.split(": ", 1)[1] for line in told} == {
        "Un (ok)", "Deux (ok)", "Page (failed)"}, result.stderr
    assert len(told) == 3 and told[-1].startswith("checked 3/3: "), result.stderr


def test_opml_import_with_check_shows_a_bar_on_a_terminal(tmp_path: Path,
                                                          feed_server: FeedServer) -> None:
    source = _opml_of(tmp_path, {f"Blog {n}": feed_server.serve_file(
        "blog-metier.rss", f"/{n}.rss", delay=0.3) for n in range(3)})
    status, lines = _on_a_terminal(write_config(tmp_path, [], language="en"), "opml", "import",
                                   "--check", str(source))
    assert status == 0, lines
    assert any(re.search(r"Checking.*\b3/3\b", line) for line in lines), lines
    assert not [line for line in lines if line.startswith("checked ")], lines
