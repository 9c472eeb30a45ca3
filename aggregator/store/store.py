"""The Store: feeds, entries, reads and maintenance, one mixin each, on one engine."""

from __future__ import annotations

from aggregator.store.admin import AdminMixin
from aggregator.store.entries import EntriesMixin
from aggregator.store.feeds import FeedsMixin
from aggregator.store.pages import PagesMixin
from aggregator.store.reads import ReadsMixin


class Store(FeedsMixin, EntriesMixin, PagesMixin, ReadsMixin, AdminMixin):
    """Feeds and entries, behind verb-named methods that take and return dataclasses.

    Driver errors come out of its public methods as StoreError.
    """
