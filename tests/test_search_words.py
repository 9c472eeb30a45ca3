"""What Pagefind is fed (French elisions) and the word filter of the search bundles."""

from __future__ import annotations

import json
from pathlib import Path

from aggregator.publish.search_words import (
    fold,
    for_index,
    prefixes,
    read_bundle_prefixes,
    shards,
    write_bundle_prefixes,
    write_filter,
)


def test_elision_apostrophes_are_made_ascii_for_the_index() -> None:
    assert for_index("<p>L’engagement, qu’il dit, jusqu’ici d’abord</p>") == (
        "<p>L'engagement, qu'il dit, jusqu'ici d'abord</p>")
    # Not an elision: a closing quote, aujourd’hui (one word), a space after it.
    assert for_index("‘le’ mot, aujourd’hui, l’ 2") == "‘le’ mot, aujourd’hui, l’ 2"


def test_fold_drops_accents_and_case_as_the_search_page_does() -> None:
    assert fold("Modération ÉTÉ Œuvre naïve") == "moderation ete œuvre naive"


def test_prefixes_are_of_the_text_not_of_the_markup() -> None:
    html = ('<p class="excerpt">Les communautés d’<b>été</b>, l’engagement &amp; '
            "x2</p><script>var zzz = 1;</script>")
    # Six characters at most, two at least (a search word has two).
    assert prefixes(html) == {"les", "commun", "ete", "engage", "lengag", "dete", "x2"}


def test_prefixes_hold_the_endings_the_stemmer_replaces() -> None:
    # Snowball: "sociaux" → "social", "différences" → "différent", "heureuses" →
    # "heureux", "critiques"… "critic" → "critiqu": each stem begins as a prefix does.
    found = prefixes("<p>sociaux cruciaux différences logicielles</p>")
    assert {"sociau", "social", "crucia", "differ", "logici"} <= found
    assert prefixes("<p>agences</p>") == {"agence", "agent"}
    assert "critiq" in prefixes("<p>Ses critications</p>")


def test_shards_group_the_prefixes_by_their_first_two_characters() -> None:
    assert shards({"2026-12": {"commun", "col", "x2"}, "2025": {"commun", "ete"}}) == {
        "63-6f": {"2026-12": "l mmun", "2025": "mmun"},
        "78-32": {"2026-12": ""},
        "65-74": {"2025": "e"},
    }


def test_the_filter_covers_the_bundles_that_have_prefixes(tmp_path: Path) -> None:
    for name in ("2026-12", "2025"):
        (tmp_path / name).mkdir()
    write_bundle_prefixes(tmp_path / "2026-12", {"commun", "ete"})
    assert read_bundle_prefixes(tmp_path / "2026-12") == {"commun", "ete"}
    assert read_bundle_prefixes(tmp_path / "2025") is None  # built before the filter
    assert write_filter(tmp_path, ["2026-12", "2025"]) == ["2026-12"]
    folder = tmp_path / "prefixes"
    assert sorted(p.name for p in folder.iterdir()) == ["63-6f.json", "65-74.json"]
    assert json.loads((folder / "63-6f.json").read_text("utf-8")) == {"2026-12": "mmun"}
    write_bundle_prefixes(tmp_path / "2026-12", {"ete"})
    write_filter(tmp_path, ["2026-12", "2025"])  # written anew, not added to
    assert sorted(p.name for p in folder.iterdir()) == ["65-74.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025", "2026-12", "prefixes"]
