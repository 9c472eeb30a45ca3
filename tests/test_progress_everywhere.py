"""Progress for the other long commands (`render --full`, `import`, `prune`): a bar on a
terminal (a pty), plain lines on stderr elsewhere; the work tells it through on_progress."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from aggregator.cli import main
from aggregator.config.load import load_config
from aggregator.store import Store
from aggregator.store.backup import export_lines, import_lines
from tests.conftest import FeedServer, write_config
from tests.test_progress import _on_a_terminal

POSTS = 12


def _blog() -> bytes:
    """A feed with a post a week, each on a day of its own: a day page each."""
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    items = "".join(
        f"<item><title>Billet {n}</title><guid>b{n}</guid><link>https://b.example/{n}</link>"
        f"<pubDate>{start - timedelta(weeks=n):%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
        f"<description>Le billet numéro {n}, sur un sujet à lui.</description></item>"
        for n in range(POSTS))
    return (f"<rss version='2.0'><channel><title>B</title><link>https://b.example/</link>"
            f"{items}</channel></rss>").encode()


def _fetched(tmp_path: Path, feed_server: FeedServer, **settings: object) -> Path:
    settings.setdefault("language", "en")  # the English labels the tests read
    config = write_config(tmp_path, [{"name": "B", "url": feed_server.set("/b", _blog())}],
                          **settings)
    assert _run(config, "fetch").exit_code == 0
    return config


def _run(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def _told(result: Result, label: str) -> list[tuple[int, int]]:
    """The plain progress lines of `label` on stderr, as (done, total)."""
    return [(int(done), int(total)) for done, total in
            re.findall(rf"^{label}: (\d+)/(\d+)$", result.stderr, re.MULTILINE)]


def _drawn(lines: list[str], label: str, total: int) -> bool:
    return any(re.search(rf"{label}.*\b{total}/{total}\b", line) for line in lines)


def test_render_full_tells_its_pages_in_plain_lines_off_a_terminal(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = _fetched(tmp_path, feed_server)
    result = _run(config, "render", "--full")
    assert f"Rendered {POSTS} day pages" in result.stdout
    told = _told(result, "Rendering")
    assert told[-1] == (POSTS, POSTS) and len(told) <= 10, result.stderr
    assert [done for done, _ in told] == sorted({done for done, _ in told})
    assert "Rendering" not in result.stdout
    # An incremental render is over at once: no progress.
    assert not _told(_run(config, "render"), "Rendering")


def test_import_and_prune_tell_their_work_in_plain_lines(
        tmp_path: Path, feed_server: FeedServer) -> None:
    (tmp_path / "a").mkdir()
    config = _fetched(tmp_path / "a", feed_server)
    backup = tmp_path / "backup.jsonl"
    _run(config, "export", "--output", str(backup))
    (tmp_path / "b").mkdir()
    other = write_config(tmp_path / "b", [], retention="1d", keep_per_feed=2,
                         language="en")
    imported = _run(other, "import", str(backup))
    assert _told(imported, "Importing")[-1] == (POSTS, POSTS), imported.stderr
    assert _told(imported, "Rendering")[-1] == (POSTS, POSTS), imported.stderr
    pruned = _run(other, "prune")
    assert f"Removed {POSTS - 2} entries" in pruned.stdout
    assert _told(pruned, "Pruning") == [(1, 1)], pruned.stderr
    assert _told(pruned, "Rendering")[-1] == (2, 2), pruned.stderr


def test_render_full_import_and_prune_show_a_bar_on_a_terminal(
        tmp_path: Path, feed_server: FeedServer) -> None:
    (tmp_path / "a").mkdir()
    config = _fetched(tmp_path / "a", feed_server)
    status, lines = _on_a_terminal(config, "render", "--full")
    assert status == 0 and _drawn(lines, "Rendering", POSTS), lines
    assert not [line for line in lines if re.fullmatch(r"Rendering: \d+/\d+", line)], lines

    backup = tmp_path / "backup.jsonl"
    _run(config, "export", "--output", str(backup))
    (tmp_path / "b").mkdir()
    other = write_config(tmp_path / "b", [], retention="1d", keep_per_feed=2,
                         language="en")
    status, lines = _on_a_terminal(other, "import", str(backup))
    assert status == 0 and _drawn(lines, "Importing", POSTS), lines
    assert _drawn(lines, "Rendering", POSTS), lines
    status, lines = _on_a_terminal(other, "prune")
    assert status == 0 and _drawn(lines, "Pruning", 1), lines
    assert f"Removed {POSTS - 2} entries" in "\n".join(lines)


def test_the_store_tells_prune_and_import_progress(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = load_config(_fetched(tmp_path, feed_server))
    store = Store.open(config.settings.database)
    try:
        lines = list(export_lines(store))
        pruned: list[tuple[int, int]] = []
        store.prune(datetime.now(UTC), 0, dry_run=True,
                    on_progress=lambda done, total: pruned.append((done, total)))
        assert pruned == [(0, 1), (1, 1)]
        stored: list[int] = []
        import_lines(store, lines, stored.append)
        assert stored == [POSTS]
    finally:
        store.close()
