"""Interface translations: gettext catalogs made with Babel; French by default, or English."""

from __future__ import annotations

import ast
import io
import json
import logging
import re
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from babel import Locale
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from click.testing import CliRunner

from aggregator import i18n
from aggregator.cli import main
from aggregator.cli.app import JsonFormatter, TextFormatter
from aggregator.i18n import LOCALE_DIR, Deferred, Plural, load_translations, read_catalog
from aggregator.models import UpdateOutcome
from aggregator.poll.save import describe_outcome
from aggregator.publish.environment import make_environment
from tests.conftest import SITE_SOURCES, FeedServer, poll_and_render, write_config

ROOT = Path(__file__).parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]*>")
# Modules whose messages are still English only: none since the second round (issue 21).
# Their marked messages are not required yet; name here a module whose are not.
NOT_YET_TRANSLATED: tuple[str, ...] = ()
# Calls that show their first argument to a person: a literal there must be translated.
SHOWN = {"print", "echo", "secho", "ClickException", "UsageError", "BadParameter",
         "FetchError", "progress_bar"}


def extracted() -> dict[str, tuple[tuple[str, ...], set[str]]]:
    """Every message of the templates and of aggregator/, extracted as babel.cfg says:
    msgid to all its ids and the files it is found in."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, tuple[tuple[str, ...], set[str]]] = {}
    for file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map):
        ids = (message,) if isinstance(message, str) else tuple(message)
        found.setdefault(ids[0], (ids, set()))[1].add(file)
    return found


def template_messages() -> dict[str, tuple[str, ...]]:
    """Every extracted message: msgid to all its ids."""
    return {msgid: ids for msgid, (ids, _files) in extracted().items()}


def covered(file: str) -> bool:
    return not file.startswith(NOT_YET_TRANSLATED)


def test_babel_extracts_the_template_and_command_line_messages() -> None:
    messages = template_messages()
    assert len(messages) >= 100
    assert messages["%(num)d article"] == ("%(num)d article", "%(num)d articles")
    assert "Other" in messages and "Also published on:" in messages
    # _, counted, Plural and the log calls are keywords.
    assert messages["%(n)s new entry"] == ("%(n)s new entry", "%(n)s new entries")
    assert "No feed is due; use --force to poll them all now." in messages
    assert "day pages rendered: %d of %d; files written: %d" in messages  # log.info
    assert messages["%d entry stored; feeds polled: %d, failed: %d"][1].startswith(
        "%d entries stored")  # Plural


def test_every_message_has_a_french_translation() -> None:
    catalog = read_catalog("fr")
    for msgid, (ids, files) in extracted().items():
        if not any(covered(file) for file in files):
            continue
        entry = catalog.get(msgid)
        assert entry is not None, f"no French translation for {msgid!r}: run pybabel update"
        assert not entry.fuzzy, f"fuzzy French translation for {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"empty French translation for {msgid!r} ({sorted(files)})"
        assert len(strings) == (2 if len(ids) == 2 else 1), msgid
    # Placeholders match their msgid (python-format checks by Babel).
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def _literal_words(node: ast.expr) -> str:
    """The words of a string literal or f-string; "" for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_words(part) for part in node.values)
    return ""


def test_what_the_command_line_shows_is_marked_for_translation() -> None:
    unmarked = []
    for path in sorted((ROOT / "aggregator").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if not covered(name):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in SHOWN and re.search(r"[A-Za-z]{2}", _literal_words(node.args[0])):
                unmarked.append(f"{name}:{node.lineno}")
    assert unmarked == [], "English text shown without _(): " + ", ".join(unmarked)
    for prefix in NOT_YET_TRANSLATED:  # the list names what exists
        assert list(ROOT.glob(prefix + ("**/*.py" if prefix.endswith("/") else ""))), prefix


def test_template_catalog_and_french_catalog_follow_the_messages() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    extracted_ids = set(template_messages())
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id} == (
        extracted_ids), "messages.pot is stale: run pybabel extract (see aggregator/i18n.py)"
    french = read_catalog("fr")
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in french if m.id} == extracted_ids
    assert not french.obsolete
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"
    # Catalogs are compiled in memory: no binary .mo file is kept.
    assert not list(LOCALE_DIR.rglob("*.mo"))


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", ["0 article", "1 article", "3 articles", "1 min de lecture", "7 min de lecture"]),
    ("en", ["0 articles", "1 article", "3 articles", "1 min read", "7 min read"]),
])
def test_counts_take_the_plural_forms_of_the_language(language: str, expected: list[str]) -> None:
    env = make_environment(language=language)
    template = env.from_string(
        "{{ ngettext('%(num)d article', '%(num)d articles', n) }}|"
        "{{ ngettext('%(num)d min read', '%(num)d min read', n) }}")
    counts = [template.render(n=n).split("|") for n in (0, 1, 3)]
    minutes = [template.render(n=n).split("|")[1] for n in (1, 7)]
    assert [c[0] for c in counts] + minutes == expected


def test_translations_escape_what_they_format() -> None:
    env = make_environment(language="fr")
    html = env.from_string('{{ _("by %(author)s", author=name) }}').render(name="<b>A&B</b>")
    assert html == "par &lt;b&gt;A&amp;B&lt;/b&gt;"
    assert load_translations("fr").gettext("Other") == "Autres"
    assert load_translations("en").gettext("Other") == "Other"


ENGLISH_TAGS = {"community management": "community management", "humour": "humor",
                "métier": "careers"}


@pytest.fixture
def english_site(feed_server: FeedServer, make_config: Any) -> Path:
    feeds = [
        {"name": name, "url": feed_server.serve_file(file),
         "tags": [ENGLISH_TAGS[t] for t in tags]}
        for name, (file, tags) in SITE_SOURCES.items()
    ]
    return poll_and_render(make_config(feeds, language="en", title="Community watch"))


def interface_text(page: str) -> str:
    """The page's own words: its text and labels without the entries' data (titles, blogs,
    authors, excerpts, tags), which stay in the language they were written in."""
    document = lxml.html.fromstring(page)
    for node in document.xpath("//h3 | //h4 | //*[contains(@class, 'source')] | "
                               "//*[@class='name'] | //*[@class='excerpt'] | "
                               "//ul[@class='tags'] | //p[@class='also']/a | //title"):
        node.drop_tree()
    labels = " ".join(document.xpath("//@aria-label | //@title"))
    return document.text_content() + " " + labels


def french_interface_words() -> set[str]:
    """The French phrases of the pages' catalog entries that English never uses, and French
    date words."""
    pages = {msgid: ids for msgid, (ids, files) in extracted().items()
             if any(file.startswith("templates") for file in files)}
    english = " ".join(" ".join(ids) for ids in pages.values())
    phrases: set[str] = set()
    for message in read_catalog("fr"):
        if (message.id if isinstance(message.id, str) else message.id[0]) not in pages:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            for part in PLACEHOLDER.split(text or ""):
                part = part.strip(" \xa0.:,()·")
                if len(part) >= 3 and part not in english:
                    phrases.add(part)
    locale = Locale.parse("fr")
    phrases.update(locale.days["format"]["wide"].values())
    phrases.update(locale.months["format"]["wide"].values())
    phrases.update(locale.months["format"]["abbreviated"].values())
    return phrases


def contains_word(text: str, word: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.I) is not None


def test_english_pages_have_english_words_and_dates(english_site: Path) -> None:
    day = (english_site / "digest/2013-12-12.html").read_text("utf-8")
    assert '<html lang="en">' in day
    assert "<h1>Thursday, December 12, 2013</h1>" in day
    assert '<time datetime="2013-12-12T21:47:00+01:00">9:47\u202fPM</time>' in day
    assert '<p class="summary">1 article, 1 blog</p>' in day
    assert "2 min read" in day and 'aria-label="Other days"' in day
    assert 'rel="prev" href="../digest/2013-02-05.html"><span class="dir">← Previous day</span>' \
        ' Tuesday, February 5, 2013</a>' in day
    copy = (english_site / "digest/2012-07-13.html").read_text("utf-8")
    assert re.search(r"Also published on:\s*<a [^>]+>Vis ma vie de CM</a> "
                     r'<span class="when">\(Jul 13, 2012\)</span>', copy), copy
    assert '<h2 id="topic-1">Other <span class="count">1 article</span></h2>' in copy
    index = (english_site / "index.html").read_text("utf-8")
    assert "Updated on Saturday, November 21, 2026 at 10:00\u202fAM." in index
    assert "<h2>Previous days</h2>" in index and "June 2016" in index
    assert ">The whole archive</a>" in index and ">All months</a>" in index
    archive = (english_site / "archive.html").read_text("utf-8")
    assert "<title>Archive · " in archive and "December 2013" in archive
    assert '<p class="summary">8 days, 8 months</p>' in archive


def test_english_pages_have_no_french_interface_words(english_site: Path) -> None:
    words = french_interface_words()
    assert {"Aussi publié sur", "Autres", "min de lecture", "jeudi", "décembre"} <= words
    pages = [english_site / "index.html", english_site / "archive.html",
             *sorted((english_site / "digest").glob("*.html"))]
    assert len(pages) > 5
    for page in pages:
        text = interface_text(page.read_text("utf-8"))
        found = sorted(w for w in words if contains_word(text, w))
        assert not found, f"{page.name}: French interface words {found}"


def test_french_is_the_default(feed_server: FeedServer, make_config: Any) -> None:
    config = make_config([{"name": "Vis", "url": feed_server.serve_file("vis-ma-vie.atom")}])
    assert config.settings.language == "fr"
    day = (poll_and_render(config) / "digest/2013-12-12.html").read_text("utf-8")
    assert '<html lang="fr">' in day and "<h1>Jeudi 12 décembre 2013</h1>" in day
    assert "Aller au contenu" in day and "2 min de lecture" in day
    # The detector of the English test finds French words where there are some.
    text = interface_text(day)
    assert {w for w in french_interface_words() if contains_word(text, w)} >= {
        "Aller au contenu", "min de lecture", "jeudi", "décembre", "Archives", "par"}


# --- the command line -------------------------------------------------------------------

@pytest.mark.parametrize(("language", "expected"), [
    ("fr", ["0 nouvel article", "1 nouvel article", "2 nouveaux articles",
            "1\u202f234 nouveaux articles"]),
    ("en", ["0 new entries", "1 new entry", "2 new entries", "1,234 new entries"]),
])
def test_command_line_counts_take_the_plural_forms_and_numbers_of_the_language(
        language: str, expected: list[str]) -> None:
    i18n.use(language)
    assert [i18n.counted("%(n)s new entry", "%(n)s new entries", n)
            for n in (0, 1, 2, 1234)] == expected


def test_numbers_durations_and_dates_are_written_as_the_language_writes_them() -> None:
    moment = datetime(2026, 11, 21, 8, 5, tzinfo=UTC)
    i18n.use("fr")
    assert (i18n.number(1234), i18n.number(1234.5, 1), i18n.seconds(0.25, 2)) == (
        "1\u202f234", "1\u202f234,5", "0,25\u00a0s")
    assert i18n.moment(moment, ZoneInfo("Europe/Paris")) == "21 nov. 2026 09:05"
    i18n.use("en")
    assert (i18n.number(1234), i18n.number(1234.5, 1), i18n.seconds(0.25, 2)) == (
        "1,234", "1,234.5", "0.25 s")
    assert i18n.moment(moment, ZoneInfo("Europe/Paris")) == "Nov 21, 2026 09:05"
    with pytest.raises(ValueError, match="no catalog"):
        i18n.use("de")


@pytest.mark.parametrize(("environ", "language"), [
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
    ({"LC_MESSAGES": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LANGUAGE": "en", "LC_ALL": "fr_FR.UTF-8"}, "en"),  # gettext's order
    ({"LANGUAGE": "", "LC_ALL": "fr_BE"}, "fr"),  # an empty variable is not set
])
def test_without_a_feeds_yaml_the_locale_decides(environ: dict[str, str], language: str) -> None:
    assert i18n.language_from_environment(environ) == language


def test_the_command_line_takes_its_language_from_settings_else_from_the_locale(
        tmp_path: Path) -> None:
    french_locale = {"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "fr_FR.UTF-8"}
    absent = CliRunner(env=french_locale).invoke(
        main, ["--config", str(tmp_path / "absent.yaml"), "status"])
    assert absent.exit_code == 1 and i18n.active_language() == "fr"
    english = write_config(tmp_path, [], language="en")
    shown = CliRunner(env=french_locale).invoke(main, ["--config", str(english), "fetch"])
    assert shown.output == "No feed is due; use --force to poll them all now.\n"
    french = write_config(tmp_path, [], language="fr")
    shown = CliRunner(env={"LANG": "C.UTF-8"}).invoke(main, ["--config", str(french), "fetch"])
    assert shown.output == ("Aucun flux n’est à interroger pour l’instant\u00a0; --force les "
                            "interroge tous maintenant.\n")


@pytest.fixture
def two_feeds(tmp_path: Path, feed_server: FeedServer, refused_url: str) -> dict[str, Any]:
    return {"tmp_path": tmp_path, "feeds": [
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom", delay=1.1)},
        {"name": "En panne", "url": refused_url}]}


@pytest.mark.parametrize(("language", "fetched", "table"), [
    ("fr", [r"En panne\u00a0: erreur\u00a0: échec de connexion\u00a0: 127\.0\.0\.1:\d+\u00a0: "
            r"connexion refusée",
            r"2 flux interrogés en \d+,\d\u00a0s\u00a0: 2 nouveaux articles, 1 en échec\.",
            r"Les plus lents\u00a0: Vis ma vie \(1,\d\d\u00a0s\)"],
     ["2 flux dans ", "ce qui s’est passé", "en échec depuis le", "(1 tentative)",
      "interrogé le "]),
    ("en", [r"En panne: error: connection failed: 127\.0\.0\.1:\d+: connection refused",
            r"2 feeds polled in \d+\.\d s: 2 new entries, 1 failed\.",
            r"Slowest: Vis ma vie \(1\.\d\d s\)"],
     ["2 feeds in ", "what happened", "failing since", "(1 attempt)", "polled "]),
])
def test_fetch_and_status_speak_the_language_of_the_settings(
        two_feeds: dict[str, Any], language: str, fetched: list[str], table: list[str]) -> None:
    config = write_config(two_feeds["tmp_path"], two_feeds["feeds"], language=language)
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(main, ["--config", str(config), "fetch"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3, result.output
    for pattern, line in zip(fetched, lines, strict=True):
        assert re.fullmatch(pattern, line), line
    status = runner.invoke(main, ["--config", str(config), "status"])
    assert status.exit_code == 0, status.output
    for words in table:
        assert words in status.output, status.output
    # Scripts get the same keys and states in every language.
    records = json.loads(runner.invoke(main, ["--config", str(config), "status",
                                              "--json"]).output)
    assert [r["state"] for r in records] == ["ok", "failing"]


def _log_lines(log_format: str) -> list[str]:
    """Two log lines made by the daemon's calls, through the CLI's formatter, in French."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(False))
    log = logging.getLogger("tests.i18n")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    outcome = UpdateOutcome("Blog", "new", new=1, updated=2, elapsed=0.5, duplicates=1)
    i18n.use("fr")
    try:
        log.info(Plural("%d entry stored; feeds polled: %d, failed: %d",
                        "%d entries stored; feeds polled: %d, failed: %d", 1), 1, 1234, 0)
        log.info("%s: %s", outcome.feed, Deferred(partial(describe_outcome, outcome)))
        log.warning("a poll still runs after %s; leaving it (each feed is stored whole or "
                    "not at all)", Deferred(partial(i18n.seconds, 2.5)))
    finally:
        log.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_log_lines_are_translated_as_text_and_stay_english_as_json() -> None:
    text = [line.split(": ", 1)[1] for line in _log_lines("text")]  # after the logger name
    assert text == [
        "1 article enregistré\u00a0; flux interrogés\u00a0: 1\u202f234, en échec\u00a0: 0",
        "Blog\u00a0: 1 nouveau, 1 déjà publié ailleurs, 2 mis à jour en 0,50\u00a0s",
        "une interrogation tourne encore après 2,5\u00a0s\u00a0; elle est abandonnée (chaque "
        "flux est enregistré en entier ou pas du tout)"]
    records = [json.loads(line) for line in _log_lines("json")]
    assert [r["message"] for r in records] == [
        "1 entry stored; feeds polled: 1234, failed: 0",
        "Blog: 1 new, 1 already published elsewhere, 2 updated in 0.50 s",
        "a poll still runs after 2.5 s; leaving it (each feed is stored whole or not at all)"]
    assert i18n.active_language() == "fr"  # the JSON line was English for itself only


# --- stored messages are English, translated where shown ---------------------------------

@pytest.mark.parametrize(("stored", "french"), [
    ("connection failed: 127.0.0.1:8080: connection refused",
     "échec de connexion\u00a0: 127.0.0.1:8080\u00a0: connexion refusée"),
    ("no answer within 2.5 s", "pas de réponse en 2,5\u00a0s"),
    ("error: body larger than the 1,500 bytes limit",
     "erreur\u00a0: contenu plus grand que la limite de 1\u202f500 octets"),
    ("body larger than the 1 byte limit", "contenu plus grand que la limite de 1 octet"),
    ("unsupported Content-Encoding 'br'", "Content-Encoding 'br' non pris en charge"),
    ("connection failed: example.org: cannot resolve the host name (Name or service not "
     "known)", "échec de connexion\u00a0: example.org\u00a0: impossible de résoudre le nom "
     "d’hôte (Name or service not known)"),
    ("connection refused", "connexion refusée"),
    ("the server's own words: 42", "the server's own words: 42"),  # no msgid: as it is
    ("", ""),
])
def test_stored_english_messages_are_translated_when_shown(stored: str, french: str) -> None:
    i18n.use("fr")
    assert i18n.translate_message(stored) == french
    i18n.use("en")
    assert i18n.translate_message(stored) == stored


def test_a_message_that_holds_anything_is_not_a_pattern() -> None:
    """"%(feed)s: %(outcome)s" has no words of its own: it would match every text with a
    colon, and translate a server's words as if they were ours."""
    i18n.use("fr")
    assert i18n.translate_message("Bad Gateway: upstream") == "Bad Gateway: upstream"


def _switch_language(config: Path, language: str) -> None:
    text = config.read_text("utf-8")
    config.write_text(re.sub(r"language: \w+", f"language: {language}", text), "utf-8")


@pytest.mark.parametrize(("polled_in", "shown_in", "shown"), [
    ("fr", "en", "connection failed: 127.0.0.1:"),
    ("en", "fr", "échec de connexion\u00a0: 127.0.0.1:"),
])
def test_a_stored_error_speaks_the_language_of_whoever_reads_it(
        two_feeds: dict[str, Any], polled_in: str, shown_in: str, shown: str) -> None:
    config = write_config(two_feeds["tmp_path"], two_feeds["feeds"], language=polled_in)
    runner = CliRunner(env={"COLUMNS": "300"})
    assert runner.invoke(main, ["--config", str(config), "fetch"]).exit_code == 0
    _switch_language(config, shown_in)
    status = runner.invoke(main, ["--config", str(config), "status", "--wide"])
    assert status.exit_code == 0, status.output
    assert shown in status.output, status.output
    # Stored in English whoever polled: what scripts (and the JSON log) read.
    records = json.loads(runner.invoke(main, ["--config", str(config), "status",
                                              "--json"]).output)
    assert re.fullmatch(r"connection failed: 127\.0\.0\.1:\d+: connection refused",
                        records[1]["last_error"]), records[1]


def test_the_poll_makes_its_errors_in_english_whatever_the_language(refused_url: str) -> None:
    from aggregator.poll.fetch import fetch_feed, make_session

    i18n.use("fr")
    fetched = fetch_feed(make_session(), refused_url, timeout=5)
    assert fetched.error is not None and fetched.error.endswith(": connection refused")
    assert i18n.active_language() == "fr"  # English for the poll only


# --- the compiled catalog is kept ------------------------------------------------------

def test_the_catalog_is_compiled_once_and_then_read(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = i18n.compiled_catalog("fr", tmp_path)
    kept = list(tmp_path.iterdir())
    assert [k.suffix for k in kept] == [".mo"] and kept[0].read_bytes() == compiled

    def no_compiling(language: str) -> bytes:
        raise AssertionError("compiled again")

    monkeypatch.setattr(i18n, "compile_catalog", no_compiling)
    assert i18n.compiled_catalog("fr", tmp_path) == compiled
    # An edited .po has another hash: another file, compiled anew.
    monkeypatch.setattr(i18n, "catalog_path", lambda language: tmp_path / "edited.po")
    (tmp_path / "edited.po").write_bytes(b"# edited")
    with pytest.raises(AssertionError, match="compiled again"):
        i18n.compiled_catalog("fr", tmp_path)


def test_without_a_writable_cache_the_catalog_is_compiled_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    compiled = i18n.compiled_catalog("fr", blocked / "cache")
    assert compiled == i18n.compile_catalog("fr")


def test_the_cache_folder_follows_xdg(tmp_path: Path) -> None:
    assert i18n.cache_folder({"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "aggregator" / "locale")
    assert i18n.cache_folder({}) == Path.home() / ".cache" / "aggregator" / "locale"
