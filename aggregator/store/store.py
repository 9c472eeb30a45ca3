"""The Store: feeds, entries, article pages, reads, alerts, newsletter deliveries, maintenance,
WebSub and the trends' key phrases, one mixin each, on one engine."""

from __future__ import annotations

from aggregator.store.admin import AdminMixin
from aggregator.store.alerts import AlertsMixin
from aggregator.store.deliveries import DeliveriesMixin
from aggregator.store.entries import EntriesMixin
from aggregator.store.feeds import FeedsMixin
from aggregator.store.pages import PagesMixin
from aggregator.store.phrases import PhrasesMixin
from aggregator.store.reads import ReadsMixin
from aggregator.store.websub import WebSubMixin


class Store(FeedsMixin, EntriesMixin, PagesMixin, ReadsMixin, AlertsMixin, AdminMixin,
            WebSubMixin, DeliveriesMixin, PhrasesMixin):
    """Feeds and entries, behind verb-named methods that take and return dataclasses.

    Driver errors come out of its public methods as StoreError.
    """
