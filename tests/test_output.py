"""How a table's cells are made to fit the terminal (aggregator.cli.output)."""

from __future__ import annotations

import pytest

from aggregator.cli.output import natural_width, shorten_url, width_left

LONG = "https://www.exemple.fr/blog/categorie/community-management/2026/flux/feed.xml"


@pytest.mark.parametrize("width, shown", [
    (len(LONG), LONG),
    (60, "https://www.exemple.fr/…/2026/flux/feed.xml"),
    (33, "https://www.exemple.fr/…/feed.xml"),
    (32, "https://www.exemple.fr…/feed.xml"),  # no room for a whole segment: the site is cut
    (10, "https….xml"),
    (1, "…"),
])
def test_an_address_loses_its_middle_first(width: int, shown: str) -> None:
    assert shorten_url(LONG, width) == shown
    assert len(shown) <= width


def test_an_address_without_segments_keeps_its_two_ends() -> None:
    shown = shorten_url("https://flux.example/un-nom-de-flux-sans-dossier.xml?page=2", 30)
    assert shown == "https://flux.ex…ier.xml?page=2"


def test_widths_of_a_boxed_table() -> None:
    assert natural_width("tags", ["métier, veille", "x"]) == 14
    assert natural_width("tags", ["métier, veille"], cap=10) == 10
    assert natural_width("enabled", []) == 7
    # 80 cells, two columns of 10 and 20: three borders and four paddings taken before them.
    assert width_left(80, [10, 20]) == 80 - 30 - 3 * 3 - 1
