"""The output folder: files written atomically, counted, and stale pages removed."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # the CLI's export writes through this module without the renderers
    from aggregator.publish.feeds import TagFeed


# The page of an output folder any web server can answer a missing address with.
NOT_FOUND_PAGE = "404.html"


class OutputError(OSError):
    """A file could not be written (a page, an export); the message names it and why."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror or str(error), str(path))

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


def write_file(path: Path, data: bytes) -> bool:
    """Write atomically (temp file and rename); leave an identical file untouched.

    A failure (a folder that is a file or read-only, a full disk) raises OutputError and
    leaves the file as it was, with no temporary file behind.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as error:  # a folder on the way is a file, or may not be read
        raise OutputError(path, error) from error
    with replacing(path) as handle:
        handle.write(data)
    return True


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A new file, written beside `path`, that takes its place once complete: readers see
    the old file or the new one, never a part; on failure the old one stays, no temporary
    file is left behind, and OutputError says why."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(path, error) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            raise OutputError(path, error) from error
        raise


class Writer:
    """Counts what a render wrote and what it found already up to date."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written = 0
        self.unchanged = 0
        self.changed: list[str] = []  # what was written, for WebSub to tell its hub

    def put(self, relative: str, text: str) -> None:
        if write_file(self.root / relative, text.encode("utf-8")):
            self.written += 1
            self.changed.append(relative)
        else:
            self.unchanged += 1



def remove_stale_tags(root: Path, tags: Sequence[TagFeed]) -> None:
    """Delete the feeds and pages of tags no feed carries any more."""
    remove_stale_folders(root / "tags", {tag.path.split("/")[1] for tag in tags})


def remove_stale_folders(folder: Path, keep: Collection[str]) -> None:
    """Delete the subfolders of `folder` (a tag's, a blog's) not named in `keep`."""
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_dir() and stale.name not in keep:
                shutil.rmtree(stale)


def read_stamps(path: Path) -> dict[str, str]:
    """The stamps a render left in `path` (a page's path to its stamp); none if unreadable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items()}


def write_stamps(path: Path, stamps: Mapping[str, str]) -> None:
    """Leave the stamps of the pages written for the next render (not counted as a page)."""
    write_file(path, (json.dumps(dict(stamps), indent=0, sort_keys=True) + "\n").encode("utf-8"))


def remove_stale_days(root: Path, days: Sequence[date]) -> None:
    """Delete day pages whose day no longer has entries (their dates moved)."""
    keep = {d.isoformat() for d in days}
    folder = root / "digest"
    if folder.is_dir():
        for page in [*folder.glob("????-??-??.html"), *folder.glob("????-??-??-*.html")]:
            if page.name[:10] not in keep:
                page.unlink()


def remove_days(root: Path, days: Iterable[date]) -> None:
    """Delete the pages of days that no longer have entries to show."""
    for day in days:
        (root / "digest" / f"{day.isoformat()}.html").unlink(missing_ok=True)
        remove_later_pages(root, day, 1)


def remove_later_pages(root: Path, day: date, keep: int) -> None:
    """Delete the files of `day`'s pages after its first `keep` (digest/DAY-N.html)."""
    for page in (root / "digest").glob(f"{day.isoformat()}-*.html"):
        number = page.stem.rsplit("-", 1)[1]
        if number.isdigit() and int(number) > keep:
            page.unlink()

