"""When an entry's text looks like a teaser of its article: a table of texts and reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.fulltext.truncation import ends_with_elision, truncation_reason

SAMPLES = Path(__file__).parent / "data" / "articles" / "samples"
WHOLE = (SAMPLES / "003_67266b71c6f61b61.txt").read_text("utf-8")  # 2,500 characters
TEASER = ("Il y a bien longtemps, je vous parlais des petits soucis que j’avais à faire "
          "comprendre mon métier aux gens qui m’entouraient.")
LONG_TEASER = WHOLE[:1500].rsplit(" ", 1)[0]


@pytest.mark.parametrize(("text", "siblings", "reason"), [
    (WHOLE, [], None),
    (WHOLE, [2400, 2600, 3000, 2800], None),
    (TEASER + " […]", [], "ellipsis"),
    (TEASER + " [...]", [], "ellipsis"),
    (TEASER + " (…)", [], "ellipsis"),
    (LONG_TEASER + " […]", [], "ellipsis"),
    (TEASER[:-1] + "…", [], "ellipsis"),
    (TEASER[:-1] + "...", [], "ellipsis"),
    (TEASER[:-1] + "… »", [], "ellipsis"),
    # a whole post may end "A suivre..." (sample 004): after a long text, not a cut
    (WHOLE + " A suivre...", [], None),
    (TEASER + " Lire la suite", [], "read-more"),
    (TEASER + " Lire la suite de l’article", [], "read-more"),
    (LONG_TEASER + ". Lire la suite de l'article", [], "read-more"),
    (LONG_TEASER + ". Continue reading →", [], "read-more"),
    (LONG_TEASER + ". Read more", [], "read-more"),
    (LONG_TEASER + ". The post Vis ma vie de CM appeared first on Chifoumy.", [],
     "appeared-first-on"),
    (LONG_TEASER + ". L’article Vis ma vie est apparu en premier sur Chifoumy.", [],
     "appeared-first-on"),
    (LONG_TEASER + ". Rendez-vous sur Hellocoton !", [], "aggregator-footer"),
    (WHOLE + " Rendez-vous sur Hellocoton !", [], None),  # the blog's own footer
    (TEASER, [], "short"),
    ("", [], "short"),
    (LONG_TEASER, [6000, 7000, 8000], "shorter-than-siblings"),
    (LONG_TEASER, [6000, 7000], None),  # two others: too few for a median
    (LONG_TEASER, [1000, 1200, 1500, 0, 0], None),
    # the author's own words in the middle are not a footer
    ("Lire la suite de ce billet m’a plu. " + WHOLE, [], None),
])
def test_truncation_reasons(text: str, siblings: list[int], reason: str | None) -> None:
    assert truncation_reason(text, siblings) == reason


def test_a_bracketed_elision_is_a_cut_and_a_bare_one_is_not() -> None:
    assert ends_with_elision("Et puis le temps a passé […]  ")
    assert not ends_with_elision("Et puis le temps a passé…")
