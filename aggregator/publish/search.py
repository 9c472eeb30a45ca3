"""The search page and its index: Pagefind, run over the day pages after a render.

Pagefind reads the written pages and writes its index into `pagefind/`, which the
browser searches; the site works without it, only search.html then says so. The
index is built again only when a day page changed since the last one.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment

from aggregator.i18n import N_, Deferred, _, seconds
from aggregator.publish.output import Writer

log = logging.getLogger(__name__)

SEARCH_PAGE = "search.html"
INDEX_FOLDER = "pagefind"
# The bundle's entry file: its time is when the index was built (the bundle is swapped in whole).
INDEX_ENTRY = "pagefind-entry.json"
# The day pages only: the index repeats the latest day, the other pages hold no article.
DAY_PAGES = "digest/*.html"
# Links to other days and pages, group headings and counts, times and reading lengths:
# no one searches for those, and a heading with an id would be a result of its own.
IGNORED = (".days", ".pages", ".topics", ".topic > h2", ".blog > h3", ".meta time",
           ".meta .reading")
# Seconds: about 15 times what indexing 200,000 articles takes (benchmarks/RESULTS.md).
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
        common, page=None, root="", month=None))


def needs_index(page_times: Iterable[float], index_time: float | None) -> bool:
    """Whether to index: there is no index yet, or a day page (or the day folder, which
    changes when a page is removed) was modified after it."""
    return index_time is None or any(time > index_time for time in page_times)


def update_index(root: Path, deadline: float = INDEX_DEADLINE) -> bool:
    """Build the index of the output folder `root` when its day pages changed; returns
    whether it did. A failure is logged in one line and leaves the last index in place."""
    folder = root / "digest"
    pages = list(folder.glob("*.html"))
    if not pages:  # no article yet: search.html says the index is not built
        return False
    entry = root / INDEX_FOLDER / INDEX_ENTRY
    index_time = entry.stat().st_mtime if entry.is_file() else None
    if not needs_index((page.stat().st_mtime for page in [folder, *pages]), index_time):
        return False
    try:
        build_index(root, deadline)
    except SearchIndexError as error:
        log.warning("search index not built: %s", Deferred(error.translated))
        return False
    return True


def build_index(root: Path, deadline: float = INDEX_DEADLINE) -> None:
    """Run Pagefind over the day pages of `root` into a new folder that then replaces
    `pagefind/`, so a browser never reads half an index; SearchIndexError says what failed."""
    fresh, stale = root / f".{INDEX_FOLDER}-new", root / f".{INDEX_FOLDER}-old"
    for leftover in (fresh, stale):  # from a run stopped half-way
        shutil.rmtree(leftover, ignore_errors=True)
    command = [str(_executable()), "--site", str(root), "--glob", DAY_PAGES,
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
    _swap(fresh, root / INDEX_FOLDER, stale)


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
