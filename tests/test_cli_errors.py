"""Every mistake a user can make, fed to the real `aggregator` command: one line on standard
error naming what and where, a non-zero exit, no traceback, and nothing stored lost."""

from __future__ import annotations

import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import main
from tests.conftest import FeedServer, write_config

ROOT = Path(__file__).parent.parent
# The plain progress lines of long work off a terminal (Rendering: 3/9): not the mistake.
PROGRESS = re.compile(r"[A-Z][a-z]+: \d+/\d+")
ENTRIES = 40


def _big_feed() -> bytes:
    """A feed whose pages and exports are each over 100 KB: a file size limit between the
    database's needs and theirs fails their writes only."""
    text = "Texte du billet, assez long pour que chaque page pèse son poids. " * 80
    items = "".join(
        f"<item><title>Billet {n}</title><link>http://example.org/{n}</link>"
        f"<guid>http://example.org/{n}</guid>"
        f"<pubDate>Mon, 0{1 + n % 9} Jun 2026 10:00:00 +0000</pubDate>"
        f"<description>{n} {text}</description></item>" for n in range(ENTRIES))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Gros</title><link>http://example.org/</link><description>x</description>"
            f"{items}</channel></rss>").encode()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with a feeds.yaml and a database holding ENTRIES entries."""
    folder = tmp_path_factory.mktemp("stored")
    server = FeedServer()
    try:
        feeds = [{"name": "Gros", "url": server.set("/big.rss", _big_feed())}]
        config = write_config(folder, feeds, language="en")  # English messages
        result = CliRunner().invoke(main, ["--config", str(config), "fetch"])
        assert result.exit_code == 0, result.output
    finally:
        server.close()
    yield folder


@dataclass
class Case:
    """A bad input: what to change in a copy of `stored`, the command, and what the line
    says (a shell pattern: * for any text)."""

    args: list[str]
    says: str
    settings: dict[str, object] = field(default_factory=dict)
    yaml: str | None = None  # feeds.yaml's whole text instead of the stored one
    prepare: Callable[[Path], None] | None = None
    file_size_limit: int | None = None
    pythonpath: Callable[[Path], str] | None = None


def _settings_yaml(line: str) -> str:
    return f"settings:\n  database: test.db\n  {line}\nfeeds:\n  - name: A\n    url: http://127.0.0.1:9/a\n"


def _feed_yaml(line: str) -> str:
    return f"settings:\n  database: test.db\nfeeds:\n  - {line}\n    url: http://127.0.0.1:9/a\n"


def _no_psycopg(folder: Path) -> str:
    """A folder first on the path whose psycopg cannot be imported, as where it is missing."""
    fake = folder / "no-driver"
    fake.mkdir()
    (fake / "psycopg.py").write_text("raise ImportError('No module named psycopg')\n")
    return f"{fake}{os.pathsep}{ROOT}"


CASES: dict[str, Case] = {
    "output folder is a file": Case(
        ["render", "--full"], "site/public/digest/2026-06-0*.html: Not a directory (in settings",
        prepare=lambda folder: (folder / "public").write_text("a file")),
    "output folder unwritable": Case(
        ["render"], "cannot write /sys/aggregator-out/",
        settings={"output_dir": "/sys/aggregator-out"}),
    "output folder under /proc": Case(
        ["render"], "cannot write /proc/aggregator-out/",
        settings={"output_dir": "/proc/aggregator-out"}),
    "render write error (file too large)": Case(
        ["render", "--full"], ": File too large (in settings.output_dir", file_size_limit=100_000),
    "database is a folder": Case(
        ["status"], "cannot open the database named in", settings={"database": "a-folder"},
        prepare=lambda folder: (folder / "a-folder").mkdir()),
    "database cannot be created": Case(
        ["fetch"], "(settings.database): OperationalError: unable to open database file",
        settings={"database": "/sys/aggregator.db"}),
    "database cannot be written": Case(
        ["fetch"], "(settings.database): OperationalError: disk I/O error", file_size_limit=1),
    "export to an unwritable path": Case(
        ["export", "--output", "/sys/backup.jsonl"], "cannot write /sys/backup.jsonl: "),
    "export to a path under /proc": Case(
        ["export", "--output", "/proc/version/backup.jsonl"], "/proc/version/backup.jsonl: "),
    "export write error keeps the last backup": Case(
        ["export", "--output", "backup.jsonl"],
        "backup.jsonl: File too large; nothing was exported",
        prepare=lambda folder: (folder / "backup.jsonl").write_text("the last backup\n"),
        file_size_limit=100_000),
    "import of a file that is not UTF-8": Case(
        ["import", "latin1.jsonl"], "latin1.jsonl:2: not UTF-8 (byte 0xe9 at column 12)",
        prepare=lambda folder: (folder / "latin1.jsonl").write_bytes(
            b'{}\n{"title": "\xe9t\xe9"}\n')),
    "poll_interval of 10**30 seconds": Case(
        ["status"], "feeds.yaml:3:3: settings.poll_interval: expected a duration like 30m",
        yaml=_settings_yaml(f"poll_interval: {10**30}")),
    "poll_interval of 99999999 days": Case(
        ["status"],
        "feeds.yaml:3:3: settings.poll_interval: expected between 1s and 365d, got '99999999d'",
        yaml=_settings_yaml("poll_interval: 99999999d")),
    "timeout of -1": Case(
        ["fetch"],
        "feeds.yaml:3:3: settings.timeout: expected a duration like 30m, 2h or 1d, got -1",
        yaml=_settings_yaml("timeout: -1")),
    "timeout of a day": Case(
        ["fetch"], "feeds.yaml:3:3: settings.timeout: expected between 1s and 1h, got '1d'",
        yaml=_settings_yaml("timeout: 1d")),
    "retention in words": Case(
        ["prune"], "feeds.yaml:3:3: settings.retention: expected a duration like 30m, 2h or 1d, "
        "got '99999999 days'", yaml=_settings_yaml("retention: 99999999 days")),
    "retention of 99999999 days": Case(
        ["prune"], "feeds.yaml:3:3: settings.retention: expected between 1h and 36500d",
        yaml=_settings_yaml("retention: 99999999d")),
    "feed_entries of 10**30": Case(
        ["render"], "feeds.yaml:3:3: settings.feed_entries: expected between 1 and 10000, got 1000",
        yaml=_settings_yaml(f"feed_entries: {10**30}")),
    "max_size of 10**30": Case(
        ["fetch"], "feeds.yaml:3:3: settings.max_size: expected between 1KB and 1GiB",
        yaml=_settings_yaml(f"max_size: {10**30}")),
    "a feed's poll_interval of 0": Case(
        ["fetch"], "feeds.yaml:4:5: feeds[0].poll_interval: expected a positive duration",
        yaml="settings:\n  database: test.db\nfeeds:\n  - poll_interval: 0\n"
             "    name: A\n    url: http://127.0.0.1:9/a\n"),
    "a raw control character": Case(
        ["status"], "feeds.yaml:3:11: the character U+0007 is not allowed in YAML",
        yaml=_settings_yaml("title: a\x07b")),
    "feeds.yaml not UTF-8": Case(
        ["status"], "feeds.yaml:3:15: not UTF-8: byte 0xe9", yaml=None,
        prepare=lambda folder: (folder / "feeds.yaml").write_bytes(
            _settings_yaml("title: Veill\xe9e").encode("latin-1"))),
    "a feed name of 201 characters": Case(
        ["status"], "feeds.yaml:4:5: feeds[0].name: expected at most 200 characters, got 201",
        yaml=_feed_yaml("name: " + "n" * 201)),
    "a control character in a feed name": Case(
        ["status"], "feeds.yaml:4:5: feeds[0].name: contains the invisible character U+0007",
        yaml=_feed_yaml('name: "a\\ab"')),
    "a right-to-left override in a feed name": Case(
        ["status"], "feeds.yaml:4:5: feeds[0].name: contains the invisible character U+202E",
        yaml=_feed_yaml('name: "abc\\u202Edef"')),
    "a feed name of spaces only": Case(
        ["status"], "feeds.yaml:4:5: feeds[0].name: expected a non-empty string",
        yaml=_feed_yaml('name: "   "')),
    "postgresql:// without its driver": Case(
        ["status"], "NoSuchModuleError: the database driver psycopg is not installed",
        settings={"database": "postgresql://postgres@127.0.0.1:5432/postgres"},
        pythonpath=_no_psycopg),
}


def _matches(line: str, pattern: str) -> bool:
    """Whether `line` holds the parts of `pattern` around its *s, in order."""
    position = 0
    for part in pattern.split("*"):
        found = line.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _entries(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def run_cli(folder: Path, args: list[str], *, file_size_limit: int | None = None,
            pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m aggregator ARGS` in `folder`, as a user runs it."""
    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = {**os.environ, "PYTHONPATH": pythonpath or str(ROOT), "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-m", "aggregator", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=limit)


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_is_one_line(name: str, stored: Path, tmp_path: Path) -> None:
    case = CASES[name]
    folder = tmp_path / "site"
    shutil.copytree(stored, folder)
    if case.settings:
        feeds = [{"name": "Gros", "url": "http://127.0.0.1:9/big.rss"}]
        write_config(folder, feeds, **{"language": "en", **case.settings})
    if case.yaml is not None:
        (folder / "feeds.yaml").write_text(case.yaml, encoding="utf-8")
    if case.prepare:
        case.prepare(folder)
    pythonpath = case.pythonpath(tmp_path) if case.pythonpath else None
    result = run_cli(folder, case.args, file_size_limit=case.file_size_limit,
                     pythonpath=pythonpath)
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if not PROGRESS.fullmatch(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and _matches(lines[0], case.says), \
        lines[0]
    assert _entries(folder / "test.db") == ENTRIES  # nothing stored is lost


def test_export_that_fails_keeps_the_last_backup_whole(stored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(stored, folder)
    (folder / "backup.jsonl").write_text("the last backup\n")
    result = run_cli(folder, ["export", "--output", "backup.jsonl"], file_size_limit=100_000)
    assert result.returncode == 1, result
    assert (folder / "backup.jsonl").read_text() == "the last backup\n"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".backup")) == []
    # Without the limit the export replaces it.
    assert run_cli(folder, ["export", "--output", "backup.jsonl"]).returncode == 0
    assert len((folder / "backup.jsonl").read_text().splitlines()) == ENTRIES


def test_a_failed_render_leaves_no_temporary_file(stored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(stored, folder)
    result = run_cli(folder, ["render", "--full"], file_size_limit=100_000)
    assert result.returncode == 1, result
    assert list((folder / "public").rglob("*.tmp")) == []
    rendered = run_cli(folder, ["render", "--full"])
    assert rendered.returncode == 0, rendered.stderr
    assert "atom.xml" in {p.name for p in (folder / "public").iterdir()}


def test_debug_shows_the_traceback_behind_the_line(stored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(stored, folder)
    result = run_cli(folder, ["--debug", "export", "--output", "/sys/backup.jsonl"])
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: cannot write /sys/backup.jsonl: Permission denied; nothing was exported")


def test_a_database_error_mid_command_names_the_database(stored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(stored, folder)
    # The database opens, and then a query fails (a table another program changed).
    with sqlite3.connect(folder / "test.db") as db:
        db.execute("ALTER TABLE entries RENAME COLUMN title TO titre")
    result = run_cli(folder, ["render", "--full"])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not PROGRESS.fullmatch(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: could not ") and lines[0].endswith(
        f"(database: {folder / 'test.db'})"), lines[0]
