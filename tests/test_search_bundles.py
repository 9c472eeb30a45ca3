"""The search index in bundles: which day page goes to which bundle (pure), and what a
render rebuilds, folds and removes, with the real Pagefind over small day pages."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from aggregator.publish import search
from aggregator.publish.search_bundles import Bundle, bundle_of, day_of, plan


@pytest.mark.parametrize(("name", "day"), [
    ("2026-12-01.html", date(2026, 12, 1)),
    ("2026-12-01-2.html", date(2026, 12, 1)),  # a busy day's second page
    ("2026-02-30.html", None),
    ("index.html", None),
    ("2026-12-01.html.tmp", None),
])
def test_day_of(name: str, day: date | None) -> None:
    assert day_of(name) == day


NEWEST = date(2026, 12, 20)


@pytest.mark.parametrize(("day", "name", "glob"), [
    (date(2024, 7, 14), "2024", "digest/2024-*.html"),
    (date(2025, 12, 31), "2025", "digest/2025-*.html"),
    (date(2026, 1, 1), "2026-01", "digest/2026-01-*.html"),
    (date(2026, 11, 30), "2026-11", "digest/2026-11-*.html"),
    (date(2026, 12, 15), "2026-12-01",
     "digest/2026-12-{01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}*.html"),
    (date(2026, 12, 16), "2026-12-16",
     "digest/2026-12-{16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31}*.html"),
])
def test_bundle_of(day: date, name: str, glob: str) -> None:
    bundle = bundle_of(day, NEWEST)
    assert (bundle.name, bundle.glob) == (name, glob)
    assert bundle.first <= day


def test_plan_lists_the_bundles_newest_first_with_their_pages() -> None:
    names = ["2026-12-20.html", "2026-12-02-2.html", "2026-12-02.html", "2026-03-04.html",
             "2026-03-01.html", "2025-06-01.html", "2023-01-09.html", "feed.xml"]
    assert [(b.name, pages) for b, pages in plan(names).items()] == [
        ("2026-12-16", ["2026-12-20.html"]),
        ("2026-12-01", ["2026-12-02-2.html", "2026-12-02.html"]),
        ("2026-03", ["2026-03-01.html", "2026-03-04.html"]),
        ("2025", ["2025-06-01.html"]),
        ("2023", ["2023-01-09.html"]),
    ]
    assert plan(["feed.xml"]) == {}


def test_a_new_month_folds_the_halves_and_a_new_year_the_months() -> None:
    december = [f"2026-12-{day:02d}.html" for day in range(1, 32)]
    assert [b.name for b in plan(december)] == ["2026-12-16", "2026-12-01"]
    assert [b.name for b in plan([*december, "2027-01-01.html"])] == ["2027-01-01", "2026"]
    assert [b.name for b in plan([*december, "2026-11-03.html"])] == [
        "2026-12-16", "2026-12-01", "2026-11"]


def day_page(root: Path, name: str, words: str) -> Path:
    """A day page as Pagefind sees ours: French, its body and its sort key."""
    day = name[:10]
    page = root / "digest" / name
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<!doctype html><html lang="fr"><body><main data-pagefind-body '
                    f'data-pagefind-sort="date:{day}"><h1>{day}</h1><p>{words}</p></main>'
                    f"</body></html>", "utf-8")
    return page


def listed(root: Path) -> list[str]:
    names: list[str] = json.loads(
        (root / "pagefind" / "bundles.json").read_text("utf-8"))["bundles"]
    return names


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An output folder with pages in four bundles, all built."""
    for name in ("2025-06-01.html", "2026-11-05.html", "2026-12-02.html",
                 "2026-12-17.html"):
        day_page(tmp_path, name, "La communauté se modère")
    assert search.update_index(tmp_path) == ("2026-12-16", "2026-12-01", "2026-11", "2025")
    assert listed(tmp_path) == ["2026-12-16", "2026-12-01", "2026-11", "2025"]
    return tmp_path


def test_a_new_article_today_rebuilds_the_newest_bundle_only(root: Path) -> None:
    day_page(root, "2026-12-17.html", "Une modération plus sereine")
    assert search.update_index(root) == ("2026-12-16",)
    assert search.update_index(root) == ()


def test_an_old_page_changed_rebuilds_its_own_bundle(root: Path) -> None:
    os.utime(root / "digest" / "2025-06-01.html")  # written now
    assert search.update_index(root) == ("2025",)


def test_a_removed_page_rebuilds_its_bundle_and_an_emptied_one_goes(root: Path) -> None:
    (root / "digest" / "2026-11-05.html").unlink()
    assert search.update_index(root) == ()  # nothing left to index there
    assert listed(root) == ["2026-12-16", "2026-12-01", "2025"]
    assert not (root / "pagefind" / "2026-11").exists()
    day_page(root, "2026-12-03.html", "Encore")
    (root / "digest" / "2026-12-02.html").unlink()  # one page for another: same count
    assert search.update_index(root) == ("2026-12-01",)


def test_a_new_month_folds_its_halves_into_one_bundle(root: Path) -> None:
    day_page(root, "2027-01-01.html", "Bonne année")
    assert search.update_index(root) == ("2027-01-01", "2026")
    assert listed(root) == ["2027-01-01", "2026", "2025"]
    assert sorted(p.name for p in (root / "pagefind").iterdir()) == [
        "2025", "2026", "2027-01-01", "bundles.json", "prefixes"]
    entry = json.loads((root / "pagefind" / "2026" / "pagefind-entry.json").read_text())
    assert entry["languages"]["fr"]["page_count"] == 3


def test_the_single_index_of_earlier_versions_is_replaced(tmp_path: Path) -> None:
    day_page(tmp_path, "2026-12-17.html", "La communauté")
    old = tmp_path / "pagefind"
    (old / "fragment").mkdir(parents=True)
    (old / "pagefind.js").write_text("// the single index of earlier versions")
    (old / "pagefind-entry.json").write_text("{}")
    assert search.update_index(tmp_path) == ("2026-12-16",)
    assert sorted(p.name for p in old.iterdir()) == ["2026-12-16", "bundles.json",
                                                     "prefixes"]


def test_a_failing_bundle_leaves_the_list_as_it_was(root: Path) -> None:
    os.utime(root / "digest" / "2025-06-01.html")  # written now
    day_page(root, "2027-01-02.html", "Bonne année")
    before = sorted(p.name for p in (root / "pagefind").iterdir())
    assert search.update_index(root, deadline=0.001) == ()
    assert listed(root) == ["2026-12-16", "2026-12-01", "2026-11", "2025"]
    assert sorted(p.name for p in (root / "pagefind").iterdir()) == before
    assert search.update_index(root) == ("2027-01-01", "2026", "2025")


def test_build_index_rebuilds_every_bundle(root: Path) -> None:
    assert search.build_index(root) == ("2026-12-16", "2026-12-01", "2026-11", "2025")
    assert Bundle(date(2025, 1, 1), "2025", "digest/2025-*.html") in plan(
        p.name for p in (root / "digest").iterdir())


def test_a_bundle_without_word_beginnings_is_built_again(root: Path) -> None:
    manifest = root / "pagefind" / "bundles.json"
    assert json.loads(manifest.read_text())["filtered"] == listed(root)
    (root / "pagefind" / "2025" / "beginnings.txt").unlink()  # built by an earlier version
    day_page(root, "2026-12-17.html", "Une modération plus sereine")
    assert sorted(search.update_index(root)) == ["2025", "2026-12-16"]
    assert json.loads(manifest.read_text())["filtered"] == listed(root)
    prefixes = json.loads((root / "pagefind" / "prefixes" / "6d-6f.json").read_text())
    assert "dera" in prefixes["2026-12-16"].split()
    assert search.update_index(root) == ()  # and once only


def test_the_manifest_says_what_a_search_costs_in_each_bundle(root: Path) -> None:
    costs = json.loads((root / "pagefind" / "bundles.json").read_text())["costs"]
    assert list(costs) == listed(root)
    bundle = root / "pagefind" / "2025"
    chunks = [file.stat().st_size for file in (bundle / "index").iterdir()]
    meta = [file.stat().st_size for file in bundle.glob("*.pf_meta")]
    assert len(meta) == 1 and costs["2025"] == max(chunks) + meta[0] > 0
