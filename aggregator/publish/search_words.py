"""What Pagefind is fed, and the word filter that lets search.html skip bundles.

French elisions: Pagefind splits "d'engagement" (ASCII apostrophe) into its parts but
keeps "l’engagement" (U+2019) whole, so a search for "engagement" missed it. The
index is built from copies of the day pages whose elision apostrophes are ASCII; the
pages themselves keep their typography.

The filter: for each 2-character word beginning, which bundles hold which beginnings
of up to LENGTH characters, one small file per 2 characters in `pagefind/prefixes/`.
Pagefind matches a stemmed search word against the beginnings of the indexed (stemmed)
words. French (Snowball) stemming cuts a word's end, and replaces a few endings ("aux"
by "al", "ence" by "ent"…): each word is kept here as written and as those
replacements make it, so the stem of any of its forms begins as one of them.
search.html cuts from a search word every ending the stemmer may remove, and skips a
bundle with no beginning that the rest begins. The beginnings come from all the text of
the pages, a superset of what Pagefind indexes: the filter may open a bundle for
nothing, never skip one that matches.
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
# (Named anew when what it holds changed: a bundle without it is built again.)
BUNDLE_PREFIXES = "beginnings.txt"
# How many first characters of a word the filter keeps, and how many name its file
# (search.html knows both).
LENGTH, SHARD = 6, 2
# The French words elided before an apostrophe: l’, d’, qu’… search.html puts the
# typographic apostrophe back after them in the titles and excerpts of its results.
ELIDED = "c|d|j|l|m|n|s|t|qu|jusqu|lorsqu|puisqu|quoiqu"
# An elided word at the end of a text (of its last 7 characters: one more than the
# longest, so that ^ is the text's start).
ELIDED_END = re.compile(rf"(?:^|\W)(?:{ELIDED})$", re.IGNORECASE)
WORD = re.compile(r"\w+")
# The endings French Snowball stemming replaces (its step 1: "sociaux" → "social",
# "différences" → "différent", "heureuse" → "heureux", "critications" → "critiqu"; step 3:
# the y before a removed ending, "appuyer" → "appui"), accents folded; applied whatever
# the word's regions, so more forms than the stemmer makes.
REPLACED = tuple((re.compile(ending + "$"), by) for ending, by in (
    ("aux", "al"), ("ences?", "ent"), ("eus(?:es?|ements?)", "eux"), ("amment", "ant"),
    ("emment", "ent"), ("abilites?", "abl"), ("y([a-z]*)", r"i\1"),
    ("ic(?:at(?:ions?|rices?|eurs?|i(?:f|ve)s?)|ites?|i(?:f|ve)s?)", "iqu")))
# Where a lower-case letter meets an upper-case one inside a word (Pagefind splits there).
CAMEL = re.compile(r"(?<=[a-zß-ÿ])(?=[A-ZÀ-Þ])")  # Latin letters: what feeds here use
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
    """The beginnings of the words of a page's text (of at least SHARD characters): of
    its runs of letters and digits, and of its space-separated words without their
    punctuation, as Pagefind also indexes them ("l'engagement" as "lengagement"); with
    the tags read as spaces and as nothing (Pagefind joins the text of inline elements:
    "d’<b>été</b>"); as written and with the endings the stemmer replaces replaced."""
    words = set()
    for between in (" ", ""):
        text = unicodedata.normalize("NFC", unescape(TAG.sub(between, html)))
        for word in set(text.split()):
            if WORD.fullmatch(word):  # most are: one run of word characters
                words.add(word)
            else:
                runs = WORD.findall(word)
                words.update(runs)
                words.add("".join(runs))
    words.update([part for word in words if not word.islower()
                 for part in CAMEL.split(word)[1:]])  # Pagefind: "SocialMedia" is "media" too
    found = set()
    for word in map(fold, words):
        found.add(word[:LENGTH])
        found.update(ending.sub(by, word)[:LENGTH] for ending, by in REPLACED
                     if ending.search(word))
    return {word for word in found if len(word) >= SHARD}


def write_bundle_prefixes(folder: Path, found: Iterable[str]) -> None:
    """Keep a bundle's word beginnings in its folder, to build the filter from later."""
    (folder / BUNDLE_PREFIXES).write_text("\n".join(sorted(found)), "utf-8")


def read_bundle_prefixes(folder: Path) -> set[str] | None:
    """A bundle's word beginnings; None when it has none (built by an earlier version)."""
    try:
        return set((folder / BUNDLE_PREFIXES).read_text("utf-8").split("\n")) - {""}
    except OSError:
        return None


def shard_name(beginning: str) -> str:
    """The file of the beginnings starting as `beginning` does: its first SHARD
    characters' code points in hex, joined by "-" ("co" → "63-6f")."""
    return "-".join(f"{ord(character):x}" for character in beginning[:SHARD])


def shards(bundles: Mapping[str, set[str]]) -> dict[str, dict[str, str]]:
    """The filter's files: for each shard_name, each bundle's beginnings starting so,
    their other characters joined by spaces. A bundle absent from a file holds no word
    beginning so."""
    files: dict[str, dict[str, str]] = {}
    for name, found in bundles.items():
        by_first: dict[str, list[str]] = {}
        for beginning in sorted(found):
            by_first.setdefault(shard_name(beginning), []).append(beginning[SHARD:])
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
