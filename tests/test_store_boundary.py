"""Only the store touches the database: no module outside aggregator/store/ imports
SQLAlchemy (the store's errors come out as StoreError)."""

from __future__ import annotations

import re
from pathlib import Path

import aggregator

PACKAGE = Path(aggregator.__file__).parent
STORE = PACKAGE / "store"
IMPORTS_SQLALCHEMY = re.compile(r"^\s*(import|from)\s+sqlalchemy\b", re.MULTILINE)


def test_only_the_store_imports_sqlalchemy() -> None:
    modules = [path for path in PACKAGE.rglob("*.py") if STORE not in path.parents]
    assert len(modules) > 10  # the package was found, not an empty folder
    offenders = [str(path.relative_to(PACKAGE)) for path in modules
                 if IMPORTS_SQLALCHEMY.search(path.read_text("utf-8"))]
    assert offenders == []
