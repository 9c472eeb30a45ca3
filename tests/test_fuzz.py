"""Generated hostile documents and configs, through the real command line: fetch, render
and status never print a traceback, every output stays well-formed, and nothing stored
is lost (issue 20).

Each seed makes a dozen feeds whose every field is drawn from hostile values (all of
Unicode's categories, lone surrogates, NUL, calendar edges, absurd sizes and numbers,
deep nesting, broken markup) beside two fixture feeds whose entries are known; then a
second round of other hostile documents at the same addresses. Configs get the same
treatment: a stored database and a feeds.yaml with a generated mistake must give one
line and keep the database whole.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from aggregator.store import Store
from tests.conftest import FeedServer, write_config

DATA = Path(__file__).parent / "data"
CONTROLS = {"Métier": ("blog-metier.rss", 4), "Vis ma vie": ("vis-ma-vie.atom", 2)}
HOSTILE_FEEDS = 12


@cache
def category_samples() -> dict[str, list[str]]:
    """A few characters of each of Unicode's general categories (Cs: lone surrogates)."""
    rng = random.Random(0)
    samples: dict[str, list[str]] = {}
    for code in [*range(0x300), *rng.sample(range(0x110000), 60_000)]:
        char = chr(code)
        found = samples.setdefault(unicodedata.category(char), [])
        if len(found) < 12:
            found.append(char)
    return samples


class Hostile:
    """Hostile values, drawn from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self) -> str:
        """A string mixing every category, sometimes absurdly long, sometimes empty."""
        rng, samples = self.rng, category_samples()
        kind = rng.random()
        if kind < 0.1:
            return ""
        if kind < 0.2:
            return "Titre " * rng.randint(20_000, 60_000)
        categories = sorted(samples)
        chars = [rng.choice(samples[rng.choice(categories)]) for _ in range(rng.randint(1, 40))]
        words = ["Modération", "&lt;script&gt;alert(1)&lt;/script&gt;", "\u202eevil", "\u200b",
                 "soft\u00adhyphen", "Сommunity"]
        return "".join(chars) + " " + rng.choice(words)

    def name(self) -> str:
        """A name feeds.yaml takes: any visible category, up to its 200 characters."""
        rng, samples = self.rng, category_samples()
        visible = sorted(c for c in samples if c[0] in "LMNPS" or c in ("Zs", "Co"))
        chars = [rng.choice(samples[rng.choice(visible)]) for _ in range(rng.randint(1, 200))]
        return "".join(chars).strip() or "vide"

    def date(self) -> str:
        return self.rng.choice([
            "Mon, 01 Jan 0001 00:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -1200",
            "Sat, 30 Feb 2026 10:00:00 +0200", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-14:00", "1969-12-31T23:59:59Z", "not a date", "",
            "Tue, 10 Jun 2025 08:00:00 +0200", "2025-06-10T08:00:00" + "9" * 400,
        ])

    def link(self) -> str:
        return self.rng.choice([
            "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "/relative/path",
            "https://example.org/" + "a" * 10_000, "https://exa mple.org/", "http://[::1",
            "https://example.org/billet?" + self.text()[:50], "", "https://169.254.169.254/",
        ])

    def html(self) -> str:
        rng = self.rng
        depth = rng.choice([0, 10, 3_000])
        opening = rng.choice(["<p>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                              "<table><tr><td>", "<![CDATA[ ]]>", "<svg><a href='javascript:1'>"])
        return (opening
                + "<div>" * depth + self.text() + "</div>" * rng.randint(0, depth))

    def number(self) -> str:
        return self.rng.choice(["-1", "0", "1" + "0" * 400, "NaN", "1e309", "12", "abc", ""])


def rss_document(hostile: Hostile) -> bytes:
    """An RSS 2.0 document of hostile items, character references standing for what raw
    XML cannot carry, sometimes truncated."""
    rng = hostile.rng

    def ref(value: str) -> str:
        # Lone surrogates and NUL as references: feedparser's problem, not the file's.
        return "".join(f"&#{ord(c)};" if unicodedata.category(c) in ("Cs", "Cc") else c
                       for c in escape(value))

    items = "".join(
        f"<item><title>{ref(hostile.text())}</title><link>{ref(hostile.link())}</link>"
        f"<guid>{ref(hostile.text()[:200]) or n}</guid><pubDate>{ref(hostile.date())}</pubDate>"
        f"<category>{ref(hostile.text()[:300])}</category>"
        f"<author>{ref(hostile.text()[:300])}</author>"
        f'<enclosure url="{ref(hostile.link())}" type="{ref(hostile.text()[:50])}" '
        f'length="{hostile.number()}"/>'
        f"<description>{escape(hostile.html())}</description></item>"
        for n in range(rng.randint(0, 30)))
    document = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{ref(hostile.text())}</title><link>{ref(hostile.link())}</link>"
                f"<language>{ref(hostile.text()[:40])}</language><ttl>{hostile.number()}</ttl>"
                f"{items}</channel></rss>").encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        document = document[: rng.randint(0, len(document))]
    return document


def json_document(hostile: Hostile) -> bytes:
    """A JSON Feed of hostile items: wrong types, lone surrogates, NUL in every string."""
    rng = hostile.rng

    def value() -> object:
        return rng.choice([hostile.text(), hostile.text() + "\x00", None, 12, [hostile.text()],
                           {"a": hostile.text()}, True, hostile.link(), hostile.date()])

    items = [{"id": rng.choice([hostile.text()[:100], "\x00id", 7, None, "\ud800"]),
              "url": rng.choice([hostile.link(), value()]), "title": value(),
              "content_html": rng.choice([hostile.html(), value()]),
              "date_published": rng.choice([hostile.date(), value()]),
              "authors": rng.choice([[{"name": value()}], value()]),
              "tags": rng.choice([[hostile.text()[:200], value()], value()]),
              "attachments": [{"url": hostile.link(), "mime_type": value(),
                               "size_in_bytes": rng.choice([10**400, -5, "x", 12])}]}
             for _ in range(rng.randint(0, 30))]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": value(),
            "home_page_url": value(), "language": value(),
            "items": rng.choice([items, items, {"not": "a list"}])}
    return json.dumps(feed, ensure_ascii=False).encode("utf-8", "surrogatepass")


def serve_round(server: FeedServer, seed: int) -> list[dict[str, object]]:
    """Hostile feeds at fixed addresses (this round's documents) and the control feeds."""
    hostile = Hostile(seed)
    feeds: list[dict[str, object]] = []
    for n in range(HOSTILE_FEEDS):
        make = json_document if n % 2 else rss_document
        headers = {"Retry-After": hostile.number(), "Cache-Control": f"max-age={hostile.number()}"}
        url = server.set(f"/hostile/{n}", make(hostile), headers=headers)
        tags = [hostile.name(), "C++", "C#", "Соцсети"]
        feeds.append({"name": f"Hostile {n} {chr(0x4E00 + n)}", "url": url, "tags": tags})
    for name, (file, _) in CONTROLS.items():
        feeds.append({"name": name, "url": server.serve_file(file), "tags": ["C++"]})
    return feeds


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=600, check=False)


def stored_counts(config: Path) -> Counter[str]:
    """Entries stored by feed, copies too, in the database beside `config`."""
    store = Store.open(f"sqlite:///{config.parent / 'fuzz.db'}")
    try:
        return Counter(str(entry["feed"]["name"]) for entry in store.export_entries())
    finally:
        store.close()


def assert_outputs_well_formed(output: Path) -> None:
    parser = etree.XMLParser(recover=False, resolve_entities=False)
    for path in output.rglob("*"):
        if path.suffix in (".xml", ".opml"):
            etree.parse(str(path), parser)
        elif path.suffix == ".json":
            json.loads(path.read_text("utf-8"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_documents_go_through_fetch_render_and_status(seed: int, tmp_path: Path) -> None:
    server = FeedServer()
    try:
        config = write_config(tmp_path, serve_round(server, seed),
                              database=str(tmp_path / "fuzz.db"), output_dir=str(tmp_path / "out"),
                              language="en")
        for args in (["fetch"], ["render"], ["status"]):
            result = run(config, *args)
            assert result.returncode == 0, (args, result.stderr[-2000:])
            assert "Traceback" not in result.stdout + result.stderr, (args, result.stderr[-3000:])
        first = stored_counts(config)
        for name, (_, entries) in CONTROLS.items():
            assert first[name] == entries, (name, first)
        assert_outputs_well_formed(tmp_path / "out")
        serve_round(server, seed + 1000)  # other hostile documents at the same addresses
        for args in (["fetch", "--force"], ["render"], ["status"]):
            result = run(config, *args)
            assert result.returncode == 0, (args, result.stderr[-2000:])
            assert "Traceback" not in result.stdout + result.stderr, (args, result.stderr[-3000:])
        second = stored_counts(config)
        assert all(second[name] >= count for name, count in first.items()), (first, second)
        assert_outputs_well_formed(tmp_path / "out")
    finally:
        server.close()


def hostile_settings(hostile: Hostile) -> Iterator[Callable[[str], str]]:
    """Edits of a good feeds.yaml, each making one generated mistake."""
    rng = hostile.rng
    keys = ["poll_interval", "timeout", "retention", "feed_entries", "max_size", "concurrency",
            "per_host", "timezone", "language", "digest_time", "keep_per_feed", "title"]
    values = ["-1", "0", "1" + "0" * 40, "99999999d", "1e309", "[1, 2]", "{a: 1}", "'\x07'",
              "'Europe/Nowhere'", "'25:99'", "~", "'" + "x" * 5000 + "'", "!!binary AAAA"]
    for _ in range(12):
        key, value = rng.choice(keys), rng.choice(values)
        yield lambda text, key=key, value=value: text.replace("settings:\n",
                                                              f"settings:\n  {key}: {value}\n", 1)
    bad_names = ["''", "'" + "n" * 300 + "'", "'a\x01b'", "'\u2028'", "   ", "[x]"]
    for name in rng.sample(bad_names, 4):
        yield lambda text, name=name: text.replace("name: Gros", f"name: {name}", 1)
    yield lambda text: text.replace("feeds:", "feeds: {", 1)  # not YAML any more
    yield lambda text: text + "\n\x00"


@pytest.fixture(scope="module")
def stored_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzz-config")
    server = FeedServer()
    try:
        feeds = [{"name": "Gros", "url": server.serve_file("blog-metier.rss")}]
        config = write_config(folder, feeds, database=str(folder / "fuzz.db"),
                              output_dir=str(folder / "out"))
        assert run(config, "fetch").returncode == 0
    finally:
        server.close()
    yield folder


@pytest.mark.parametrize("seed", [11, 12])
def test_generated_config_mistakes_give_one_line_and_keep_the_store(
        seed: int, stored_folder: Path) -> None:
    config = stored_folder / "feeds.yaml"
    good = config.read_text("utf-8")
    before = stored_counts(config)
    try:
        for edit in hostile_settings(Hostile(seed)):
            config.write_text(edit(good), "utf-8", errors="surrogatepass")
            for args in (["status"], ["render"]):
                result = run(config, *args)
                assert "Traceback" not in result.stdout + result.stderr, (edit(good)[:300], args,
                                                                          result.stderr[-2000:])
                if result.returncode != 0:
                    lines = [line for line in result.stderr.splitlines() if line.strip()]
                    assert len(lines) == 1, (edit(good)[:300], result.stderr)
            assert stored_counts(config) == before
    finally:
        config.write_text(good, "utf-8")


if __name__ == "__main__":  # python -m tests.test_fuzz SEED: one round's documents, to look at
    hostile = Hostile(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    sys.stdout.buffer.write(rss_document(hostile)[:4000] + b"\n" + json_document(hostile)[:4000])
