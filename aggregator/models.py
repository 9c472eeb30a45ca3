"""Plain dataclasses handed from one stage of the flow to the next."""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about one feed between polls."""

    name: str
    url: str
    title: str | None = None
    site_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    next_poll: datetime | None = None
    entry_count: int = 0
    moved_to: str | None = None
    moved_at: datetime | None = None
    gone_at: datetime | None = None
    content_hash: str | None = None
    interval_hint: timedelta | None = None
    last_status: int | None = None
    failing_since: datetime | None = None
    boilerplate: frozenset[int] = frozenset()
    # {key: identity} for each entry of the last document stored, under the digest of its
    # parse (prepare.digest_entry) and, when the document has a layout, of its bytes
    # (prepare.entry_keys).
    entry_digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def poll_url(self) -> str:
        """Where to poll: the permanent new address if the feed moved, else its URL."""
        return self.moved_to or self.url


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one HTTP GET: a body, a 304, or an error message."""

    url: str
    final_url: str
    status: int | None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    permanent_url: str | None = None
    content_hash: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304: nothing new since our last poll."""
        return self.status == 304

    @property
    def gone(self) -> bool:
        """True when the server answered 410: the feed is retired for good."""
        return self.status == 410


@dataclass(frozen=True)
class Enclosure:
    """A media file attached to an entry: a podcast episode, a video, a picture."""

    url: str
    type: str | None = None
    length: int | None = None

    @property
    def kind(self) -> str:
        """"audio", "video", "image" or "file", from the media type."""
        major = (self.type or "").split("/")[0]
        return major if major in ("audio", "video", "image") else "file"


@dataclass(frozen=True)
class ParsedEntry:
    """One entry as the feed gave it: HTML not yet sanitized, dates in UTC."""

    guid: str | None
    link: str | None
    title: str
    title_is_html: bool
    author: str | None
    published: datetime | None
    updated: datetime | None
    content: str | None
    summary: str | None
    language: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    thumbnail: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document turned into data."""

    version: str
    title: str | None
    site_url: str | None
    language: str | None
    entries: tuple[ParsedEntry, ...]
    warning: str | None = None
    ttl: timedelta | None = None
    hub: str | None = None  # the WebSub hub it declares (<link rel="hub">)
    self_url: str | None = None  # its own address (rel="self"): the WebSub topic


@dataclass(frozen=True)
class Fingerprint:
    """What cross-feed de-duplication knows of an entry (see dedup.fingerprint).

    `shingles` (every hashed 5-word run of the text, sorted, packed as
    dedup.pack_sketch packs) exists only for a new entry: bytes, not a set, to
    cross from a parse worker cheaply (a set of 400 integers weighs 30 KB). Stored
    entries keep `sketch`, the smallest hashes: a uniform sample, enough to
    estimate how much of one text another contains.
    """

    link: str | None
    title: str
    size: int
    sketch: tuple[int, ...]
    lead: int | None
    shingles: bytes = b""

    @cached_property
    def shingle_set(self) -> frozenset[int]:
        """`shingles` as a set, made when first compared (most new entries never are)."""
        return frozenset(struct.unpack(f">{len(self.shingles) // 8}q", self.shingles))


@dataclass(frozen=True)
class CleanEntry:
    """An entry safe to store and show: sanitized HTML, text title, identity key."""

    identity: str
    signature: str
    title: str
    link: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None
    content: str
    summary: str
    excerpt: str
    fingerprint: Fingerprint | None = None
    language: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    thumbnail: str | None = None
    categories: tuple[str, ...] = ()
    # Why its text looks cut short (fulltext.truncation), so that its page is worth
    # fetching when its feed's full_text is auto; None: it looks whole.
    truncated: str | None = None


@dataclass(frozen=True)
class Extracted:
    """The main text of an article's web page: sanitized HTML (absolute links, real images,
    no pixels) and the same as plain text, one paragraph a line."""

    html: str
    text: str


@dataclass(frozen=True)
class SaveCounts:
    """What a save did: new articles, copies of known ones, in-place changes."""

    new: int = 0
    updated: int = 0
    duplicates: int = 0  # copies of an article already stored from another feed
    recognized: int = 0  # entries the feed re-issued under a new id


@dataclass(frozen=True)
class Copy:
    """Another place an article was published."""

    feed_name: str
    feed_title: str
    link: str | None
    dated: datetime


@dataclass(frozen=True)
class PollRecord:
    """A feed's polling state after one poll (entries aside), as poll.decide decided it:
    the store writes it as it is."""

    polled_at: datetime
    next_poll: datetime
    status: int | None
    error: str | None = None  # the poll's failure in words for `status`; None: a success
    failures: int = 0  # in a row, this poll's included
    failing_since: datetime | None = None
    gone_at: datetime | None = None  # retired by a 410 until its feeds.yaml entry changes
    last_success: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    moved_to: str | None = None
    moved_at: datetime | None = None
    title: str | None = None
    site_url: str | None = None
    interval_hint: timedelta | None = None
    boilerplate: frozenset[int] = frozenset()
    entry_digests: Mapping[str, str] = field(default_factory=dict)  # see FeedState's


@dataclass(frozen=True)
class Parsed:
    """What parsing and cleaning one body produced (prepare.parse_step): picklable, it
    comes back from the parse worker processes."""

    feed: ParsedFeed | None = None
    entries: tuple[CleanEntry, ...] = ()  # new or changed since the feed's last document
    error: str | None = None
    boilerplate: frozenset[int] = frozenset()
    unchanged: tuple[str, ...] = ()  # identities of entries parsed as in the last document
    digests: Mapping[str, str] = field(default_factory=dict)  # this document's, see prepare.Sorted


@dataclass(frozen=True)
class FeedPoll:
    """One feed's poll as the store saves it: the feed's new state and its entries.

    `unchanged` names the document's other entries, stored by an earlier poll as
    they are now.
    """

    name: str
    record: PollRecord
    entries: Sequence[CleanEntry] = ()
    unchanged: Collection[str] = ()


Outcome = Literal["new", "unchanged", "not_modified", "error", "gone"]


@dataclass(frozen=True)
class UpdateOutcome:
    """The result of polling one feed, as the batch reports it."""

    feed: str
    outcome: Outcome
    new: int = 0
    updated: int = 0
    error: str | None = None
    elapsed: float = 0.0
    moved_to: str | None = None
    duplicates: int = 0
    # The WebSub hub and topic of the document read; None when no document was read.
    hub_links: HubLinks | None = None


@dataclass(frozen=True)
class HubLinks:
    """What a feed document says of WebSub: its hub (None: it declares none) and its topic."""

    hub: str | None
    topic: str


SubscriptionState = Literal["pending", "active", "denied"]


@dataclass(frozen=True)
class Subscription:
    """Our WebSub subscription to one feed's hub, as stored.

    `token` ends the callback address (unique per subscription), `secret` signs the
    hub's pushes; the lease runs until `expires_at` once the hub verified our intent.
    """

    feed_name: str
    hub: str
    topic: str
    token: str
    secret: str
    state: SubscriptionState
    requested_at: datetime
    lease_seconds: int | None = None
    expires_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class PingRecord:
    """The last time we told our hub that one of our feeds changed, and how it went."""

    url: str
    hub: str
    pinged_at: datetime
    ok: bool
    attempts: int
    error: str | None = None


@dataclass(frozen=True)
class StoredEntry:
    """An entry read back from the store, with its feed's details, for rendering."""

    feed_name: str
    feed_title: str
    feed_url: str
    site_url: str | None
    tags: tuple[str, ...]
    identity: str
    title: str
    link: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None
    first_seen: datetime
    dated: datetime
    changed: datetime
    content: str
    summary: str
    excerpt: str
    article_feed: str = ""  # the feed and identity of the article's first stored entry:
    article_identity: str = ""  # its id in the merged feeds never changes
    copies: tuple[Copy, ...] = ()
    language: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    thumbnail: str | None = None
    categories: tuple[str, ...] = ()
    edited: datetime | None = None  # when we saw its title or text change, if ever
    teaser: str = ""  # the feed's own excerpt, when the article's page text is shown instead


PageStatus = Literal["pending", "not-needed", "fetched", "robots-forbidden", "failed"]


@dataclass(frozen=True)
class PageTask:
    """An entry whose article page is to be fetched, with what a conditional GET and the
    comparison with the feed's text need."""

    entry_id: int
    feed_name: str
    link: str
    feed_text: str  # the HTML the feed gave (content, else summary)
    etag: str | None = None
    last_modified: str | None = None
    shown: bool = False  # a page text is stored and shown: a 304 keeps it


@dataclass(frozen=True)
class PageOutcome:
    """What fetching one article page came to, as the store writes it."""

    entry_id: int
    status: PageStatus
    reason: str | None = None  # the error, for failed and robots-forbidden
    html: str | None = None
    excerpt: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a 304: the stored page stands


@dataclass(frozen=True)
class PageCounts:
    """How a feed's entries stand with their article pages, for `status`."""

    counts: Mapping[str, int]  # by page status
    last_error: str | None = None  # the latest failure or refusal, in words
