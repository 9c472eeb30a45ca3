"""Why an entry's text looks like a teaser of its article, or None when it looks whole.

Pure: the text (plain, as `poll/clean.py` `html_to_text` gives it) and the lengths of
the feed's other entries in, a short machine key out, for `status` and the logs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import median

from aggregator.poll.clean import EXCERPT_NOISE

# Two sentences and a link: a teaser. A whole post this short exists (the samples have
# one of 370 characters), and costs one page request that finds nothing longer.
SHORT_CHARS = 400
# An entry under this share of the median of its feed's others is cut, when there are
# enough others to have a median worth the name.
SIBLING_SHARE = 0.3
MIN_SIBLINGS = 3
# "[…]" is always a cut; a bare "…" ends whole posts too ("A suivre..."), so only a
# text shorter than this is taken as cut by it.
ELLIPSIS_CHARS = 1200
# Some blogs close every whole post with the aggregator's footer ("Rendez-vous sur
# Hellocoton !", 2,400 to 3,600 characters in tests/data/blog-metier.rss): only a text
# shorter than this is a teaser the aggregator re-published.
FOOTER_CHARS = 2000
_BRACKETED_ELISION = re.compile(r"[\[(]\s*(?:…|\.\.\.)\s*[\])]$")
_ELLIPSIS = re.compile(r"(?:…|\.\.\.)[\s»”\"’']*$")
# Aggregators' footers under a teaser they re-publish.
_AGGREGATOR_FOOTER = re.compile(r"Rendez-vous sur Hellocoton\s*!?$", re.IGNORECASE)
_NOISE_REASONS = ("appeared-first-on", "read-more")


def truncation_reason(text: str, sibling_lengths: Sequence[int]) -> str | None:
    """Why `text` looks cut short ("ellipsis", "read-more", "appeared-first-on",
    "aggregator-footer", "short", "shorter-than-siblings"), or None when it looks whole.
    `sibling_lengths` are the text lengths of the feed's other entries."""
    text = text.strip()
    ending = _ending_reason(text)
    if ending is not None:
        return ending
    if len(text) < SHORT_CHARS:
        return "short"
    others = [length for length in sibling_lengths if length > 0]
    if len(others) >= MIN_SIBLINGS and len(text) < SIBLING_SHARE * median(others):
        return "shorter-than-siblings"
    return None


def _ending_reason(text: str) -> str | None:
    for reason, (words, pattern) in zip(_NOISE_REASONS, EXCERPT_NOISE, strict=True):
        if any(word in text[-400:] for word in words) and pattern.search(text[-500:]):
            return reason
    if len(text) < FOOTER_CHARS and _AGGREGATOR_FOOTER.search(text):
        return "aggregator-footer"
    if ends_with_elision(text) or (len(text) < ELLIPSIS_CHARS and _ELLIPSIS.search(text)):
        return "ellipsis"
    return None


def ends_with_elision(text: str) -> bool:
    """Whether `text` ends with "[…]" (or "[...]", "(…)"): always a cut, never an author's."""
    text = text.rstrip()
    # The pattern is tried at every place of the text: most end otherwise.
    return text.endswith(("]", ")")) and _BRACKETED_ELISION.search(text) is not None
