"""The only package that queries the database; ORM rows never leave it.

Its parts: base (the engine, its sessions, StoreError), feeds, entries (saving polls), copies
(the copy search), reads (for rendering), admin (maintenance); store composes them.
"""

from aggregator.store.admin import Health
from aggregator.store.base import StoreError
from aggregator.store.store import Store

__all__ = ["Health", "Store", "StoreError"]
