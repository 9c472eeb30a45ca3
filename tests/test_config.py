"""feeds.yaml loading and validation: defaults, paths, URLs, located errors."""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.config.load import (
    ConfigError,
    Problem,
    load_config,
    resolve_database_url,
)
from aggregator.config.settings import Settings


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def describe(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.describe()


MINIMAL = """
feeds:
  - name: Mon métier
    url: https://mon-metier-web.example/feed/
"""


# --- a valid file ---------------------------------------------------------------------


def test_minimal_file_loads_with_default_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    settings = config.settings
    assert settings.timezone == "Europe/Paris"
    assert settings.title == "Veille community management"
    assert settings.base_url == "http://127.0.0.1:8080/"
    assert settings.language == "fr"
    assert settings.poll_interval == timedelta(hours=1)
    assert settings.timeout == 30.0
    assert settings.max_size == 10_000_000
    assert settings.feed_entries == 50
    assert settings.concurrency == 8


def test_default_database_and_output_dir_sit_next_to_the_file(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, MINIMAL)).settings
    assert settings.database == f"sqlite:///{tmp_path.resolve() / 'aggregator.db'}"
    assert settings.output_dir == tmp_path.resolve() / "public"


def test_feed_defaults(tmp_path: Path) -> None:
    feed = load_config(write(tmp_path, MINIMAL)).feeds[0]
    assert feed.name == "Mon métier"
    assert feed.url == "https://mon-metier-web.example/feed/"
    assert feed.tags == ()
    assert feed.poll_interval is None
    assert feed.enabled is True


def test_every_setting_and_feed_key_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, """
        settings:
          database: data/veille.db
          output_dir: site
          timezone: America/Montreal
          title: Ma veille
          base_url: https://veille.example/cm
          language: en
          poll_interval: 30m
          timeout: 90
          max_size: 512KiB
          feed_entries: 20
          concurrency: 2
        feeds:
          - name: Vis ma vie
            url: https://vismavie.example/feeds/posts/default
            tags: [cm, " humeur ", cm]
            poll_interval: 2h
            enabled: false
    """)
    config = load_config(path)
    base = tmp_path.resolve()
    assert config.settings == Settings(
        database=f"sqlite:///{base / 'data/veille.db'}",
        output_dir=base / "site",
        timezone="America/Montreal",
        title="Ma veille",
        base_url="https://veille.example/cm/",
        language="en",
        poll_interval=timedelta(minutes=30),
        timeout=90.0,
        max_size=512 * 1024,
        feed_entries=20,
        concurrency=2,
    )
    feed = config.feeds[0]
    assert feed.tags == ("cm", "humeur")
    assert feed.poll_interval == timedelta(hours=2)
    assert feed.enabled is False


def test_a_single_tag_string_becomes_a_one_tag_tuple(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    tags: veille\n")
    assert load_config(path).feeds[0].tags == ("veille",)


def test_config_feed_finds_a_feed_by_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.feed("Mon métier") is config.feeds[0]
    assert config.feed("Inconnu") is None


def test_relative_sqlite_path_resolves_next_to_feeds_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = write(folder, "settings:\n  database: state/agg.db\n")
    expected = f"sqlite:///{folder.resolve() / 'state' / 'agg.db'}"
    assert load_config(path).settings.database == expected


def test_relative_sqlite_path_ignores_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    write(folder, "settings:\n  database: agg.db\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("conf/feeds.yaml"))
    assert config.settings.database == f"sqlite:///{folder.resolve() / 'agg.db'}"


def test_postgresql_url_gets_the_psycopg_driver(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  database: postgresql://cm@127.0.0.1:5432/veille\n")
    assert load_config(path).settings.database == "postgresql+psycopg://cm@127.0.0.1:5432/veille"


# --- resolve_database_url -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("agg.db", "sqlite:////srv/veille/agg.db"),
        ("db/agg.db", "sqlite:////srv/veille/db/agg.db"),
        ("sqlite:///rel.db", "sqlite:////srv/veille/rel.db"),
        ("sqlite:////abs/agg.db", "sqlite:////abs/agg.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"),
        ("postgres://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"),
        ("postgresql+psycopg://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"),
    ],
)
def test_resolve_database_url(value: str, expected: str) -> None:
    assert resolve_database_url(value, Path("/srv/veille")) == expected


# --- errors: located, with the key path -----------------------------------------------


def test_missing_url_names_file_line_column_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
        feeds:
          - name: Bon
            url: https://bon.example/feed/
          - name: Sans URL
    """)
    assert describe(path) == f"{path}:4:5: feeds[1].url: missing (required)"


def test_missing_name_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://bon.example/feed/\n")
    assert problems_of(path) == [Problem(2, 5, "feeds[0].name", "missing (required)")]


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "mon-site.example/feed", "https://"])
def test_non_http_url_is_rejected(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f"feeds:\n  - name: A\n    url: {url}\n")
    assert describe(path) == (
        f"{path}:3:5: feeds[0].url: expected an http:// or https:// URL, got {url!r}"
    )


def test_duplicate_name_points_at_the_second_one(tmp_path: Path) -> None:
    path = write(tmp_path, """
        feeds:
          - name: Mon métier
            url: https://a.example/feed/
          - name: mon MÉTIER
            url: https://b.example/feed/
    """)
    assert problems_of(path) == [
        Problem(4, 5, "feeds[1].name", "duplicate of feeds[0].name"),
    ]


def test_duplicate_url_ignores_a_trailing_slash(tmp_path: Path) -> None:
    path = write(tmp_path, """
        feeds:
          - name: A
            url: https://a.example/feed/
          - name: B
            url: https://a.example/feed
    """)
    assert problems_of(path) == [Problem(5, 5, "feeds[1].url", "duplicate of feeds[0].url")]


def test_unknown_setting_suggests_the_close_key(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  title: Veille\n  poll_intervall: 2h\n")
    assert describe(path) == (
        f"{path}:3:3: settings.poll_intervall: unknown key (did you mean `poll_interval`?)"
    )


def test_unknown_feed_key_suggests_the_close_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    tag: cm\n")
    assert problems_of(path) == [
        Problem(4, 5, "feeds[0].tag", "unknown key (did you mean `tags`?)"),
    ]


def test_unknown_key_without_a_close_match_has_no_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  zzzz: 1\n")
    assert problems_of(path) == [Problem(2, 3, "settings.zzzz", "unknown key")]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "setting:\n  title: x\n")
    assert problems_of(path) == [
        Problem(1, 1, "setting", "unknown key (did you mean `settings`?)"),
    ]


def test_bad_duration_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  poll_interval: bientôt\n")
    assert describe(path) == (
        f"{path}:2:3: settings.poll_interval: "
        "expected a duration like 30m, 2h or 1d, got 'bientôt'"
    )


def test_bad_feed_duration_names_the_feed_index(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    poll_interval: 5 minutes\n")
    assert problems_of(path) == [
        Problem(4, 5, "feeds[0].poll_interval",
                "expected a duration like 30m, 2h or 1d, got '5 minutes'"),
    ]


def test_tag_that_is_not_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    tags: [cm, 42]\n")
    assert describe(path) == (
        f"{path}:4:5: feeds[0].tags: every tag must be a non-empty string, got 42"
    )


def test_enabled_must_be_a_boolean(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    enabled: oui\n")
    assert problems_of(path) == [
        Problem(4, 5, "feeds[0].enabled", "expected true or false, got 'oui'"),
    ]


def test_unknown_time_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  timezone: Europe/Lutece\n")
    assert problems_of(path) == [
        Problem(2, 3, "settings.timezone",
                "unknown time zone 'Europe/Lutece' (expected e.g. Europe/Paris)"),
    ]


def test_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  title: [pas fermé\nfeeds: []\n")
    message = describe(path)
    assert message.startswith(f"{path}:3:6: YAML syntax error: ")
    assert len(message.splitlines()) == 1


def test_several_errors_are_reported_at_once_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, """
        settings:
          poll_intervall: 2h
          timeout: soon
        feeds:
          - name: Mon métier
            url: https://mon-metier-web.example/feed/
            tags: [cm, 42]
          - name: Sans URL
          - name: FTP
            url: ftp://example.org/feed
    """)
    problems = problems_of(path)
    assert [(p.line, p.column, p.key) for p in problems] == [
        (2, 3, "settings.poll_intervall"),
        (3, 3, "settings.timeout"),
        (7, 5, "feeds[0].tags"),
        (8, 5, "feeds[1].url"),
        (10, 5, "feeds[2].url"),
    ]
    assert len(describe(path).splitlines()) == 5


def test_feeds_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  name: A\n")
    assert problems_of(path) == [
        Problem(1, 1, "feeds", "expected a list of feeds (`- name: ...`)"),
    ]


def test_document_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- b\n")
    assert problems_of(path) == [
        Problem(1, 1, "", "expected a mapping with `settings:` and `feeds:`"),
    ]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert describe(path) == f"{path}:1:1: file not found"


def test_config_error_message_is_its_description(tmp_path: Path) -> None:
    error = ConfigError(Path("feeds.yaml"), [
        Problem(3, 5, "feeds[0].url", "missing (required)"),
        Problem(1, 1, "", "file not found"),
    ])
    assert error.describe() == (
        "feeds.yaml:3:5: feeds[0].url: missing (required)\nfeeds.yaml:1:1: file not found"
    )
    assert str(error) == error.describe()


# --- limits and names -----------------------------------------------------------------


def _limited() -> list[tuple[str, object, object]]:
    from aggregator.config.settings import SETTINGS

    return [(key.name, *key.limits) for key in SETTINGS if key.limits is not None]


@pytest.mark.parametrize(("key", "least", "most"), _limited(), ids=lambda v: str(v))
def test_every_limit_is_inclusive_and_checked_with_its_place(
        tmp_path: Path, key: str, least: object, most: object) -> None:
    for edge in (least, most):
        assert load_config(write(tmp_path, f"settings:\n  {key}: {edge}\n"))
    number, unit = re.fullmatch(r"(\d+)(\D*)", str(most)).groups()  # type: ignore[union-attr]
    too_big: object = f"{int(number) * 10}{unit}" if unit else int(number) * 10
    path = write(tmp_path, f"settings:\n  title: t\n  {key}: {too_big}\n")
    assert describe(path) == (f"{path}:3:3: settings.{key}: expected between {least} and "
                              f"{most}, got {too_big!r}")


@pytest.mark.parametrize("value", [10**30, "1" * 400, 10**9 * 86400])
def test_a_duration_beyond_any_date_is_a_located_error(tmp_path: Path, value: object) -> None:
    path = write(tmp_path, f"settings:\n  poll_interval: {value}\n")
    assert describe(path).startswith(
        f"{path}:2:3: settings.poll_interval: expected a duration like 30m, 2h or 1d, got ")


def test_the_limits_are_in_the_json_schema() -> None:
    from aggregator.config.schema import json_schema

    settings = json_schema()["properties"]["settings"]["properties"]
    assert (settings["poll_interval"]["minimum"], settings["poll_interval"]["maximum"]) == (
        1, 365 * 86400)
    assert (settings["feed_entries"]["minimum"], settings["feed_entries"]["maximum"]) == (
        1, 10_000)


@pytest.mark.parametrize(("name", "message"), [
    ("n" * 201, "expected at most 200 characters, got 201"),
    ('"a\\tb"', "contains the invisible character U+0009 (a control character): 'a\\tb'"),
    ('"a\\u200bb"', "contains the invisible character U+200B (ZERO WIDTH SPACE): 'a\\u200bb'"),
    ('"a\\u2028b"', "contains the invisible character U+2028 (LINE SEPARATOR): 'a\\u2028b'"),
    ('"  "', "expected a non-empty string, got '  '"),
])
def test_feed_names_are_checked(tmp_path: Path, name: str, message: str) -> None:
    path = write(tmp_path, f"feeds:\n  - name: {name}\n    url: https://a.example/\n")
    assert problems_of(path) == [Problem(2, 5, "feeds[0].name", message)]


def test_names_with_joiners_and_accents_are_fine(tmp_path: Path) -> None:
    name = "La veille 👩\u200d💻 de Zoé " + "x" * 170
    path = write(tmp_path, f'feeds:\n  - name: "{name}"\n    url: https://a.example/\n')
    assert load_config(path).feeds[0].name == name


def test_the_name_limit_is_the_store_column() -> None:
    from aggregator.config.parsers import NAME_LENGTH
    from aggregator.store.schema import FeedRow

    assert FeedRow.__table__.c.name.type.length == NAME_LENGTH


def test_a_raw_control_character_is_located(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"settings:\n  title: Veille\x1b\n")
    assert problems_of(path) == [
        Problem(2, 16, "", "the character U+001B is not allowed in YAML (remove it)")]


def test_a_file_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes("settings:\n  title: Veillée\n".encode("cp1252"))
    assert problems_of(path) == [
        Problem(2, 15, "", "not UTF-8: byte 0xe9 (save the file as UTF-8)")]


def test_tag_with_a_lone_surrogate_or_a_control_character(tmp_path: Path) -> None:
    # YAML's escapes make characters no file or database can take: refused where written.
    path = write(tmp_path, MINIMAL + '    tags: [cm, "a\\ud800b"]\n')
    assert describe(path) == (f"{path}:4:5: feeds[0].tags: contains the invisible character "
                              "U+D800 (a lone surrogate): 'a\\ud800b'")
    path = write(tmp_path, MINIMAL + '    tags: ["x\\u0007"]\n')
    assert "U+0007" in describe(path)
