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



@pytest.mark.parametrize("width", range(22, 41))
def test_a_cell_never_breaks_at_a_no_break_space(width: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from aggregator.cli.output import console
    held = ["«\u00a0Hellocoton\u00a0»,\u00a00,01\u00a0s", "essai\u202f;", "fin\u00a0:",
            "12\u202f345"]  # what French typography ties together, 22 cells at most
    table = Table(show_header=False, box=None, padding=0)
    table.add_column(max_width=width, overflow="fold")
    table.add_row(f"Réponse de {held[0]}")
    table.add_row(f"Un {held[1]} la {held[2]} {held[3]} octets")
    shown = Console(width=width, file=console.file)
    with shown.capture() as captured:
        shown.print(table)
    lines = captured.get().splitlines()
    assert all(any(words in line for line in lines) for words in held), lines
