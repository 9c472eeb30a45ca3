"""Counting the copy search's full comparisons, in a benchmark's own process.

install() wraps aggregator.store's same_article (one full comparison of a new entry
with a stored one) and _find_copy (the search for one new entry's original): each
_find_copy call of an entry with a fingerprint records how many comparisons it made.
The wrapping replaces the module's globals, which the store looks up at each call;
nothing of the store is changed otherwise.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
    import aggregator.store as store_module
    from aggregator.models import CleanEntry

    counts = Comparisons()
    missing = [name for name in ("same_article", "_find_copy")
               if not callable(getattr(store_module, name, None))]
    if missing:  # the store changed shape: report it rather than fail the whole run
        counts.missing = "aggregator.store has no " + " or ".join(missing)
        return counts
    same_article: Callable[..., Any] = store_module.same_article
    find_copy: Callable[..., Any] = store_module._find_copy

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

    store_module.same_article = counting_same_article  # type: ignore[assignment]
    store_module._find_copy = counting_find_copy  # type: ignore[assignment]
    return counts


def describe(summary: dict[str, Any] | None) -> str:
    """"mean 3.2, max 16 (over 19,600 new entries)", or why there is no count."""
    if not summary:
        return "n/a"
    if "missing" in summary:
        return f"n/a ({summary['missing']})"
    return (f"mean {summary['mean']:.1f}, max {summary['max']} "
            f"(over {summary['entries']:,} new entries)")
