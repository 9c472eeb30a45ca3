"""Time of building the search index (Pagefind bundles) over the day pages of N articles.

    .venv/bin/python benchmarks/search_index.py                    (2,000 and 200,000)
    .venv/bin/python benchmarks/search_index.py --entries 2000 20000
    .venv/bin/python benchmarks/search_index.py --keep /tmp/sites   (pages kept, reused)

For each N, day pages of PER_DAY articles each (25 blogs, 5 tags, French excerpts of
about 50 words from a fixed vocabulary, seeded) are written with the render's own view
models and templates into a temporary folder, the newest on December 31 (the newest
half-month bundle then holds 16 days, its most). Then, timed: search.build_index builds
every bundle (a first render); today's page is written again with 100 other articles
and search.update_index rebuilds what changed, as a render after 100 new entries does
(the median of 5; its CPU time is Pagefind's and this process's); a page of January 1
is added and update_index folds the year (once a year). Then, when /usr/bin/chromium
and Playwright are there, search.html is opened over http with each of QUERIES and
the bytes of the index files each fetched are added up: what one search costs a reader
(until its first results, or until it says none: a reader asks for older ones).
"comptoir" is rare but begins as "communauté", on every page, does: it is on the first
article of one day in RARE_EVERY (a few days of a few bundles).
Prints a Markdown table (the figures of benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import functools
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from jinja2 import Environment  # noqa: E402

from aggregator.config.load import Settings  # noqa: E402
from aggregator.models import StoredEntry  # noqa: E402
from aggregator.publish import search  # noqa: E402
from aggregator.publish.digest import build_day_page  # noqa: E402
from aggregator.publish.environment import make_environment  # noqa: E402
from aggregator.publish.output import Writer  # noqa: E402
from aggregator.publish.render import _common_context, render_day_page  # noqa: E402

PER_DAY = 100  # a busy day, on one page (digest.PAGE_SIZE)
LAST_DAY = date(2026, 12, 31)
WORDS = ("communauté", "communautés", "modération", "réseaux", "sociaux", "contenu",
         "éditorial", "stratégie", "l’engagement", "audience", "marque", "conversation",
         "veille", "outil", "publication", "abonnés", "algorithme", "pratiques", "données",
         "mesure", "influence", "hashtag", "œuvre", "réponse", "commentaire", "crise",
         "calendrier", "ligne", "ton", "humour", "métier", "de", "la", "les", "une", "pour",
         "avec", "sur", "qui", "que", "dans", "des", "plus", "leurs", "chaque", "semaine")
# Searched in Chromium: on every page, on none, rare with a common beginning, on none
# with a common beginning.
QUERIES = ("communautés", "xylophone", "comptoir", "compote")
RARE, RARE_EVERY = "comptoir", 97
TAGS = ("community management", "modération", "réseaux sociaux", "outils", "métier")


def entries_of(day: date, rng: random.Random) -> list[StoredEntry]:
    """PER_DAY articles of `day`, from 25 blogs."""
    noon = datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
    made = []
    for n in range(PER_DAY):
        blog = f"Blog numéro {n % 25}"
        text = " ".join(rng.choice(WORDS) for _ in range(50)).capitalize() + "."
        title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
        if n == 0 and day.toordinal() % RARE_EVERY == 0:  # no draw: the rest unchanged
            text = f"Au {RARE}, {text}"  # first: the card shows 200 characters
        when = noon + timedelta(minutes=n)
        made.append(StoredEntry(
            feed_name=blog, feed_title=blog, feed_url=f"https://b{n % 25}.example/feed",
            site_url=f"https://b{n % 25}.example/", tags=(TAGS[n % 25 % len(TAGS)],),
            identity=f"{day}-{n}", title=title, link=f"https://b{n % 25}.example/{day}/{n}",
            author=None, published=when, updated=None, first_seen=when, dated=when,
            changed=when, content=text, summary=text, excerpt=text))
    return made


@functools.cache
def _templates(root: Path) -> tuple[Settings, Environment, dict[str, Any]]:
    """The settings, templates and common context of a site in `root`."""
    settings = Settings(database="sqlite://", output_dir=root, language="fr")
    return settings, make_environment(language="fr"), _common_context(settings)


def write_day(root: Path, day: date, rng: random.Random,
              neighbours: tuple[date | None, date | None] = (None, None)) -> int:
    """The page of `day` with PER_DAY articles; returns its bytes."""
    settings, env, common = _templates(root)
    page = build_day_page(day, entries_of(day, rng), settings, *neighbours)
    html = render_day_page(env, page, common).encode("utf-8")
    (root / page.path).parent.mkdir(parents=True, exist_ok=True)
    (root / page.path).write_bytes(html)
    return len(html)


def write_pages(root: Path, count: int) -> tuple[int, int]:
    """The day pages of `count` articles; returns how many pages and their bytes."""
    _settings, env, common = _templates(root)
    rng = random.Random(count)
    days = [LAST_DAY - timedelta(days=n) for n in range(-(-count // PER_DAY))]
    size = 0
    for index, day in enumerate(days):
        neighbours = (days[index + 1] if index + 1 < len(days) else None,
                      days[index - 1] if index else None)
        size += write_day(root, day, rng, neighbours)
    search.write_search_page(env, Writer(root), common)
    return len(days), size


def fetched_for_one_search(root: Path, words: str = "communautés") -> int | None:
    """Bytes of the index files search.html fetches to show the results for `words`."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not chromium.is_file():
        return None
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sizes: dict[str, int] = {}
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(chromium),
                                             args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()))
                    if "/pagefind/" in r.url else None)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/search.html?q={words}")
            page.wait_for_function(
                "document.querySelector('.search-result') || document.getElementById("
                "'search-status').textContent === document.getElementById("
                "'search-status').dataset.none", timeout=120_000)
            page.wait_for_load_state("networkidle")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return sum(sizes.values())


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def folder_size(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


def timed(step: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    done = step(*args)
    return time.perf_counter() - started, done


def after_new_entries(root: Path, deadline: float,
                      times: int = 5) -> tuple[float, float, Any]:
    """The median time, and the median CPU time (Pagefind's and this process's), of
    update_index after today's page is written again with 100 other articles, `times`
    over (the machine is shared: one wall-clock time says little)."""
    measured = []
    for salt in range(times):
        write_day(root, LAST_DAY, random.Random(-salt))
        before = _children_cpu() + time.process_time()
        wall, rebuilt = timed(search.update_index, root, deadline)
        measured.append((wall, _children_cpu() + time.process_time() - before, rebuilt))
    return (statistics.median(row[0] for row in measured),
            statistics.median(row[1] for row in measured), measured[-1][2])


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(count: int, deadline: float, keep: Path | None = None) -> str:
    """One row of the table, for `count` articles; with `keep`, the site is built in
    `keep`/`count` and kept, and its day pages are reused when already there."""
    with tempfile.TemporaryDirectory(prefix="search-bench-") as folder:
        root = Path(folder) if keep is None else keep / str(count)
        if keep is not None and (root / search.SEARCH_PAGE).is_file():
            (root / "digest" / f"{LAST_DAY + timedelta(days=1)}.html").unlink(missing_ok=True)
            pages = len(list((root / "digest").glob("*.html")))
            written, html = 0.0, folder_size(root / "digest")
            _settings, env, common = _templates(root)
            search.write_search_page(env, Writer(root), common)  # this version's
        else:
            written, (pages, html) = timed(write_pages, root, count)
        full, bundles = timed(search.build_index, root, deadline)
        today, cpu, rebuilt = after_new_entries(root, deadline)
        # ru_maxrss of the children: the largest, Pagefind's (in KiB on Linux).
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = folder_size(root / search.INDEX_FOLDER)
        fetched = [fetched_for_one_search(root, words) for words in QUERIES]
        one = " | ".join("(no Chromium)" if bytes_ is None else f"{bytes_ / 1e3:.0f}"
                         for bytes_ in fetched)
        write_day(root, LAST_DAY + timedelta(days=1), random.Random(count))
        folded, refolded = timed(search.update_index, root, deadline)
        return (f"| {count:,} | {pages:,} | {html / 1e6:.1f} | {written:.1f} | "
                f"{len(bundles)} | {full:.2f} | "
                f"{today:.2f} ({cpu:.2f} CPU; {', '.join(rebuilt)}) | "
                f"{folded:.2f} ({', '.join(refolded)}) | {peak:.0f} | {size / 1e6:.1f} | "
                f"{one} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[2_000, 200_000])
    parser.add_argument("--deadline", type=float, default=3600.0, help="seconds per bundle")
    parser.add_argument("--keep", type=Path, help="build the sites in KEEP/<entries> and "
                        "keep them; day pages already there are reused")
    args = parser.parse_args()
    print("| entries | day pages | HTML MB | page writing s | bundles | first index s "
          "| index after 100 new entries today s | New Year fold s | Pagefind peak MB "
          "| index MB | " + " | ".join(f'fetched for "{words}" KB' for words in QUERIES) + " |")
    print("| --- " * (10 + len(QUERIES)) + "|")
    for count in args.entries:
        print(measure(count, args.deadline, args.keep), flush=True)


if __name__ == "__main__":
    main()
