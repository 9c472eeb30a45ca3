"""Copy a deterministic subset of the shared feed corpus into tests/data/corpus.

The full corpus (../shared/corpus, about 22 MB) lives outside the repository; the
subset (under 4 MB) is committed so that tests/test_corpus.py runs in a plain clone.
Run again after the corpus changes; the destination is rebuilt from scratch:

    .venv/bin/python benchmarks/copy_corpus_subset.py [--source DIR] [--dest DIR]
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "corpus"
DEFAULT_DEST = REPO / "tests" / "data" / "corpus"

FOLDERS = ("feedparser-tests", "feedvalidator-testcases", "real-world")
NOTES = {  # folder notes kept next to the data, as the corpus README asks
    "feedparser-tests": ("LICENSE-NOTE.txt",),
    "feedvalidator-testcases": ("SOURCES.txt",),
    "real-world": ("SOURCES.txt", "MANIFEST.tsv"),
}
LICENSES = (
    "feedparser-LICENSE.txt", "feedvalidator-LICENSE.txt", "feedjira-LICENSE.txt",
    "rss-parser-LICENSE.txt", "node-feedparser-LICENSE.txt", "RSParser-LICENSE.txt",
    "laminas-feed-LICENSE.md",
)
ORIGINS = {  # folder: (source, licence) for the README table
    "feedparser-tests": ("kurtmckee/feedparser @ `a22c552`, `tests/`",
                         "BSD-2-Clause, `licenses/feedparser-LICENSE.txt`"),
    "feedvalidator-testcases": ("w3c/feedvalidator @ `43dabeb`, `testcases/`",
                                "MIT, `licenses/feedvalidator-LICENSE.txt`"),
    "real-world": ("feedjira, rss-parser, node-feedparser, RSParser, laminas-feed "
                   "(see `real-world/SOURCES.txt`)", "MIT / BSD-3-Clause, `licenses/`"),
}
WELLFORMED_KEEP_ALL = ("sanitize", "base")
WELLFORMED_STEP = 5
FEEDVALIDATOR_STEP = 4
REAL_WORLD_MAX_FILE = 150_000
DATA_BUDGET = 3_850_000  # bytes of feed documents in all three folders

# real-world files always copied: the robustness cases the corpus README names,
# and blog feeds the test expects entries from.
REAL_WORLD_REQUIRED = (
    "rsparser/allthis-partial.json",  # truncated JSON
    "node-feedparser/iconv.xml",  # windows-1251
    "rss-parser/encoding.rss",  # ISO-8859-1, declared
    "rss-parser/uolNoticias.rss",  # Latin-1 without a declaration
    "node-feedparser/guid-dupes.xml",
    "node-feedparser/mediacontent-dupes.xml",
    "rsparser/DaringFireball.atom",
    "rsparser/DaringFireball.json",
    "node-feedparser/rss-with-relative-html-urls-no-base.xml",
    "node-feedparser/rss-with-relative-html-urls.xml",
    "node-feedparser/rss-with-relative-urls-with-absolute-xmlurl.xml",
    "node-feedparser/rss-with-relative-urls.xml",
    "node-feedparser/tpm-with-empty-base.atom",
    "node-feedparser/tpm-with-fragment-base.atom",
    "laminas-feed/wordpress-atom10.xml",  # WordPress, Atom
    "laminas-feed/wordpress-rss2-dc-atom.xml",  # WordPress, RSS 2.0
    "feedjira-2009/AdamBitscribe.xml",  # WordPress 2009, Atom
    "feedjira-2009/PragmaticTheory.xml",  # Blogger 2009, Atom
)


def data_files(folder: Path) -> list[Path]:
    """The feed documents of one corpus folder (notes left out), sorted by path."""
    notes = set(NOTES.get(folder.name, ()))
    return sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.name not in notes),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def select_feedparser(folder: Path) -> list[Path]:
    """illformed/ and encoding/ whole; wellformed/sanitize and base whole, every 5th other."""
    chosen, others = [], []
    for path in data_files(folder):
        parts = path.relative_to(folder).parts
        whole = parts[0] in ("illformed", "encoding") or (
            parts[0] == "wellformed" and parts[1] in WELLFORMED_KEEP_ALL)
        if whole:
            chosen.append(path)
        elif parts[0] == "wellformed":
            others.append(path)
    return sorted(chosen + others[::WELLFORMED_STEP])


def select_feedvalidator(folder: Path) -> list[Path]:
    """Every 4th file, sorted by path."""
    return data_files(folder)[::FEEDVALIDATOR_STEP]


def select_real_world(folder: Path, budget: int) -> list[Path]:
    """The named cases, then the other files under 150 KB, smallest first, within `budget`."""
    chosen = [
        p for p in data_files(folder)
        if p.parts[-2] == "not-a-feed" or p.name.endswith(".gz")
    ]
    chosen += [folder / name for name in REAL_WORLD_REQUIRED]
    used = sum(p.stat().st_size for p in chosen)
    rest = sorted(
        (p for p in data_files(folder)
         if p not in chosen and p.stat().st_size < REAL_WORLD_MAX_FILE),
        key=lambda p: (p.stat().st_size, p.relative_to(folder).as_posix()),
    )
    for path in rest:
        if used + path.stat().st_size > budget:
            break
        chosen.append(path)
        used += path.stat().st_size
    return sorted(set(chosen))


def copy_files(source: Path, dest: Path, files: Iterable[Path]) -> None:
    """Copy bytes only (the shared corpus is read-only; the copies must stay writable)."""
    for path in files:
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def write_manifest(source: Path, dest: Path, chosen: list[Path]) -> None:
    """real-world/MANIFEST.tsv restricted to the copied files (header kept)."""
    names = {p.relative_to(source / "real-world").as_posix() for p in chosen}
    lines = (source / "real-world" / "MANIFEST.tsv").read_text("utf-8").splitlines(True)
    kept = [line for line in lines if line.startswith("#") or line.split("\t")[0] in names]
    (dest / "real-world" / "MANIFEST.tsv").write_text("".join(kept), "utf-8")


def build(source: Path, dest: Path) -> dict[str, list[Path]]:
    """Rebuild `dest` from `source`; returns the copied feed documents per folder."""
    for name in (*FOLDERS, "licenses"):
        shutil.rmtree(dest / name, ignore_errors=True)
    picked = {
        "feedparser-tests": select_feedparser(source / "feedparser-tests"),
        "feedvalidator-testcases": select_feedvalidator(source / "feedvalidator-testcases"),
    }
    used = sum(p.stat().st_size for files in picked.values() for p in files)
    picked["real-world"] = select_real_world(source / "real-world", DATA_BUDGET - used)
    for folder, files in picked.items():
        copy_files(source, dest, files)
        notes = [source / folder / n for n in NOTES[folder] if n != "MANIFEST.tsv"]
        copy_files(source, dest, notes)
    write_manifest(source, dest, picked["real-world"])
    copy_files(source, dest, [source / "licenses" / name for name in LICENSES])
    (dest / "README.md").write_text(readme(source, picked), "utf-8")
    return picked


def _count(files: list[Path]) -> str:
    return f"{len(files):,} | {sum(p.stat().st_size for p in files):,}"


def readme(source: Path, picked: dict[str, list[Path]]) -> str:
    """tests/data/corpus/README.md: what was copied, from where, why, under which licence."""
    all_files = [p for folder in FOLDERS for p in picked[folder]]
    rows = "\n".join(
        f"| `{folder}/` | {_count(picked[folder])} | {origin} | {licence} |"
        for folder, (origin, licence) in ORIGINS.items()
    )
    return f"""\
# Robustness corpus (subset)

A deterministic subset of the feed test corpus of the development workspace
(`../shared/corpus/`, 4,146 files, 21.9 MB; see its README), committed so that
`tests/test_corpus.py` runs in a clone that has no `../shared`. Every file is a
byte-for-byte copy; the relative paths are kept. Rebuild it with

    .venv/bin/python benchmarks/copy_corpus_subset.py

(which deletes and rewrites the folders below and this README). The full corpus is
exercised by `benchmarks/corpus_run.py`.

| folder | files | bytes | source | licence |
|---|---:|---:|---|---|
{rows}
| total | {_count(all_files)} | | |

Folder notes copied unchanged: `feedparser-tests/LICENSE-NOTE.txt`,
`feedvalidator-testcases/SOURCES.txt`, `real-world/SOURCES.txt` (their file counts
describe the full folders, not this subset). `real-world/MANIFEST.tsv` keeps only the
lines of the copied files. `licenses/` holds the full licence text of every source
repository of these files; keep it and the notes with the data when redistributing.
The copyright in real-world feed *content* belongs to the original publishers.

## How the subset was chosen (paths sorted as POSIX strings)

* `feedparser-tests/`: all of `illformed/` and `encoding/`; all of `wellformed/sanitize/`
  and `wellformed/base/`; every {WELLFORMED_STEP}th of the other `wellformed/` files
  (the 1st, 6th, 11th ...). `entities/` and `json/` are left out.
* `feedvalidator-testcases/`: every {FEEDVALIDATOR_STEP}th file of the whole folder.
* `real-world/`: the `not-a-feed/` HTML pages, the gzip bodies (`*.xml.gz`), the truncated
  JSON (`rsparser/allthis-partial.json`), the encoding cases (`node-feedparser/iconv.xml`,
  `rss-parser/encoding.rss`, `rss-parser/uolNoticias.rss`), the de-dup and relative-URL
  cases named in the corpus README (without the 169 KB `DaringFireball.rss`) and four
  WordPress/Blogger blog feeds; then the other files under {REAL_WORLD_MAX_FILE:,} bytes,
  smallest first, until the three folders hold {DATA_BUDGET:,} bytes of feed documents.
  Large feeds (e.g. the 1.6 MB `giantbomb-podcast.rss`) are only in the full corpus.

## Serving them (what the test does)

Content-Type by extension (`.atom` application/atom+xml, `.rss` application/rss+xml,
`.json` application/feed+json, `.xml`/`.rdf` application/xml, `.html` text/html);
`*.xml.gz` sent as they are with `Content-Encoding: gzip`; for `feedparser-tests` files
whose path contains `http`, the `Header: Name: value` lines of the leading comment are
sent as response headers (text/xml when they give no Content-type).
"""


def main() -> None:
    """Command line: rebuild the subset and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    args = parser.parse_args()
    if not (args.source / "README.md").is_file():
        parser.error(f"no corpus at {args.source}")
    picked = build(args.source, args.dest)
    everything = [p for p in args.dest.rglob("*") if p.is_file()]
    for folder, files in picked.items():
        print(f"{folder}: {_count(files).replace(' | ', ' files, ')} bytes")
    total = sum(p.stat().st_size for p in everything)
    print(f"{args.dest}: {len(everything):,} files, {total / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
