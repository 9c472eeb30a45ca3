"""Pure functions that decide when two entries are the same one."""

from __future__ import annotations

import hashlib
import html
import re
import struct
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from aggregator.models import Fingerprint, ParsedEntry

# Unique indexes on long text are costly (and capped on PostgreSQL), so long keys are hashed.
_MAX_KEY = 500


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def normalize_link(link: str) -> str:
    """A link with its scheme and host lower-cased and its fragment dropped."""
    parts = urlsplit(link.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def entry_identity(guid: str | None, link: str | None, title: str, content: str) -> str:
    """Within one feed: the guid, else the normalized link, else a hash of title and content."""
    if guid:
        key = "id:" + guid
    elif link:
        key = "link:" + normalize_link(link)
    else:
        return "hash:" + _digest(title, content)
    if len(key) <= _MAX_KEY:
        return key
    kind = key.split(":", 1)[0]
    return f"{kind}:sha256:{_digest(key)}"


def entry_signature(
    title: str, link: str | None, author: str | None, content: str, summary: str,
    media: Sequence[str] = (),
) -> str:
    """A hash of what a reader sees of an entry: when it changes, the stored copy is updated.

    The date is left out: some blogs re-date a post on every poll, and that
    alone must not make it "updated" (the store handles dates on their own).
    """
    return _digest(title, link or "", author or "", content, summary, *media)


def distrust_shared_guids(entries: Sequence[ParsedEntry]) -> list[ParsedEntry]:
    """Drop guids that one document gives to several different links.

    Some feeds reuse one <guid> for every item; trusting it would keep only the
    first post, so those entries fall back to their links for identity.
    """
    links_by_guid: dict[str, set[str | None]] = {}
    for entry in entries:
        if entry.guid:
            links_by_guid.setdefault(entry.guid, set()).add(entry.link)
    shared = {guid for guid, links in links_by_guid.items() if len(links) > 1}
    return [replace(e, guid=None) if e.guid in shared and e.link else e for e in entries]


# --- across feeds: the same article under other ids ------------------------------------

# Query parameters that only track the reader (campaigns, clicks, newsletters, AT Internet).
TRACKING_PARAMETERS = re.compile(
    r"^(utm_\w*|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_hsenc|_hsmi"
    r"|mkt_tok|xtor|at_\w+|ns_\w+|wt\.\w+|ref_src|spm|_ga|oly_\w+|vero_\w+)$",
    re.IGNORECASE,
)
# Redirect wrappers that carry the real address in a query parameter.
REDIRECT_WRAPPERS = {
    ("google.com", "/url"): ("q", "url"),
    ("l.facebook.com", "/l.php"): ("u",),
    ("lm.facebook.com", "/l.php"): ("u",),
    ("linkedin.com", "/redir/redirect"): ("url",),
    ("t.umblr.com", "/redirect"): ("z",),
    ("out.reddit.com", ""): ("url",),
    ("slack-redir.net", "/link"): ("url",),
    ("href.li", ""): ("",),
}
DEFAULT_PORTS = {"http": 80, "https": 443}


def _unwrap(host: str, path: str, query: str) -> str | None:
    """The address a known redirect wrapper points at, if this is one."""
    for (wrapper_host, wrapper_path), names in REDIRECT_WRAPPERS.items():
        if host != wrapper_host or (wrapper_path and path != wrapper_path):
            continue
        if names == ("",):  # href.li/?https://target
            return unquote(query) or None
        values = parse_qs(query)
        for name in names:
            if values.get(name):
                return values[name][0]
    return None


def canonical_link(link: str | None) -> str | None:
    """A link reduced to what identifies the page: one article, one canonical link.

    Tracking parameters, fragments, default ports, `www.`, the scheme and
    trailing slashes are dropped, and known redirect wrappers are unwrapped.
    Home pages (no path) give None: they identify a site, not an article.
    """
    if not link:
        return None
    for _ in range(3):  # a wrapper around a wrapper is rare; three levels are plenty
        parts = urlsplit(link.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        target = _unwrap(host, parts.path, parts.query)
        if not target:
            break
        link = target
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    port = f":{parts.port}" if parts.port and parts.port != DEFAULT_PORTS.get(
        parts.scheme.lower()) else ""
    query = urlencode(sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMETERS.match(k)
    ))
    path = re.sub(r"/+$", "", parts.path)
    if not path and not query:
        return None
    return f"{host}{port}{path}" + (f"?{query}" if query else "")


# Letters NFKD does not split into a base and an accent. (str.replace, not
# str.translate: translate looks up every character of non-ASCII text one by one.)
_FOLD = (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("ł", "l"), ("đ", "d"))
# The combining-mark blocks that accent Latin letters. Marks of other scripts sit on
# letters that become spaces anyway (see _fold), so leaving them gives the same text
# as testing unicodedata.combining() on every character, at a third of the cost.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# Bytes to keep as they are (ASCII digits, lower-case letters); any other becomes a space.
_WORD_BYTES = bytes(b if (48 <= b <= 57 or 97 <= b <= 122) else 32 for b in range(256))
_SEPARATOR = "\x00"  # between paragraphs normalized together; sanitized HTML has none
_WORD_OR_SEPARATOR_BYTES = b"\x00" + _WORD_BYTES[1:]


def normalize_text(text: str) -> str:
    """Text folded for comparison: case, accents, œ/æ, quotes and punctuation gone."""
    return " ".join(_fold(text).split())


def _fold(text: str, table: bytes = _WORD_BYTES) -> str:
    """`text` lower-cased and unaccented, every character but a-z and 0-9 a space (or
    several: callers fold runs of them)."""
    folded = _lower(text)
    if _NOT_LATIN_1.search(folded):
        return _unaccent(folded, table)
    # Most French text: each of its characters folds alone to one byte (see _LATIN_1).
    return folded.encode("latin-1", "replace").translate(_LATIN_1[table]).decode("ascii")


def _lower(text: str) -> str:
    folded = text.casefold()
    for letter, spelled in _FOLD:
        if letter in folded:
            folded = folded.replace(letter, spelled)
    return folded


def _unaccent(folded: str, table: bytes) -> str:
    """Accents dropped, through NFKD; any other character left outside ASCII (other
    scripts, quotes, emoji) encoded as "?", then made a space with the rest by one
    bytes.translate, much faster than a regular expression."""
    bare = _ACCENTS.sub("", unicodedata.normalize("NFKD", folded))
    return bare.encode("ascii", "replace").translate(table).decode("ascii")


# Punctuation French text uses beyond Latin-1, each only spaces once folded ("?" once
# encoded to Latin-1): tests/test_dedup.py checks it.
FOLDED_PUNCTUATION = "‘’‚“”„‹›‐‑‒–—―…•€™\u2009\u200a\u200b\u202f\u2060"
# What _unaccent makes of each Latin-1 character beyond ASCII alone (é → e, « → space);
# the same with either table, which differ only at NUL.
_LATIN_1_ALONE = [_unaccent(_lower(chr(code)), _WORD_BYTES) for code in range(128, 256)]
# The tables extended to Latin-1: the byte each character folds to, or a space for
# the few that fold to several characters.
_LATIN_1 = {table: table[:128] + bytes(ord(a) if len(a) == 1 else 32 for a in _LATIN_1_ALONE)
            for table in (_WORD_BYTES, _WORD_OR_SEPARATOR_BYTES)}
# What takes the general path: characters beyond Latin-1 but that punctuation, and
# those of Latin-1 that fold to several (½ → "1 2", ¼, ¾).
_SEVERAL = "".join(chr(code) for code, alone in enumerate(_LATIN_1_ALONE, 128) if len(alone) != 1)
# One set, not an alternation of two: the search then skips from one such character
# to the next in C, where the alternation was tried at every place of the text.
_NOT_LATIN_1 = re.compile("[^" + re.escape("".join(
    chr(code) for code in range(256) if chr(code) not in _SEVERAL) + FOLDED_PUNCTUATION) + "]")


# A site name tacked on a title: "Titre - Site", "Titre | Site", "[Repost] Titre", ...
_TITLE_PREFIX = re.compile(r"^\s*(\[[^\]]{1,40}\]|\([^)]{1,40}\)|(repost|rt|republication)\s*:)\s*",
                           re.IGNORECASE)
_TITLE_SUFFIX = re.compile(r"\s+(?:-|–|—|\||::|»|·)\s+([^-–—|:»·]{1,40})$")


def title_key(title: str) -> str:
    """A title without the site name or tag around it, normalized, for finding candidates."""
    stripped = _TITLE_PREFIX.sub("", title)
    suffix = _TITLE_SUFFIX.search(stripped)
    # Only a short tail is a site name; "Facebook - les nouveautés de la semaine" is a title.
    if suffix and len(suffix.group(1).split()) <= 3 and len(stripped[:suffix.start()].split()) >= 2:
        stripped = stripped[:suffix.start()]
    return normalize_text(stripped)


SHINGLE_WORDS = 5
SKETCH_SIZE = 128  # hashes kept to verify a candidate (1 KB per entry)
INDEX_KEYS = 16  # of them, the smallest ones that are not common indexed to find candidates
SKETCH_LOOKUP = 32  # of them, the smallest ones among which those INDEX_KEYS are chosen
# Entries filed under one index key at most: a full list marks a common key (a stock
# phrase, a generic title), and every lookup stays bounded however large the table grows.
POSTINGS_PER_KEY = 64
MAX_CANDIDATES = 16  # stored entries fully compared with one new entry, at most
STRONGEST_SHARE = 0.5  # of the strongest nominee's weight, that a nominee needs
LEAD_WORDS = 10
LONG_TEXT = 30  # shingles; below this, a text is too short to decide alone
CONTAINMENT = 0.7
TITLED_CONTAINMENT = 0.5
MIN_SHARED = 5  # shingles shared, at least, for a title to help
TAIL_WORDS = 6  # last words of a templated line: "… est apparu en premier sur <blog>."
SHORT_PARAGRAPH = 30  # words: longer paragraphs are text, never a template


def lookup_keys(found: Fingerprint) -> list[int]:
    """The keys to look up among the common ones before choosing an entry's index keys:
    its SKETCH_LOOKUP smallest hashes, link, title and lead."""
    return [*found.sketch[:SKETCH_LOOKUP], *_whole_entry_keys(found)]


def index_keys(found: Fingerprint, common: Set[int] = frozenset()) -> list[int]:
    """The index keys under which an entry is filed and looked up: its INDEX_KEYS smallest
    hashes that are not `common`, its link, title and lead.

    Passing over common keys (stock phrases) files a templated post under the few
    runs of words of its own, where its copies find it; a copy, sharing its text,
    passes over the same ones.
    """
    rare = [key for key in found.sketch[:SKETCH_LOOKUP] if key not in common]
    return [*rare[:INDEX_KEYS], *_whole_entry_keys(found)]


def _whole_entry_keys(found: Fingerprint) -> list[int]:
    keys = [hash64(f"{kind}:{value}") for kind, value in (("link", found.link),
                                                           ("title", found.title)) if value]
    return keys if found.lead is None else [*keys, found.lead]


@dataclass
class Postings:
    """The stored entries filed under some index keys: each rare key's list, and the
    keys whose list is full (POSTINGS_PER_KEY entries: a stock phrase or a generic
    title shared by many posts), whose entries are not even read: the store marks
    them in a table of their own."""

    lists: dict[int, list[int]] = field(default_factory=dict)
    common: set[int] = field(default_factory=set)
    filled: set[int] = field(default_factory=set)  # common since looked up: to mark

    def file(self, entry_id: int, keys: Sequence[int]) -> list[int]:
        """File an entry under `keys` but the common ones; the keys it was filed under.

        The cap keeps every lookup bounded however large the table grows.
        """
        filed = []
        for key in dict.fromkeys(keys):
            if key in self.common:
                continue
            ids = self.lists.setdefault(key, [])
            ids.append(entry_id)
            filed.append(key)
            if len(ids) >= POSTINGS_PER_KEY:
                self.common.add(key)
                self.filled.add(key)
                del self.lists[key]
        return filed


def rank_candidates(found: Fingerprint, postings: Postings, keys: Sequence[int] | None = None,
                    siblings: Set[int] = frozenset()) -> list[int]:
    """The stored entries worth comparing with `found`, most alike first, at most
    MAX_CANDIDATES of them (`keys`: index_keys(found, postings.common), when the
    caller has them already), `siblings` left out.

    Nominated: those sharing its link, title or lead, or two of its sketch keys (its
    only one, for a text of a single shingle), through keys that are not common: a
    common key says little, and nominates nobody. Nominees are ranked by the keys
    they share, each weighing 1 / the length of its list (a key shared by one entry
    weighs most); a shared link ranks first, since it decides alone. Those weighing
    under half the strongest nominee are left out.
    docs/dedup.md says how the bound keeps copies reachable.
    """
    keys = index_keys(found, postings.common) if keys is None else keys
    filed = [(key, ids) for key in dict.fromkeys(keys) if (ids := postings.lists.get(key))]
    if not filed:  # most new entries: nobody shares any of their keys
        return []
    sketch_keys = set(found.sketch[:SKETCH_LOOKUP]).intersection(keys)
    nominated: set[int] = set()
    shared: Counter[int] = Counter()
    for key, ids in filed:
        if key in sketch_keys:
            shared.update(ids)
        else:
            nominated.update(ids)
    needed = min(2, len(sketch_keys))
    nominated.update(i for i, count in shared.items() if count >= needed)
    # Entries of the new one's own document: a template's siblings would fill the bound.
    nominated.difference_update(siblings)
    if len(nominated) <= 1:
        return list(nominated)
    score = dict.fromkeys(nominated, 0.0)
    for _, ids in filed:
        for entry_id in nominated.intersection(ids):
            score[entry_id] += 1 / len(ids)
    linked = set(postings.lists.get(hash64(f"link:{found.link}"), ())) if found.link else set()
    # Equal scores: the entry stored last. A copy comes days after its original, while
    # the entries sharing a phrase with it pile up over years.
    ranked = sorted(nominated, key=lambda i: (i not in linked, -score[i], -i))
    # Far weaker evidence than the strongest nominee's: phrases shared by chance.
    floor = STRONGEST_SHARE * max(score.values())
    return [i for i in ranked[:MAX_CANDIDATES] if i in linked or score[i] >= floor]


def pack_sketch(sketch: Sequence[int]) -> bytes:
    """A sketch as bytes for the database: 8 bytes a hash."""
    return struct.pack(f">{len(sketch)}q", *sketch)


def unpack_sketch(data: bytes | None) -> tuple[int, ...]:
    """The hashes of a packed sketch."""
    if not data:
        return ()
    return struct.unpack(f">{len(data) // 8}q", data)


def hash64(text: str) -> int:
    """A stable signed 64-bit hash (fits a SQL BIGINT)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def paragraphs(html_text: str) -> list[str]:
    """The normalized text of each block of an HTML fragment."""
    texts = [_text_of(block) for block in _BLOCK_SPLIT.split(html_text)]
    if any(_SEPARATOR in text for text in texts):
        return [p for p in map(normalize_text, texts) if p]
    # Normalized together, then split: a post has about forty blocks, many empty.
    joined = _SEPARATOR.join(texts)
    folded = _fold(joined, _WORD_OR_SEPARATOR_BYTES).split(_SEPARATOR)
    return [p for p in (" ".join(block.split()) for block in folded) if p]


_BLOCK_SPLIT = re.compile(
    r"<(?:/?(?:p|div|br|li|h[1-6]|blockquote|tr|td|th|pre|figure|figcaption|hr|dd|dt|ul|ol"
    r"|section|article|header|footer|table)\b)[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def _text_of(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def paragraph_hash(paragraph: str) -> int:
    """The key under which a feed's boilerplate paragraphs are remembered."""
    return hash64("p:" + paragraph)


def tail_hash(paragraph: str) -> int | None:
    """The key of a short paragraph's last words, under which templated lines recur.

    Credit lines name the entry they end ("L’article <titre> est apparu en premier
    sur <blog>."): no two are equal, but they all end alike.
    """
    tail = _tail(paragraph)
    return None if tail is None else _tail_key(tail)


def _tail_key(tail: str) -> int:
    return hash64("t:" + tail)


def _tail(paragraph: str) -> str | None:
    words = paragraph.split()
    if not TAIL_WORDS < len(words) <= SHORT_PARAGRAPH:
        return None
    return " ".join(words[-TAIL_WORDS:])


def find_boilerplate(documents: Sequence[Sequence[str]]) -> set[int]:
    """Paragraphs that recur in two or more entries of one feed: footers, signatures, forms.

    Short paragraphs that only end alike in two or more entries count too.
    """
    # Counted as text, each once per entry; only the few that recur are hashed.
    paragraphs_seen: Counter[str] = Counter()
    tails_seen: Counter[str] = Counter()
    for blocks in documents:
        paragraphs_seen.update(set(blocks))
        tails_seen.update({tail for tail in map(_tail, blocks) if tail is not None})
    return ({paragraph_hash(p) for p, count in paragraphs_seen.items() if count >= 2}
            | {_tail_key(tail) for tail, count in tails_seen.items() if count >= 2})


def _is_boilerplate(paragraph: str, boilerplate: Set[int]) -> bool:
    return paragraph_hash(paragraph) in boilerplate or tail_hash(paragraph) in boilerplate


# Each word hashed once per position it can take in a shingle; a shingle's hash is the
# exclusive or of its words' (simple tabulation hashing, which keeps the smallest
# hashes a fair sample of a text). Kept for the words met most recently: the same
# few thousand words make most of a language's text.
_WORD_CACHE: dict[str, bytes] = {}
WORD_CACHE_SIZE = 1 << 14
_HASH_BYTES = 8


def _word_digests(words: Sequence[str]) -> bytes:
    """Each word's hashes, one for each place in a shingle (8 bytes each), end to end."""
    cache = _WORD_CACHE
    try:
        return b"".join(map(cache.__getitem__, words))
    except KeyError:
        if len(cache) > WORD_CACHE_SIZE:
            cache.clear()
        for word in set(words).difference(cache):
            cache[word] = hashlib.blake2b(word.encode(), digest_size=_HASH_BYTES * SHINGLE_WORDS,
                                          person=b"shingle").digest()
        return b"".join(map(cache.__getitem__, words))


def shingle_hashes(words: Sequence[str]) -> set[int]:
    """The stable signed 64-bit hashes of every run of SHINGLE_WORDS words in `words`
    (of all of them, for a shorter text)."""
    if not words:
        return set()
    count = max(len(words) - SHINGLE_WORDS + 1, 1)
    # Place j of the run starting at word i takes word i + j's hash for place j. Each
    # place's hashes, end to end, are read as one large integer: the exclusive ors of
    # a whole text are then SHINGLE_WORDS operations in C, not one per shingle.
    # ("Q" only cuts the bytes in 8-byte groups; their order is kept, big-endian.)
    hashes = memoryview(_word_digests(words)).cast("Q")
    runs = 0
    for place in range(min(SHINGLE_WORDS, len(words))):
        runs ^= int.from_bytes(hashes[place::SHINGLE_WORDS][place:place + count], "big")
    return set(struct.unpack(f">{count}q", runs.to_bytes(_HASH_BYTES * count, "big")))


def fingerprint(title: str, link: str | None, blocks: Sequence[str],
                boilerplate: Set[int] = frozenset()) -> Fingerprint:
    """Fingerprint an entry from its title, link and text blocks, boilerplate left out."""
    # Most feeds repeat no paragraph: hashing each of theirs to find none would cost
    # a fifth of fingerprinting.
    kept = [p for p in blocks if not _is_boilerplate(p, boilerplate)] if boilerplate else blocks
    words = " ".join(kept).split()
    shingles = sorted(shingle_hashes(words))
    lead = hash64("lead:" + " ".join(words[:LEAD_WORDS])) if len(words) >= LEAD_WORDS else None
    return Fingerprint(
        link=canonical_link(link), title=title_key(title), size=len(shingles),
        sketch=tuple(shingles[:SKETCH_SIZE]), lead=lead, shingles=pack_sketch(shingles),
    )


# Below this many of `new`'s shingles expected in the range of `old`'s sketch, the
# estimated containment of a small text in a large one is too rough to decide near
# a threshold (a sample of 14 gives ± 0.12): the store compares every shingle then.
EXACT_SAMPLE = 64
UNSURE_FROM = 0.25  # estimated containment below which no threshold is near


def needs_shingles(new: Fingerprint, old: Fingerprint) -> bool:
    """Whether deciding if `new` is stored `old` again needs all of `old`'s shingles,
    not only its sketch (see EXACT_SAMPLE)."""
    if old.shingles or not old.sketch or len(old.sketch) >= old.size or not new.size:
        return False  # `old`'s sketch holds its whole text, or it is already complete
    if new.size * len(old.sketch) >= EXACT_SAMPLE * old.size:
        return False
    return _shared(new, old) / min(new.size, old.size) >= UNSURE_FROM


def _shared(new: Fingerprint, old: Fingerprint) -> float:
    """Shingles the two texts share: counted when `old` carries them all or its sketch
    is its whole text, else estimated from the share of `old`'s sketch found in `new`."""
    if old.shingles:
        return len(new.shingle_set & old.shingle_set)
    # A sketch holds distinct hashes: its intersection's size counts those in `new`.
    return len(new.shingle_set.intersection(old.sketch)) / len(old.sketch) * old.size


# Two texts given as their words, for what fingerprints cannot tell (see filled_twice).
Texts = Callable[[], tuple[Sequence[str], Sequence[str]]]


def same_article(new: Fingerprint, old: Fingerprint, texts: Texts | None = None) -> str | None:
    """Why `new` (with its shingles) is the same article as stored `old`, or None.

    Same canonical link; or one text contained in the other (≥ 70% of the
    smaller, estimated from `old`'s sketch unless `old` carries all its shingles,
    see needs_shingles), which survives comments or a footer appended as long as
    the article; or, for texts too short to decide alone, the same title and half
    the smaller text shared (all of it, for a text of a line or two). Texts that
    match short of near identity are not one article when `texts` (called only
    then) shows one template filled in twice (see filled_twice).
    """
    if new.link and new.link == old.link:
        return "link"
    old_size = len(old.shingle_set) if old.shingles else old.size
    if not new.size or not old_size or not old.sketch:
        return None
    shared = _shared(new, old)
    smaller = min(new.size, old_size)
    containment = shared / smaller
    if smaller >= LONG_TEXT and containment >= CONTAINMENT:
        return _unless_filled_twice("content", containment, texts)
    if not new.title or new.title != old.title:
        return None
    if containment >= TITLED_CONTAINMENT and shared >= MIN_SHARED:
        return _unless_filled_twice("title and content", containment, texts)
    # A line or two (under five shingles, so the sketch is complete): the same text only.
    if max(new.size, old_size) < MIN_SHARED and new.size == old_size == round(shared):
        return "title and content"
    return None


NEAR_IDENTICAL = 0.95  # containment from which two texts are one article, slots or not
SLOT_WORDS = 6  # a substitution of at most this many words, on both sides, fills a slot
TEMPLATE_SLOTS = 4  # slots filled differently, at least, to be one template filled twice
SLOTS_PER_WORD = 1 / 100  # and at least one per hundred words of the shorter text
# Words of each text diffed, at most. The diff skips words making over 1% of a text
# (autojunk): with both, a text of a few words repeated costs milliseconds, not seconds.
DIFFED_WORDS = 1000


def words_of(html_text: str) -> list[str]:
    """The normalized words of an HTML fragment, as fingerprints read them."""
    return " ".join(paragraphs(html_text)).split()


def _unless_filled_twice(reason: str, containment: float, texts: Texts | None) -> str | None:
    if texts is None or containment >= NEAR_IDENTICAL:
        return reason
    return None if filled_twice(*texts()) else reason


def filled_twice(new: Sequence[str], old: Sequence[str]) -> bool:
    """Whether two texts (their words) are one template filled in twice, not one article
    edited: two job ads of one agency, two weekly reviews of one blog.

    They share most of their text, as an article and its re-publication do, but they
    differ in many short places, both sides holding words of their own (the city,
    the salary, the client, a date: the template's slots), where a re-publication
    differs in few (an intro, a sentence reworded, a paragraph dropped or added).
    """
    new, old = new[:DIFFED_WORDS], old[:DIFFED_WORDS]
    slots = sum(1 for operation, i1, i2, j1, j2 in
                SequenceMatcher(None, new, old).get_opcodes()
                if operation == "replace" and i2 - i1 <= SLOT_WORDS and j2 - j1 <= SLOT_WORDS)
    return slots >= max(TEMPLATE_SLOTS, SLOTS_PER_WORD * min(len(new), len(old)))
