# FROZEN ON PURPOSE: NEVER EDIT THIS FILE, not even to follow a change of aggregator/dedup.
#
# A migration must compute forever what it computed when it was released. Importing
# the live dedup code would silently change what migrations 0003 and 0009 store
# whenever dedup changes, so they run this copy instead: the functions they call,
# with everything those call, as aggregator/dedup had them at commit 8dc9302
# (issue 19), statement for statement, with their names, docstrings and comments
# (but for a pointer to a test): a diff against that commit shows nothing else.
#
# 0003 shares 0009's copy: 0009 fingerprints every stored entry again (shingle hashes
# and sketch keys), and the link, title and lead keys 0003 files depend on nothing
# 0009 changed. When dedup changes how it fingerprints, the migration that
# fingerprints the stored entries again gets a frozen copy of its own.
"""The dedup code migrations 0003 and 0009 run, frozen (see the comment above)."""

from __future__ import annotations

import hashlib
import html
import re
import struct
import unicodedata
from collections.abc import Sequence, Set
from dataclasses import dataclass
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

SHINGLE_WORDS = 5
SKETCH_SIZE = 128  # hashes kept to verify a candidate (1 KB per entry)
LEAD_WORDS = 10
TAIL_WORDS = 6  # last words of a templated line: "… est apparu en premier sur <blog>."
SHORT_PARAGRAPH = 30  # words: longer paragraphs are text, never a template

INDEX_KEYS = 16  # of them, the smallest ones that are not common indexed to find candidates
SKETCH_LOOKUP = 32  # of them, the smallest ones among which those INDEX_KEYS are chosen


@dataclass(frozen=True)
class Fingerprint:
    """What cross-feed de-duplication knows of an entry (aggregator.models had it so)."""

    link: str | None
    title: str
    size: int
    sketch: tuple[int, ...]
    lead: int | None
    shingles: bytes = b""


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
# encoded to Latin-1).
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


def hash64(text: str) -> int:
    """A stable signed 64-bit hash (fits a SQL BIGINT)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pack_sketch(sketch: Sequence[int]) -> bytes:
    """A sketch as bytes for the database: 8 bytes a hash."""
    return struct.pack(f">{len(sketch)}q", *sketch)


def unpack_sketch(data: bytes | None) -> tuple[int, ...]:
    """The hashes of a packed sketch."""
    if not data:
        return ()
    return struct.unpack(f">{len(data) // 8}q", data)


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
