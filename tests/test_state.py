"""The render's state: what a full render is stamped with, so a change anywhere that
may alter pages renders every page again."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.publish import state
from aggregator.publish.state import PACKAGE, code_files, site_stamp
from tests.test_digest import settings


def test_the_stamp_covers_every_module_the_pages_are_built_by() -> None:
    files = {str(path.relative_to(PACKAGE)) for path in code_files()}
    # The publish package itself, and through its imports, directly or not: the
    # store's reads, cleaning (strip_forbidden_chars), dedup's text folding, the settings.
    assert {path.name for path in (PACKAGE / "publish").glob("*.py")} <= {
        Path(f).name for f in files if f.startswith("publish/")}
    assert {"poll/clean.py", "models.py", "config/load.py", "store/schema.py"} <= files
    assert any(f.startswith("store/") for f in files)
    assert any(f.startswith("dedup/") for f in files)
    # Fetching and parsing build no page.
    assert "poll/fetch.py" not in files and "poll/parse.py" not in files


def test_changing_a_module_of_the_pages_changes_the_stamp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "clean.py"
    module.write_text("RULE = 1\n")
    monkeypatch.setattr(state, "PACKAGE", tmp_path)
    monkeypatch.setattr(state, "code_files", lambda: (module,))
    before = site_stamp(settings(), [], {})
    assert site_stamp(settings(), [], {}) == before
    module.write_text("RULE = 2\n")
    assert site_stamp(settings(), [], {}) != before
