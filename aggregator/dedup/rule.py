"""The same-article rule: whether a new entry's fingerprint is a stored one's again, and
the template rule that keeps one template filled in twice two articles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from aggregator.models import Fingerprint

LONG_TEXT = 30  # shingles; below this, a text is too short to decide alone
CONTAINMENT = 0.7
TITLED_CONTAINMENT = 0.5
MIN_SHARED = 5  # shingles shared, at least, for a title to help
# Below this many of `new`'s shingles expected in the range of `old`'s sketch, the
# estimated containment of a small text in a large one is too rough to decide near
# a threshold (a sample of 14 gives ± 0.12): the store compares every shingle then.
EXACT_SAMPLE = 64
UNSURE_FROM = 0.25  # estimated containment below which no threshold is near
NEAR_IDENTICAL = 0.95  # containment from which two texts are one article, slots or not
SLOT_WORDS = 6  # a substitution of at most this many words, on both sides, fills a slot
TEMPLATE_SLOTS = 4  # slots filled differently, at least, to be one template filled twice
SLOTS_PER_WORD = 1 / 100  # and at least one per hundred words of the shorter text
# Words of each text diffed, at most. The diff skips words making over 1% of a text
# (autojunk): with both, a text of a few words repeated costs milliseconds, not seconds.
DIFFED_WORDS = 1000

# Two texts given as their words, for what fingerprints cannot tell (see filled_twice).
Texts = Callable[[], tuple[Sequence[str], Sequence[str]]]


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
