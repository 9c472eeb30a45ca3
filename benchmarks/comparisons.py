"""Counting the copy search's full comparisons, in a benchmark's own process.

install() wraps the store's same_article (one full comparison of a new entry with a
stored one) and _find_copy (the search for one new entry's original): each _find_copy
call of an entry with a fingerprint records how many comparisons it made. The wrapping
replaces the globals of the modules that call them (LOOKED_UP), which the store looks
up at each call; nothing of the store is changed otherwise.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The module whose globals each wrapped function is looked up in: its caller's.
LOOKED_UP = {"same_article": "aggregator.store.copies", "_find_copy": "aggregator.store.entries"}


@dataclass
class Comparisons:
    """Full comparisons made by each copy search since the last reset."""

    per_entry: list[int] = field(default_factory=list)
    missing: str = ""  # what the store lacks, when it could not be wrapped
    _current: int = 0

    def reset(self) -> None:
        self.per_entry.clear()

    def summary(self) -> dict[str, Any]:
        """Mean and maximum comparisons per new entry looked up, and how many were."""
        if self.missing:
            return {"missing": self.missing}
        values = self.per_entry or [0]
        return {"entries": len(self.per_entry), "mean": statistics.fmean(values),
                "max": max(values), "total": sum(self.per_entry)}


def install() -> Comparisons:
    """Wrap the store's copy search so that it counts; returns the running counts."""
    from aggregator.models import CleanEntry

    counts = Comparisons()
    modules = {name: importlib.import_module(module) for name, module in LOOKED_UP.items()}
    missing = [f"{LOOKED_UP[name]}.{name}" for name, module in modules.items()
               if not callable(getattr(module, name, None))]
    if missing:  # the store changed shape: report it rather than fail the whole run
        counts.missing = "the store has no " + " or ".join(missing)
        return counts
    same_article: Callable[..., Any] = modules["same_article"].same_article
    find_copy: Callable[..., Any] = modules["_find_copy"]._find_copy

    def counting_same_article(*args: Any, **kwargs: Any) -> Any:
        counts._current += 1
        return same_article(*args, **kwargs)

    def counting_find_copy(*args: Any, **kwargs: Any) -> Any:
        before = counts._current
        try:
            return find_copy(*args, **kwargs)
        finally:
            # By type, not position: the search's signature changes with the store.
            entry = next((a for a in (*args, *kwargs.values()) if isinstance(a, CleanEntry)),
                         None)
            # An entry without a fingerprint is never looked up: not a new entry's search.
            if entry is not None and entry.fingerprint is not None:
                counts.per_entry.append(counts._current - before)

    wrappers = {"same_article": counting_same_article, "_find_copy": counting_find_copy}
    for name, wrapper in wrappers.items():
        setattr(modules[name], name, wrapper)
    return counts


def describe(summary: dict[str, Any] | None) -> str:
    """"mean 3.2, max 16 (over 19,600 new entries)", or why there is no count."""
    if not summary:
        return "n/a"
    if "missing" in summary:
        return f"n/a ({summary['missing']})"
    return (f"mean {summary['mean']:.1f}, max {summary['max']} "
            f"(over {summary['entries']:,} new entries)")
