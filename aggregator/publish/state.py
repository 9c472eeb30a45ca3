"""What a render leaves in the output folder for the next one to build on: its state,
the stamp of everything every page depends on, and the digest feed's entries."""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from aggregator import __version__
from aggregator.config.load import FeedConfig, Settings
from aggregator.i18n import catalog_path
from aggregator.models import FeedState
from aggregator.publish import environment
from aggregator.publish.feeds import DigestEntry, XmlFragment
from aggregator.publish.output import write_file

STATE_FILE = ".render-state.json"  # a dotfile: `serve` does not serve it
DIGEST_CACHE = ".digest-days"  # the digest feed's entries for the next render; not served


@dataclass(frozen=True)
class RenderState:
    """What a render leaves in the output folder for the next one to build on."""

    stamp: str  # see site_stamp
    rendered_at: datetime
    days: tuple[date, ...]  # the days that have a page, newest first
    articles: tuple[int, ...]  # the articles each of those days shows (the archive's counts)



def site_stamp(settings: Settings, feeds: Sequence[FeedConfig],
               states: Mapping[str, FeedState], advertised: Sequence[str] = ()) -> str:
    """A hash of what every page shows or is built by: the code (code_files) and templates,
    the settings pages use, the feeds with their tags and filters, each blog's home page,
    the tags whose feeds have entries (`advertised`).

    When it changes, every day page is rendered again.
    """
    parts = {
        "version": __version__,
        "code": [(str(path.relative_to(PACKAGE)), _file_digest(path)) for path in code_files()],
        "templates": _folder_digest(environment.templates_dir()),
        "catalog": _file_digest(catalog_path(settings.language)),
        "settings": [settings.database, settings.title, settings.base_url,
                     settings.language, settings.timezone, repr(settings.filters)],
        "feeds": [[f.name, list(f.tags), repr(f.filters)] for f in feeds],
        "blogs": sorted([s.name, s.site_url or ""] for s in states.values()),
        "advertised": list(advertised),  # the tags whose feeds every page links
    }
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


PACKAGE = Path(__file__).resolve().parent.parent  # aggregator/


@cache
def code_files() -> tuple[Path, ...]:
    """The source of every aggregator module the pages are built by: the publish
    package and every module it imports, directly or not (the store's reads, the
    settings, cleaning, dedup's text folding…), found by reading their imports.

    A change in any of them may change pages, so it renders every page again.
    """
    found: set[Path] = set()
    waiting = sorted((PACKAGE / "publish").glob("*.py"))
    while waiting:
        path = waiting.pop()
        if path in found:
            continue
        found.add(path)
        waiting.extend(_imported_files(path))
    return tuple(sorted(found))


def _imported_files(path: Path) -> list[Path]:
    """The files of the aggregator modules `path` imports (a name imported from a
    package may be a module of it: both are taken when they exist)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    files = []
    for name in names:
        if name == "aggregator" or name.startswith("aggregator."):
            module = PACKAGE.parent.joinpath(*name.split("."))
            files += [f for f in (module.with_suffix(".py"), module / "__init__.py")
                      if f.is_file()]
    return files


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def _folder_digest(folder: Path) -> list[tuple[str, str]]:
    return [(str(path.relative_to(folder)), _file_digest(path))
            for path in sorted(folder.rglob("*")) if path.is_file()]


def previous_render(root: Path, site: str) -> RenderState | None:
    """The last render's state, if the next render can build on it: the same stamp,
    and its pages still there (someone may have emptied the folder)."""
    last = read_state(root)
    if last is None or last.stamp != site or not (root / "index.html").is_file():
        return None
    pages = {page.name for page in (root / "digest").glob("????-??-??.html")}
    if not {f"{day.isoformat()}.html" for day in last.days} <= pages:
        return None
    return last


def read_state(root: Path) -> RenderState | None:
    """The state the last render left in `root`, if any can be read."""
    try:
        data = json.loads((root / STATE_FILE).read_text("utf-8"))
        rendered_at = datetime.fromisoformat(data["rendered_at"])
        days = tuple(date.fromisoformat(day) for day in data["days"])
        articles = tuple(int(count) for count in data["articles"])
        state = RenderState(str(data["stamp"]), rendered_at, days, articles)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if rendered_at.tzinfo is not None and len(articles) == len(days) else None


def write_state(root: Path, state: RenderState) -> None:
    """Leave the render's state for the next one (not counted as a page written)."""
    data = {"stamp": state.stamp, "rendered_at": state.rendered_at.isoformat(),
            "days": [day.isoformat() for day in state.days], "articles": list(state.articles)}
    write_file(root / STATE_FILE, (json.dumps(data, indent=0) + "\n").encode("utf-8"))


def write_digest_cache(root: Path, state: RenderState, digest: Sequence[DigestEntry]) -> None:
    """Leave the digest feed's entries for the next render: one file a day, and an index
    that ties them to this render's state."""
    folder = root / DIGEST_CACHE
    for entry in digest:
        write_file(folder / f"{entry.day.isoformat()}.xml", entry.xml.encode("utf-8"))
    kept = {f"{entry.day.isoformat()}.xml" for entry in digest}
    for stale in folder.glob("*.xml"):
        if stale.name not in kept:
            stale.unlink()
    index = {"stamp": state.stamp, "rendered_at": state.rendered_at.isoformat(),
             "updated": {e.day.isoformat(): e.updated.isoformat() for e in digest}}
    write_file(folder / "index.json", (json.dumps(index, indent=0) + "\n").encode("utf-8"))


def read_digest_cache(root: Path, last: RenderState) -> dict[date, DigestEntry]:
    """The digest feed's entries the render described by `last` left, by day; none when
    they are missing or unreadable, or another render left them."""
    folder = root / DIGEST_CACHE
    try:
        index = json.loads((folder / "index.json").read_text("utf-8"))
        if (index["stamp"], index["rendered_at"]) != (last.stamp, last.rendered_at.isoformat()):
            return {}
        entries = {}
        for day, updated in index["updated"].items():
            when = date.fromisoformat(day)
            xml = XmlFragment((folder / f"{when.isoformat()}.xml").read_text("utf-8"))
            entries[when] = DigestEntry(when, datetime.fromisoformat(updated), xml)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return entries
