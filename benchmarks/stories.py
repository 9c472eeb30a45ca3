"""CPU time of finding a day's stories told by several blogs ("À la une") over a
3-day window of N articles (default 2,000 and 10,000), optionally against the stories
module of an earlier commit in the same process, on the same articles.

The articles are the stored excerpts (60 words) pages and newsletters see, made from the
French text bundled with the project, so that most are unrelated and some tell the same
news:

  ordinary      a title of aggregator/demo/text/titles.txt and four sentences of its
                paragraphs.txt (the same tag), with a person, a brand and a town of
                their own (names are what stories are paired on), on a random blog
  stories       one in ten articles: a news item of tests/data/stories or of the demo's
                stories.txt, about a brand of its own, told by 2 to 5 blogs each in a
                templated near-copy (sentences dropped or swapped, words replaced)

    .venv/bin/python benchmarks/stories.py [--articles 2000 10000] [--against REV]

With --against, both modules must find the same stories (titles and articles, in order).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aggregator.demo.week import sections  # noqa: E402
from aggregator.poll.clean import make_excerpt  # noqa: E402
from aggregator.publish import stories  # noqa: E402


def _listed(words: str) -> list[str]:
    return words.split()


START = datetime(2026, 3, 8, tzinfo=UTC)
END = START + timedelta(days=3)
FIRST = _listed("Camille Julien Léa Hugo Inès Thomas Chloé Lucas Manon Nathan Sarah Louis Emma "
                "Arthur Jade Paul Lina Théo Zoé Jules Alice Hélène Karim Yasmine Mehdi")
LAST = _listed("Martin Bernard Dubois Lefèvre Moreau Laurent Garnier Faure Rousseau Blanc Guerin "
               "Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Benali Nguyen "
               "Diallo Fontaine Chevalier")
TOWNS = _listed("Lyon Nantes Lille Rennes Bordeaux Grenoble Toulouse Dijon Brest Annecy Metz "
                "Angers Nancy Tours Limoges Rouen Caen Nîmes Pau Bayonne Besançon Poitiers")
SYLLABLES = _listed("ka lo mi ra zen vo ti bra nu sel pa dor fi que mar lu ve no sto gri bel cor "
                    "da ju lan pe ros tu vi gal")
# What a blog changes when it retells a news item in its own words.
SWAPS = {"désormais": "dorénavant", "permet": "autorise", "nouvelle": "inédite",
         "annoncé": "confirmé", "aussi": "également", "pour": "afin de servir",
         "mais": "toutefois", "les marques": "les annonceurs", "surtout": "notamment"}
TEMPLATES = ("{person}, chez {brand} à {town}, en a fait l’expérience cette semaine.",
             "Chez {brand}, {person} le constate tous les jours depuis {town}.",
             "C’est ce que raconte {person}, qui anime la communauté de {brand} à {town}.")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _sources() -> tuple[dict[str, tuple[list[str], list[str]]], list[tuple[str, list[str]]]]:
    """The demo's titles and sentences by tag, and the news items (a title and sentences)."""
    titles, paragraphs = sections("titles.txt"), sections("paragraphs.txt")
    by_tag = {tag: ([line for block in titles[tag] for line in block],
                    [s for block in paragraphs[tag] for line in block
                     for s in _sentences(line)]) for tag in titles}
    items = json.loads((HERE.parent / "tests/data/stories/articles.json").read_text("utf-8"))
    news = [(i["title"], _sentences(i["text"])) for i in items]
    news += [(block[0], [s for line in block[1:] for s in _sentences(line)])
             for name, blocks in sections("stories.txt").items() if name.startswith("story")
             for block in blocks]
    return by_tag, news


def _brand(rng: random.Random) -> str:
    return "".join(rng.sample(SYLLABLES, 3)).capitalize()


def _names(rng: random.Random) -> dict[str, str]:
    return {"person": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "brand": _brand(rng),
            "town": rng.choice(TOWNS)}


def _retold(sentences: list[str], rng: random.Random) -> list[str]:
    """A news item in another blog's words: a sentence or two dropped, two swapped,
    some words replaced."""
    kept = [s for s in sentences if rng.random() > 0.2] or sentences[:3]
    if len(kept) > 2:
        a, b = rng.sample(range(len(kept)), 2)
        kept[a], kept[b] = kept[b], kept[a]
    text = " ".join(kept)
    for word, other in SWAPS.items():
        if rng.random() < 0.5:
            text = text.replace(word, other)
    return _sentences(text)


def make_articles(count: int, seed: int = 22) -> list[stories.Article]:
    """`count` articles of a 3-day window: unrelated ones and stories of 2 to 5 blogs."""
    rng = random.Random(seed)
    by_tag, news = _sources()
    blogs = [f"blog-{n}" for n in range(max(count // 4, 10))]
    made: list[tuple[str, str, str]] = []  # (blog, title, text)
    while len(made) < count * 9 // 10:
        titles, sentences = by_tag[rng.choice(sorted(by_tag))]
        names = _names(rng)
        text = rng.sample(sentences, 4)
        text.insert(rng.randrange(4), rng.choice(TEMPLATES).format(**names))
        made.append((rng.choice(blogs), f"{rng.choice(titles)} ({names['brand']})",
                     " ".join(text)))
    while len(made) < count:
        title, sentences = rng.choice(news)
        names = _names(rng)
        for blog in rng.sample(blogs, min(rng.randint(2, 5), count - len(made))):
            told = _retold(sentences, rng)
            told.insert(1, rng.choice(TEMPLATES).format(**names))
            made.append((blog, f"{title} : {names['brand']}", " ".join(told)))
    rng.shuffle(made)
    span = int((END - START).total_seconds())
    return [stories.Article(n, blog, title, f"https://{blog}.example/{n}",
                            make_excerpt(text), START + timedelta(seconds=rng.randrange(span)))
            for n, (blog, title, text) in enumerate(made)]


def _module_at(revision: str) -> ModuleType:
    """aggregator/publish/stories.py as it was at `revision`, imported on its own."""
    source = subprocess.run(["git", "show", f"{revision}:aggregator/publish/stories.py"],
                            cwd=HERE.parent, check=True, capture_output=True, text=True)
    spec = importlib.util.spec_from_loader(f"stories_{revision}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source.stdout, f"{revision}:stories.py", "exec"), module.__dict__)
    return module


def _timed(module: ModuleType, articles: Sequence[stories.Article]
           ) -> tuple[float, float, list[tuple[str, tuple[int, ...]]]]:
    """CPU and wall seconds of finding every story (not only a page's first few)."""
    made: Callable[..., Any] = module.Article
    own = [made(a.id, a.blog, a.title, a.link, a.text, a.dated) for a in articles]
    module.MAX_STORIES = len(own)
    cpu, wall = time.process_time(), time.perf_counter()
    found = module.top_stories(own, START, END)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu, wall, [(s.title, tuple(a.id for a in s.articles)) for s in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--against", metavar="REV", help="an earlier commit to compare with")
    arguments = parser.parse_args()
    before = _module_at(arguments.against) if arguments.against else None
    print("| articles | stories | CPU s | wall s |" + (" CPU s before | ratio | same |"
                                                      if before else ""))
    print("| --- | --- | --- | --- |" + (" --- | --- | --- |" if before else ""))
    for count in arguments.articles:
        articles = make_articles(count)
        stories._word.cache_clear()  # each size from a cold start
        cpu, wall, found = _timed(stories, articles)
        row = f"| {count:,} | {len(found)} | {cpu:.2f} | {wall:.2f} |"
        if before:
            old_cpu, _, old_found = _timed(before, articles)
            row += f" {old_cpu:.2f} | {old_cpu / cpu:.1f} | {old_found == found} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
