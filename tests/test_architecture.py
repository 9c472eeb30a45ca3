"""The shape of the code: sizes a newcomer can read, and a map that names every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "aggregator"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 200
MAX_FUNCTION_LINES = 40


def _oversized() -> list[str]:
    found = []
    for path in MODULES:
        source = path.read_text("utf-8")
        name = path.relative_to(ROOT)
        if len(source.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            limit = (MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None)
            if limit is not None and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{name}:{node.lineno} {node.name}: {lines} lines")
    return found


def test_modules_classes_and_functions_stay_readable() -> None:
    assert _oversized() == [], (f"over {MAX_MODULE_LINES} lines a module, {MAX_CLASS_LINES} "
                                f"a class or {MAX_FUNCTION_LINES} a function")


def test_the_architecture_page_names_every_module() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    missing = [str(path.relative_to(ROOT)) for path in MODULES
               if "versions" not in path.parts and f"`{path.relative_to(ROOT)}`" not in page]
    assert missing == [], "add them to docs/architecture.md: " + ", ".join(missing)
