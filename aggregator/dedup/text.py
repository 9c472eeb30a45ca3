"""Text folded for comparison: case, accents and punctuation gone, invisible characters
and look-alike letters of other scripts undone, HTML split in blocks, titles without the
site name around them."""

from __future__ import annotations

import html
import re
import unicodedata

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
    """Text folded for comparison: case, accents, œ/æ, quotes and punctuation gone,
    invisible characters removed and look-alike letters in Latin words made Latin."""
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
    """Invisible characters removed, compatibility forms (ｆｕｌｌ ｗｉｄｔｈ, ligatures) and
    accents dropped through NFKD, look-alike letters of other scripts in Latin words
    made Latin; any other character left outside ASCII (other scripts, quotes, emoji)
    encoded as "?", then made a space with the rest by one bytes.translate, much
    faster than a regular expression."""
    bare = _ACCENTS.sub("", unicodedata.normalize("NFKD", _INVISIBLE.sub("", folded)))
    if _LOOK_ALIKE.search(bare):
        bare = _WORD.sub(_latin_word, bare)
    return bare.encode("ascii", "replace").translate(table).decode("ascii")


# Characters that show nothing between two letters (soft hyphen, zero-width spaces and
# joiners, direction marks, variation selectors, tags: Unicode's default-ignorable
# code points): removed, so that "com\u00admu\u200bnity" is one word again, as
# readers see it. Not spaces: a zero-width space splits no word in French or English.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]")
# Letters of the Cyrillic and Greek scripts drawn like a Latin letter (after casefold:
# "К" is "к" here), from Unicode's confusables.txt, for those a reader cannot tell
# apart in running text. Only words that mix them with Latin letters are mapped: a
# word all in Cyrillic or Greek is real text of that script and is left alone.
LOOK_ALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϲ": "c",
    "ϳ": "j",
    # Latin letters NFKD leaves apart
    "ı": "i", "ɑ": "a", "ɡ": "g",
}
_TO_LATIN = str.maketrans(LOOK_ALIKES)
_LOOK_ALIKE = re.compile("[" + "".join(LOOK_ALIKES) + "]")
_WORD = re.compile(r"\w+")
_LATIN_LETTER = re.compile("[a-z]")


def _latin_word(match: re.Match[str]) -> str:
    word = match.group()
    return word.translate(_TO_LATIN) if _LATIN_LETTER.search(word) else word


# Punctuation French text uses beyond Latin-1, each only spaces once folded ("?" once
# encoded to Latin-1): tests/test_dedup_text.py checks it.
FOLDED_PUNCTUATION = "‘’‚“”„‹›‐‑‒–—―…•€™\u2009\u200a\u202f"
# What _unaccent makes of each Latin-1 character beyond ASCII alone (é → e, « → space);
# the same with either table, which differ only at NUL.
_LATIN_1_ALONE = [_unaccent(_lower(chr(code)), _WORD_BYTES) for code in range(128, 256)]
# The tables extended to Latin-1: the byte each character folds to, or a space for
# the few that fold to several characters.
_LATIN_1 = {table: table[:128] + bytes(ord(a) if len(a) == 1 else 32 for a in _LATIN_1_ALONE)
            for table in (_WORD_BYTES, _WORD_OR_SEPARATOR_BYTES)}
# What takes the general path: characters beyond Latin-1 but that punctuation, and
# those of Latin-1 that fold to several (½ → "1 2", ¼, ¾) or to none (the soft hyphen).
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
    texts = _block_texts(html_text)
    return _normalized_blocks([_text_of(block) for block in _BLOCK_SPLIT.split(html_text)]
                              if texts is None else texts)


def paragraphs_and_text(html_text: str) -> tuple[list[str], str]:
    """paragraphs and plain_text of one fragment, its tags and entities read once."""
    texts = _block_texts(html_text)
    if texts is None:
        return paragraphs(html_text), plain_text(html_text)
    # Each block tag is one of _TAG's (see _block_texts): plain_text makes it a space.
    return _normalized_blocks(texts), " ".join(" ".join(texts).split())


def _block_texts(html_text: str) -> list[str] | None:
    """_text_of each block, read in one pass of each pattern; None for a fragment where
    that could read otherwise than block by block, to be read so.

    That is when a tag holds a "<" (in an attribute value: "<a title='x<p>'>"), where
    the whole fragment's _TAG pattern may run over a block tag, or when it holds the
    separator. Else every block tag is a tag of _TAG's too, and no entity runs over
    the separator: html.unescape finds no name with one in it.
    """
    if _SEPARATOR in html_text or _TAG_IN_TAG.search(html_text):
        return None
    return _text_of(_BLOCK_SPLIT.sub(_SEPARATOR, html_text)).split(_SEPARATOR)


def _normalized_blocks(texts: list[str]) -> list[str]:
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
_TAG_IN_TAG = re.compile(r"<[^>]*<")


def _text_of(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def plain_text(html_text: str) -> str:
    """The text of an HTML fragment as written (punctuation kept), tags gone, spaces
    folded: quick, for its length and how it ends, not for showing."""
    return " ".join(_text_of(html_text).split())


def words_of(html_text: str) -> list[str]:
    """The normalized words of an HTML fragment, as fingerprints read them."""
    return " ".join(paragraphs(html_text)).split()
