"""The search page and its index: Pagefind, run over the day pages after a render.

Pagefind reads the written pages and writes its index into bundles under `pagefind/`
(search_bundles says which pages each holds), listed newest first in
`pagefind/bundles.json`, which the browser searches; the site works without them, only
search.html then says so. A bundle is built again only when one of its pages changed.
Pagefind reads copies of the pages (search_words: French elisions split), and each
bundle keeps the word beginnings of its pages, from which `pagefind/prefixes/` tells
search.html which bundles cannot match a search.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment

from aggregator.i18n import N_, Deferred, _, seconds
from aggregator.publish.output import Writer
from aggregator.publish.search_bundles import Bundle, plan
from aggregator.publish.search_words import (
    BUNDLE_PREFIXES,
    ELIDED,
    PREFIXES,
    for_index,
    prefixes,
    write_bundle_prefixes,
    write_filter,
)

log = logging.getLogger(__name__)

SEARCH_PAGE = "search.html"
INDEX_FOLDER = "pagefind"
# The bundles' folder names, newest first: what search.html reads before any bundle.
MANIFEST = "bundles.json"
# A bundle's entry file: its time is when the bundle was built (it is swapped in whole).
INDEX_ENTRY = "pagefind-entry.json"
# Pagefind's ready-made interfaces: search.html has its own, so no one fetches these.
UNUSED = ("pagefind-*ui.*", "pagefind-highlight.js")
# Links to other days and pages, group headings and counts, times and reading lengths:
# no one searches for those, and a heading with an id would be a result of its own.
IGNORED = (".days", ".pages", ".topics", ".topic > h2", ".blog > h3", ".meta time",
           ".meta .reading")
# Seconds for one bundle: about 15 times what indexing 200,000 articles in one bundle
# takes (benchmarks/RESULTS.md); a bundle holds at most a year.
INDEX_DEADLINE = 600.0


class SearchIndexError(Exception):
    """Pagefind could not build the index: one line saying why (`message` % `values`),
    in English as a string, in the active language from `translated`."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message % values)
        self.message, self.values = message, values

    def translated(self) -> str:
        return _(self.message) % self.values


def write_search_page(env: Environment, writer: Writer, common: dict[str, Any]) -> None:
    """search.html, the page that searches the index in the browser."""
    writer.put(SEARCH_PAGE, env.get_template(SEARCH_PAGE).render(
        common, page=None, root="", month=None, elided=ELIDED))


def needs_index(page_times: Sequence[float], index_time: float | None,
                indexed: int | None) -> bool:
    """Whether to build a bundle again: it is not there (`index_time` None), it holds
    another number of pages (`indexed`, None when unknown) than `page_times` (a page
    was removed or added), or one of its pages was modified after it."""
    return (index_time is None or indexed != len(page_times)
            or any(time > index_time for time in page_times))


def update_index(root: Path, deadline: float = INDEX_DEADLINE) -> tuple[str, ...]:
    """Build the bundles of the output folder `root` whose day pages changed; returns
    their names. A failure is logged in one line and leaves the last bundles in place."""
    try:
        return _index(root, deadline, every=False)
    except SearchIndexError as error:
        log.warning("search index not built: %s", Deferred(error.translated))
        return ()


def build_index(root: Path, deadline: float = INDEX_DEADLINE) -> tuple[str, ...]:
    """Build every bundle of `root` anew; returns their names; SearchIndexError says
    what failed."""
    return _index(root, deadline, every=True)


def _index(root: Path, deadline: float, every: bool) -> tuple[str, ...]:
    """Build the bundles that changed (`every`: all), then list them and remove the
    others; a bundle that fails stops the run before the list changes."""
    pages = root / "digest"
    bundles = plan(page.name for page in pages.glob("*.html"))
    if not bundles:  # no article yet: search.html says the index is not built
        return ()
    index = root / INDEX_FOLDER
    built = []
    for bundle, names in bundles.items():
        if every or _stale(index / bundle.name, [pages / name for name in names]):
            build_bundle(root, bundle, names, deadline)
            built.append(bundle.name)
    _list(index, [bundle.name for bundle in bundles], rewrite=bool(built))
    return tuple(built)


def _stale(bundle: Path, pages: Sequence[Path]) -> bool:
    """Whether the bundle folder `bundle` no longer matches its day pages, or has not
    the word beginnings of this version's filter (built once more after an upgrade)."""
    entry = bundle / INDEX_ENTRY
    if not (bundle / BUNDLE_PREFIXES).is_file():
        return True
    try:
        built = entry.stat().st_mtime
        languages = json.loads(entry.read_text("utf-8"))["languages"].values()
        indexed = sum(int(language["page_count"]) for language in languages)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return True
    return needs_index([page.stat().st_mtime for page in pages], built, indexed)


def build_bundle(root: Path, bundle: Bundle, names: Sequence[str],
                 deadline: float = INDEX_DEADLINE) -> None:
    """Run Pagefind over copies of the day pages `names` (of digest/) of `bundle`, made
    for the index, into a new folder that then replaces `pagefind/<name>/`, so a browser
    never reads half a bundle; SearchIndexError says what failed."""
    index = root / INDEX_FOLDER
    fresh, stale = index / f".{bundle.name}-new", index / f".{bundle.name}-old"
    site = index / f".{bundle.name}-site"
    for leftover in (fresh, stale, site):  # from a run stopped half-way
        shutil.rmtree(leftover, ignore_errors=True)
    found = _copy_for_index(root, site, names)
    try:
        _run_pagefind(site, bundle, fresh, deadline)
    finally:
        shutil.rmtree(site, ignore_errors=True)
    write_bundle_prefixes(fresh, found)
    _swap(fresh, index / bundle.name, stale)


def _copy_for_index(root: Path, site: Path, names: Sequence[str]) -> set[str]:
    """Copy the day pages `names` into `site`/digest/ as Pagefind is to read them;
    returns the prefixes of their words."""
    (site / "digest").mkdir(parents=True)
    found: set[str] = set()
    for name in names:
        html = (root / "digest" / name).read_text("utf-8")
        found |= prefixes(html)
        (site / "digest" / name).write_text(for_index(html), "utf-8")
    return found


def _run_pagefind(site: Path, bundle: Bundle, fresh: Path, deadline: float) -> None:
    """Pagefind over the pages of `bundle` in `site`, into `fresh` (without the files
    no one fetches)."""
    command = [str(_executable()), "--site", str(site), "--glob", bundle.glob,
               "--output-path", str(fresh), "--silent"]
    for selector in IGNORED:
        command += ["--exclude-selectors", selector]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=deadline,
                                check=False)
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(fresh, ignore_errors=True)
        raise SearchIndexError(N_("Pagefind took longer than %(time)s"),
                               time=seconds(deadline)) from error
    except OSError as error:
        raise SearchIndexError(N_("cannot run Pagefind: %(error)s"), error=error) from error
    if result.returncode != 0 or not (fresh / INDEX_ENTRY).is_file():
        shutil.rmtree(fresh, ignore_errors=True)
        said = (result.stderr or result.stdout).strip() or "no output"
        raise SearchIndexError(N_("Pagefind failed (exit %(code)s): %(said)s"),
                               code=result.returncode,
                               said=said.splitlines()[0].removeprefix("Error: ").strip())
    for pattern in UNUSED:
        for unused in fresh.glob(pattern):
            unused.unlink()


def _list(index: Path, names: Sequence[str], rewrite: bool) -> None:
    """Write the word filter (when a bundle was built: `rewrite`, or it is missing),
    then the manifest of the bundles `names` (newest first, with those the filter
    covers and what a search costs in each) when it changed, then remove what else is
    in `index`: bundles folded into a larger one, leftovers, the single index of
    earlier versions. The manifest goes first: a browser that read the last one may
    still find a removed bundle gone, and searches the others."""
    manifest = index / MANIFEST
    try:
        filtered = json.loads(manifest.read_text("utf-8"))["filtered"]
    except (OSError, ValueError, KeyError, TypeError):
        filtered = None
    if rewrite or filtered is None or not (index / PREFIXES).is_dir():
        filtered = write_filter(index, names)
    text = json.dumps({"bundles": list(names), "filtered": filtered,
                       "costs": {name: search_cost(index / name) for name in names}})
    if not manifest.is_file() or manifest.read_text("utf-8") != text:
        fresh = index / f".{MANIFEST}-new"
        fresh.write_text(text, "utf-8")
        os.replace(fresh, manifest)
    for item in index.iterdir():
        if item.name not in (*names, MANIFEST, PREFIXES):
            if item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)


def search_cost(bundle: Path) -> int:
    """The most bytes a search fetches from the bundle folder `bundle` for one word
    before its results: its largest index chunk and its meta file (search.html opens
    bundles within a budget of bytes)."""
    chunks = [file.stat().st_size for file in bundle.glob("index/*")]
    return max(chunks, default=0) + sum(file.stat().st_size for file in bundle.glob("*.pf_meta"))


def _swap(fresh: Path, current: Path, stale: Path) -> None:
    """Put `fresh` in the place of `current`; the old index goes only once it is out."""
    try:
        if current.exists():
            current.rename(stale)
        fresh.rename(current)
    except OSError as error:
        raise SearchIndexError(N_("cannot replace %(folder)s: %(error)s"), folder=current,
                               error=error.strerror) from error
    shutil.rmtree(stale, ignore_errors=True)


def _executable() -> Path:
    """The Pagefind binary the pagefind[bin] package ships: never downloaded at run time."""
    try:
        import pagefind_bin

        return Path(pagefind_bin.get_executable())
    except (ImportError, FileNotFoundError) as error:
        raise SearchIndexError(
            N_("Pagefind is not installed (pip install 'pagefind[bin]')")) from error
