"""Folder names for tags: readable, bounded in length, and one folder per tag.

A tag's slug keeps its letters and digits, case folded, Latin letters without their
accents ("Réseaux sociaux" → "reseaux-sociaux"); letters of other scripts stay as they
are ("Соцсети" → "соцсети"), written in UTF-8 on disk and read as an IRI in links,
which browsers and feed readers percent-encode. Tags that give the same slug ("C++"
and "C#", two long tags alike in their first words, two tags of emoji only) are told
apart by a short hash of the tag, added to all but the first of them in sorted order:
which folder each tag gets depends only on the set of tags, not on the order of
feeds.yaml.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# Far under the 255 bytes file systems allow a name, with room for the hash suffix; a
# tag of 40 Cyrillic letters (80 bytes) still shows whole.
MAX_SLUG_BYTES = 80
HASH_CHARACTERS = 6
FALLBACK = "tag"  # the slug of a tag with no letter or digit
# The combining marks that accent Latin letters: dropped. Marks of other scripts
# (Devanagari vowel signs, Hebrew points) are part of their letters and kept.
_LATIN_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d"})


def base_slug(tag: str) -> str:
    """A tag as a folder name before collisions are resolved: "réseaux sociaux" →
    "reseaux-sociaux", "SEO/SEA" → "seo-sea", "Соцсети" → "соцсети"."""
    # lower(), not casefold(): the Greek final sigma stays final ("ς", not "σ").
    folded = unicodedata.normalize("NFKD", tag.lower().translate(_LIGATURES))
    bare = unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", folded))
    words = "".join(c if _is_word(c) else " " for c in bare).split()
    return _bounded("-".join(words), MAX_SLUG_BYTES) or FALLBACK


def _is_word(character: str) -> bool:
    # Letters, marks and digits: a mark left here belongs to a letter of another script.
    return unicodedata.category(character)[0] in "LMN"


def _bounded(slug: str, limit: int) -> str:
    """`slug` cut to at most `limit` UTF-8 bytes, on a character, without a dangling "-"."""
    data = slug.encode("utf-8")
    if len(data) <= limit:
        return slug
    cut = data[:limit].decode("utf-8", "ignore")
    # A mark cut from its letter would change how the letter reads: drop both.
    while cut and unicodedata.category(cut[-1])[0] == "M":
        cut = cut[:-1]
    return cut.rstrip("-")


def tag_slugs(tags: Iterable[str]) -> dict[str, str]:
    """Each tag's folder name, every one different from the others.

    The first tag of each slug, in sorted order, keeps the slug; the others get
    "-" and the first characters of a hash of the tag (more when those are taken).
    """
    ordered = sorted(set(tags))
    bases = {tag: base_slug(tag) for tag in ordered}
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for tag in ordered:  # first claims first: each base slug goes to its first tag
        if bases[tag] not in taken:
            slugs[tag] = bases[tag]
            taken.add(bases[tag])
    for tag in ordered:
        if tag in slugs:
            continue
        digest = hashlib.sha256(tag.encode("utf-8", "surrogatepass")).hexdigest()
        size = HASH_CHARACTERS
        while (slug := f"{bases[tag]}-{digest[:size]}") in taken:
            size += 2
        slugs[tag] = slug
        taken.add(slug)
    return slugs
