"""The only package that queries the database; ORM rows never leave it.

Its parts: base (the engine, its sessions, StoreError), feeds, entries (saving polls), copies
(the copy search), reads (for rendering), admin (maintenance); store composes them; glance
reads what `status` and an idle `fetch` need without the ORM.
"""

from typing import TYPE_CHECKING

from aggregator.store.errors import StoreError

if TYPE_CHECKING:
    from aggregator.store.admin import Health
    from aggregator.store.store import Store

__all__ = ["Health", "Store", "StoreError"]


def __getattr__(name: str) -> object:
    # Store and Health bring SQLAlchemy's ORM (0.3 s): imported when first asked for, so
    # that importing store.glance, which a package's import runs this for, does not.
    if name == "Store":
        from aggregator.store.store import Store

        return Store
    if name == "Health":
        from aggregator.store.admin import Health

        return Health
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
