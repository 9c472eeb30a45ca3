"""The Store: feeds, entries, reads and maintenance, one mixin each, on one engine."""

from __future__ import annotations

from aggregator.store.admin import AdminMixin
from aggregator.store.deliveries import DeliveriesMixin
from aggregator.store.entries import EntriesMixin
from aggregator.store.feeds import FeedsMixin
from aggregator.store.reads import ReadsMixin


class Store(FeedsMixin, EntriesMixin, ReadsMixin, AdminMixin, DeliveriesMixin):
    """Feeds and entries, behind verb-named methods that take and return dataclasses.

    Driver errors come out of its public methods as StoreError.
    """
