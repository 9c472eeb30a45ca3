"""Lock files beside the database: held one at a time, gone after a clean exit, ignored by git."""

from __future__ import annotations

import fnmatch
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import main
from aggregator.poll.runlock import AlreadyRunning, exclusive_run, lock_path
from aggregator.store.lockfile import RENDER_LOCK_SUFFIX, locked_file
from tests.conftest import FeedServer, write_config

ROOT = Path(__file__).parent.parent
NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def test_fetch_and_render_leave_no_lock_file(tmp_path: Path, feed_server: FeedServer) -> None:
    config = write_config(tmp_path, [{"name": "Vis ma vie",
                                      "url": feed_server.serve_file("vis-ma-vie.atom")}])
    for command in ("fetch", "render"):
        result = CliRunner().invoke(main, ["--config", str(config), command])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "public" / "index.html").is_file()
    assert not list(tmp_path.glob("*lock*"))


def test_run_lock_refuses_a_second_run_and_is_removed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'aggregator.db'}"
    path = lock_path(url)
    assert path is not None
    with exclusive_run(url, NOW):
        assert "pid " in path.read_text("utf-8")
        held = r"another `aggregator run` \(pid \d+, started 2024-05-01T09:00:00\+00:00\)"
        with pytest.raises(AlreadyRunning, match=held), exclusive_run(url, NOW):
            pass
    assert not path.exists()


def test_a_waiter_locks_the_file_made_after_the_holder_left(tmp_path: Path) -> None:
    path = tmp_path / f"aggregator.db{RENDER_LOCK_SUFFIX}"
    inside: list[str] = []
    waiting = threading.Event()

    def second() -> None:
        waiting.set()
        with locked_file(path):
            inside.append("second")
            assert path.exists()  # the file it holds, not a removed one
            inside.append("second done")

    with locked_file(path):
        thread = threading.Thread(target=second)
        thread.start()
        waiting.wait()
        inside.append("first")
    thread.join(timeout=10)
    assert inside == ["first", "second", "second done"]
    assert not path.exists()


def test_gitignore_covers_the_lock_files() -> None:
    patterns = [line.strip() for line in (ROOT / ".gitignore").read_text("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    run = lock_path("sqlite:///aggregator.db")
    assert run is not None
    for name in (run.name, f"aggregator.db{RENDER_LOCK_SUFFIX}"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
