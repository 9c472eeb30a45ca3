"""What Pagefind is fed, and the word filter that lets search.html skip bundles.

French elisions: Pagefind splits "d'engagement" (ASCII apostrophe) into its parts but
keeps "l’engagement" (U+2019) whole, so a search for "engagement" missed it. The
index is built from copies of the day pages whose elision apostrophes are ASCII; the
pages themselves keep their typography.

The filter: for each first character of a word, which bundles hold which 3-character
beginnings ("prefixes") of words, one small file per first character in
`pagefind/prefixes/`. Pagefind matches a stemmed search word against the beginnings
of the indexed (stemmed) words, and French stemming only cuts a word's end, so a
bundle none of whose words begins as a search word does can be skipped without
fetching it. The prefixes come from all the text of the pages, a superset of what
Pagefind indexes: a filter may open a bundle for nothing, never skip one that matches.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Mapping
from html import unescape
from pathlib import Path

# The folder of the filter's files in pagefind/, and a bundle's prefixes in its folder.
PREFIXES = "prefixes"
BUNDLE_PREFIXES = "prefixes.txt"
# How many first characters of a word the filter keeps (search.html knows it too).
LENGTH = 3
# The French words elided before an apostrophe: l’, d’, qu’… search.html puts the
# typographic apostrophe back after them in the titles and excerpts of its results.
ELIDED = "c|d|j|l|m|n|s|t|qu|jusqu|lorsqu|puisqu|quoiqu"
# An elided word at the end of a text (of its last 7 characters: one more than the
# longest, so that ^ is the text's start).
ELIDED_END = re.compile(rf"(?:^|\W)(?:{ELIDED})$", re.IGNORECASE)
WORD = re.compile(r"\w+")
TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.DOTALL | re.IGNORECASE)


def for_index(html: str) -> str:
    """The text of a day page as Pagefind is fed it: elision apostrophes made ASCII."""
    parts = html.split("’")  # faster than one regular expression over the whole page
    made = [parts[0]]
    for before, after in itertools.pairwise(parts):
        elided = ELIDED_END.search(before[-7:]) and WORD.match(after[:1])
        made += ["'" if elided else "’", after]
    return "".join(made)


def fold(text: str) -> str:
    """`text` without its accents (any Unicode mark), in lower case: as search.html
    folds a search word (normalize("NFD"), without \\p{M}, toLowerCase())."""
    split = unicodedata.normalize("NFD", text)
    return "".join(c for c in split if not unicodedata.category(c).startswith("M")).lower()


def prefixes(html: str) -> set[str]:
    """The prefixes of the words of a page's text: of its runs of letters and digits,
    and of its space-separated words without their punctuation, as Pagefind also
    indexes them ("l'engagement" as "lengagement"); with the tags read as spaces and as
    nothing (Pagefind joins the text of inline elements: "d’<b>été</b>")."""
    words = set()
    for between in (" ", ""):
        text = unicodedata.normalize("NFC", unescape(TAG.sub(between, html)))
        for word in set(text.split()):
            if WORD.fullmatch(word):  # most are: one run of word characters
                words.add(word[:LENGTH + 2])  # what folding may shorten, and no more
            else:
                runs = WORD.findall(word)
                words.update(run[:LENGTH + 2] for run in runs)
                words.add("".join(runs)[:LENGTH + 2])
    return {fold(word)[:LENGTH] for word in words if word}


def write_bundle_prefixes(folder: Path, found: Iterable[str]) -> None:
    """Keep a bundle's prefixes in its folder, to build the filter from later."""
    (folder / BUNDLE_PREFIXES).write_text("\n".join(sorted(found)), "utf-8")


def read_bundle_prefixes(folder: Path) -> set[str] | None:
    """A bundle's prefixes; None when it has none (built by an earlier version)."""
    try:
        return set((folder / BUNDLE_PREFIXES).read_text("utf-8").split("\n")) - {""}
    except OSError:
        return None


def shards(bundles: Mapping[str, set[str]]) -> dict[str, dict[str, str]]:
    """The filter's files: for each first character (its file name: the character's
    code point in hex), each bundle's prefixes beginning with it, their other characters
    joined by spaces. A bundle absent from a file holds no word beginning so."""
    files: dict[str, dict[str, str]] = {}
    for name, found in bundles.items():
        by_first: dict[str, list[str]] = {}
        for prefix in sorted(found):
            by_first.setdefault(f"{ord(prefix[0]):x}", []).append(prefix[1:])
        for first, rests in by_first.items():
            files.setdefault(first, {})[name] = " ".join(rests)
    return files


def write_filter(index: Path, names: Iterable[str]) -> list[str]:
    """Write pagefind/prefixes/ anew for the bundles `names`; returns those it covers
    (a bundle built by an earlier version has no prefixes: search.html always opens it).
    The new folder replaces the old one whole; in between, search.html finds no file
    and opens every bundle."""
    found = {name: read_bundle_prefixes(index / name) for name in names}
    known = {name: words for name, words in found.items() if words is not None}
    fresh, folder, old = (index / f".{PREFIXES}-new", index / PREFIXES,
                          index / f".{PREFIXES}-old")
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    fresh.mkdir()
    for first, bundles in shards(known).items():
        (fresh / f"{first}.json").write_text(json.dumps(bundles, ensure_ascii=False),
                                             "utf-8")
    if folder.exists():
        os.replace(folder, old)
    os.replace(fresh, folder)
    shutil.rmtree(old, ignore_errors=True)
    return list(known)
