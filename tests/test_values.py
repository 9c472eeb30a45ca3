"""poll.values: the caps on each stored field and the repairs of values that break them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.poll.values import (
    MAX_AHEAD,
    MAX_BYTES,
    MAX_CATEGORIES,
    MAX_CATEGORY,
    MAX_CONTENT,
    MAX_ENCLOSURES,
    MAX_LINK,
    MAX_NAME,
    MAX_TITLE,
    MIN_DATE,
    Repairs,
    bounded_count,
    byte_length,
    cap_text,
    display_text,
    elide,
    plausible_date,
    repair_entry,
    repair_feed,
    stored_text,
    valid_text,
)
from tests.conftest import DATA
from tests.test_fixtures import compare, expected_path, result_json

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, valid", [
    ("Vis ma vie de CM « ok » 👩‍💻", "Vis ma vie de CM « ok » 👩‍💻"),
    ("tab\tand\nlines\r kept", "tab\tand\nlines\r kept"),
    ("NUL\x00 and \x01\x08\x0b\x0c\x1f controls", "NUL and  controls"),
    ("lone \ud800 high and \udfff low", "lone  high and  low"),
    ("\ufffe\uffff non-characters", " non-characters"),
])
def test_valid_text_keeps_xml_characters_only(text: str, valid: str) -> None:
    assert valid_text(text) == valid
    valid.encode("utf-8")  # what every driver and every page does with it


@pytest.mark.parametrize("text, shown", [
    ("\u202eevil\u202c title", "evil title"),  # RLO ... PDF
    ("\u202a\u202b\u202d embeddings", " embeddings"),
    ("\u2066isolated\u2069 \u2067and\u2069 \u2068first\u2069", "isolated and first"),
    ("\u200b\u200d\u2060\ufeff\u200c", ""),  # a title of zero-width characters only
    ("zero\u200bwidth\u2060space", "zerowidthspace"),
    ("👩\u200d💻 codeuse", "👩\u200d💻 codeuse"),  # a joiner inside an emoji sequence
    ("نمی\u200cخواهم", "نمی\u200cخواهم"),  # a non-joiner inside a Persian word
    ("\u200d lead and trail \u200c", " lead and trail "),
    ("a\u200d\u200db", "ab"),
    ("Dates: 12\u200e/11", "Dates: 12\u200e/11"),  # marks (LRM, RLM) are text, kept
])
def test_display_text_drops_bidi_controls_and_zero_width_runs(text: str, shown: str) -> None:
    assert display_text(text) == shown


def test_cap_text_cuts_at_a_space_near_the_end_else_inside_the_word() -> None:
    assert cap_text("court", 10) == "court"
    words = "mot " * 100
    capped = cap_text(words, 50)
    assert len(capped) <= 50 and capped.endswith("mot…")
    assert cap_text("x" * 9_000_000, MAX_TITLE) == "x" * (MAX_TITLE - 1) + "…"


@pytest.mark.parametrize("cut, shown", [
    ("pour les détails personnels.", "pour les détails personnels…"),
    ("trois choses :", "trois choses…"),
    ("vraiment ?!", "vraiment…"),
    ("déjà coupé…", "déjà coupé…"),
    ("« cité »", "« cité »…"),  # a closing guillemet is text, not a sentence's end
])
def test_an_ellipsis_takes_the_place_of_the_last_punctuation(cut: str, shown: str) -> None:
    assert elide(cut) == shown
    assert cap_text(cut + " et la suite", len(cut) + 2) == shown


@pytest.mark.parametrize("digits, maximum, count", [
    ("3600", 86400, 3600),
    ("0003600", 86400, 3600),
    ("86401", 86400, 86400),
    (str(10**400), 86400, 86400),
    ("9" * 5000, 86400, 86400),  # more digits than int() converts: never converted
    ("", 86400, None),
    ("-5", 86400, None),
    ("3.5", 86400, None),
    ("²", 86400, None),  # str.isdigit() says yes; int() says no
    ("١٢", 86400, None),  # not ASCII
])
def test_bounded_count(digits: str, maximum: int, count: int | None) -> None:
    assert bounded_count(digits, maximum) == count


@pytest.mark.parametrize("value, length", [
    (1234, 1234), ("1234", 1234), (" 1234 ", 1234), (0, 0), (MAX_BYTES, MAX_BYTES),
    (MAX_BYTES + 1, None), (10**400, None), ("9" * 5000, None), (-1, None), (True, None),
    (3.5, None), ("12 Mo", None), (None, None),
])
def test_byte_length_is_a_whole_number_in_range(value: object, length: int | None) -> None:
    assert byte_length(value) == length


@pytest.mark.parametrize("moment, kept", [
    (None, True),
    (NOW, True),
    (MIN_DATE, True),
    (MIN_DATE - timedelta(seconds=1), False),
    (datetime(1, 1, 1, tzinfo=UTC), False),
    (NOW + MAX_AHEAD, True),
    (NOW + MAX_AHEAD + timedelta(seconds=1), False),
    (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), False),
])
def test_plausible_date(moment: datetime | None, kept: bool) -> None:
    assert plausible_date(moment, NOW) == (moment if kept else None)


def test_stored_text_keeps_a_value_whole_or_not_at_all() -> None:
    assert stored_text('"abc"', 10) == '"abc"'
    assert stored_text('"a\x00c"', 10) is None
    assert stored_text("x" * 11, 10) is None
    assert stored_text(None, 10) is None


def entry(**fields: object) -> ParsedEntry:
    values: dict[str, object] = {
        "guid": "g1", "link": "https://blog.example/1", "title": "Titre", "title_is_html": False,
        "author": "Auteur", "published": None, "updated": None, "content": "<p>x</p>",
        "summary": None}
    values.update(fields)
    return ParsedEntry(**values)  # type: ignore[arg-type]


def test_a_valid_entry_is_left_as_it_is() -> None:
    repairs = Repairs()
    good = entry(categories=("a", "b"), enclosures=(Enclosure("https://blog.example/a.mp3"),))
    assert repair_entry(good, repairs) == good
    assert not repairs and repairs.describe() is None


def test_every_field_is_capped_and_the_repairs_counted() -> None:
    repairs = Repairs()
    fixed = repair_entry(entry(
        guid="g\x00\ud800", link="https://blog.example/" + "l" * MAX_LINK,
        title="t" * 9_000_000, author="a" * 1000, content="c" * (MAX_CONTENT + 10),
        summary="s" * 10, language="fr-" + "x" * 40, thumbnail="https://x.example/\ud800",
        categories=("c" * 500, *(f"c{i}" for i in range(60))),
        enclosures=tuple(Enclosure(f"https://x.example/{i}.mp3", "audio/mpeg\x00")
                         for i in range(30))), repairs)
    assert fixed.guid == "g" and fixed.link is None and fixed.language is None
    assert len(fixed.title) == MAX_TITLE and fixed.title.endswith("…")
    assert fixed.author is not None and len(fixed.author) == MAX_NAME
    assert fixed.content is not None and len(fixed.content) == MAX_CONTENT
    assert fixed.summary == "s" * 10
    assert fixed.thumbnail == "https://x.example/"
    assert len(fixed.categories) == MAX_CATEGORIES and len(fixed.categories[0]) == MAX_CATEGORY
    assert len(fixed.enclosures) == MAX_ENCLOSURES
    assert {e.type for e in fixed.enclosures} == {"audio/mpeg"}
    assert repairs.describe() == (
        "values repaired (cut to 100 characters: category ×1; cut to 1000000 characters: "
        "content ×1; cut to 200 characters: author ×1; cut to 300 characters: title ×1; "
        "dropped, longer than 2048 characters: link ×1; dropped, longer than 35 characters: "
        "language ×1; invalid characters removed: enclosure type ×20, id ×1, thumbnail ×1; "
        "only the first 20 kept: enclosures ×1; only the first 50 kept: categories ×1)")


def test_the_feed_fields_are_repaired_too() -> None:
    repairs = Repairs()
    feed = repair_feed(ParsedFeed("json11", "Le\ud800 blog", "https://blog.example/\x00",
                                  "f" * 40, ()), repairs)
    assert (feed.title, feed.site_url, feed.language) == ("Le blog", "https://blog.example/",
                                                          None)
    assert sum(repairs.values()) == 3


def test_hostile_json_feed_gives_its_expected_result() -> None:
    # tests/test_fixtures.py reads the XML fixtures; this one is JSON (see tests/data/README.md).
    feed = DATA / "hostile-values.json"
    expected = json.loads(expected_path(feed).read_text("utf-8"))
    found = compare(feed.name, expected, result_json(feed))
    assert not found, "\n".join(found)
