"""Whole-article extraction throughput, in pages per second on one core (issue 24).

    PYTHONPATH=$PWD python benchmarks/extract.py [N]    (default 200 pages)

The pages are built from the five samples by tests/data/articles/build.py, each post on
a WordPress or a Blogger page whose furniture (plugins, comments, sidebar widgets and
their order, images lazy or not, cookie banner) a seeded random generator varies: N
different pages, not N copies of one. One process, one thread; the first page is
extracted once before timing (trafilatura loads its tables on first use). Each page's
result is also checked as the fixture tests check theirs, and the misses are counted.
"""

from __future__ import annotations

import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "articles"))

import build  # noqa: E402  (the fixture builder, beside its pages)

from aggregator.fulltext.extract import extract_article  # noqa: E402


def make_pages(count: int) -> list[tuple[bytes, str, dict[str, object]]]:
    """`count` pages: (bytes, address, what extracting it must give)."""
    posts = build.load_posts()
    titles = [post.title for post in posts.values()]
    pages = []
    for i in range(count):
        _, key, theme, base = build.ARTICLES[i % len(build.ARTICLES)]
        post, rng = posts[key], random.Random(f"bench-{i}")
        theme = theme if rng.random() < 0.8 else ("blogger" if theme == "wordpress" else
                                                  "wordpress")
        html = build.article_page(post, theme, base, rng, rng.sample(titles, len(titles)))
        pages.append((html.encode(), build.page_url(post, theme, base),
                      build.expected(post, html)))
    return pages


def misses(found: object, expected: dict[str, object]) -> list[str]:
    """What the result of one page lacks or has too much of, by the fixture tests' rules."""
    text = getattr(found, "text", "")
    wrong = [f"first: {expected['first']!s:.30}"] if expected["first"] not in text else []
    wrong += [f"last: {expected['last']!s:.30}"] if expected["last"] not in text else []
    return wrong + [f"furniture: {s}" for s in expected["absent"] if s in text]  # type: ignore[attr-defined]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    pages = make_pages(count)
    extract_article(pages[0][0], pages[0][1])
    wall, cpu = time.perf_counter(), time.process_time()
    results = [extract_article(page, url) for page, url, _ in pages]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    wrong = [(i, miss) for i, ((_, _, expected), found)
             in enumerate(zip(pages, results, strict=True)) for miss in misses(found, expected)]
    size = sum(len(page) for page, _, _ in pages) / count / 1024
    print(f"{count} pages (mean {size:.1f} KiB), {len({p for p, _, _ in pages})} distinct; "
          f"Python {platform.python_version()}")
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s: {count / cpu:.1f} pages/s per core "
          f"({1000 * cpu / count:.1f} ms a page)")
    print(f"pages with a miss: {len({i for i, _ in wrong})} of {count}")
    for i, miss in wrong[:20]:
        print(f"  page {i}: {miss}")


if __name__ == "__main__":
    main()
