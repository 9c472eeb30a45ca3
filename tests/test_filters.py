"""Include and exclude rules: in feeds.yaml, on entries, in status and feeds check."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aggregator import i18n
from aggregator.cli import main
from aggregator.config.load import ConfigError, FeedConfig, FilterRule, Filters, load_config
from aggregator.models import StoredEntry
from aggregator.publish.filters import EntryFilter, judge, matches
from tests.conftest import FeedServer, write_config

WHEN = datetime(2024, 3, 1, 9, tzinfo=UTC)
ENTRY = StoredEntry(
    feed_name="Blog", feed_title="Blog", feed_url="https://b.example/feed", site_url=None,
    tags=(), identity="id:1", title="[Pub] Les nouveautés d’Instagram pour les marques",
    link="https://b.example/1", author="Chloé Martin", published=WHEN, updated=None,
    first_seen=WHEN, dated=WHEN, changed=WHEN,
    content="<p>Un article <b>sponsorisé</b> sur les réseaux sociaux.</p>", summary="",
    excerpt="", categories=("Réseaux sociaux", "Partenariat"),
)


@pytest.mark.parametrize("rule, expected", [
    (FilterRule("sponsorise"), True),  # accents and case aside
    (FilterRule("SPONSORISÉ"), True),
    (FilterRule("sponsor"), False),  # whole words only
    (FilterRule("reseaux sociaux", fields=("category",)), True),
    (FilterRule("reseaux sociaux", fields=("title",)), False),
    (FilterRule("chloe", fields=("author",)), True),
    (FilterRule(r"^\[pub\]", regex=True, fields=("title",)), True),
    (FilterRule(r"^\[pub\]", regex=True, fields=("content",)), False),
])
def test_rules_match_fields(rule: FilterRule, expected: bool) -> None:
    fields = {"title": ENTRY.title, "content": "Un article sponsorisé sur les réseaux sociaux.",
              "author": ENTRY.author or "", "category": " · ".join(ENTRY.categories)}
    assert matches(rule, fields) is expected


def test_keywords_match_through_invisible_characters_and_look_alikes() -> None:
    # A sponsored post that hides its keyword from filters: a zero-width space, a soft
    # hyphen, a Cyrillic "о" inside the word. Readers see "sponsorisé" all the same.
    for hidden in ("spon\u200bsorisé", "spon\u00adso\u00adri\u00adsé", "spоnsorisé"):
        entry = replace(ENTRY, content=f"<p>Un article {hidden} sur les réseaux.</p>")
        verdict = judge(entry, Filters(exclude=(FilterRule("sponsorise"),)))
        assert verdict.shown is False, hidden


def test_exclude_wins_and_include_narrows() -> None:
    exclude = Filters(exclude=(FilterRule("partenariat", fields=("category",)),))
    assert judge(ENTRY, exclude).reason == "excluded by keyword 'partenariat' in category"
    include = Filters(include=(FilterRule("tiktok"),))
    assert judge(ENTRY, include).reason == "matches no include rule"
    assert judge(ENTRY, Filters(include=(FilterRule("instagram"),))).shown
    assert judge(ENTRY).shown and judge(ENTRY, Filters(), Filters()).shown


def test_global_and_feed_rules_combine() -> None:
    config_filters = Filters(exclude=(FilterRule("crypto"),))
    feeds = [FeedConfig(name="Blog", url="https://b.example/feed",
                        filters=Filters(include=(FilterRule("instagram"),)))]
    rules = EntryFilter(config_filters, feeds)
    assert rules.judge(ENTRY).shown
    other = replace(ENTRY, title="Le point crypto de la semaine", content="<p>Bitcoin.</p>")
    assert rules.judge(other).reason == "excluded by keyword 'crypto'"
    assert rules.shown([ENTRY, other]) == [ENTRY]


def test_filters_in_feeds_yaml(tmp_path: Path) -> None:
    path = write_config(tmp_path, [{"name": "A", "url": "https://a.example/feed",
                                    "filters": {"include": ["community management"]}}],
                        filters={"exclude": ["sponsorisé",
                                             {"regex": "^\\[Pub\\]", "in": ["title"]}]})
    config = load_config(path)
    assert config.settings.filters.exclude == (
        FilterRule("sponsorisé"), FilterRule("^\\[Pub\\]", regex=True, fields=("title",)))
    assert config.feeds[0].filters.include == (FilterRule("community management"),)


@pytest.mark.parametrize("filters, message", [
    ({"exclude": [{"regex": "(unclosed"}]},
     "settings.filters: invalid regular expression '(unclosed': missing ), unterminated "
     "subpattern at position 0"),
    ({"exclude": [{"keyword": "x", "in": ["body"]}]},
     "settings.filters: `in` lists fields among title, content, author, category, "
     "got ['body']"),
    ({"drop": ["x"]}, "settings.filters: expected a mapping with `include` and/or `exclude`"),
    ({"exclude": [{"keyword": "x", "regex": "y"}]}, "settings.filters: a rule is a keyword"),
])
def test_bad_filters_are_reported_with_their_place(tmp_path: Path, filters: dict[str, Any],
                                                    message: str) -> None:
    path = write_config(tmp_path, [], filters=filters)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in caught.value.describe()
    assert caught.value.describe().startswith(f"{path}:")


RSS = """<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>B</title>
<link>https://b.example/</link>
<item><title>Bienvenue aux nouveaux community managers</title><guid>1</guid>
<category>Métier</category><description>Un mot d’accueil.</description></item>
<item><title>Jeu concours : gagnez un smartphone</title><guid>2</guid>
<category>Partenariat</category><description>Un article sponsorisé.</description></item>
</channel></rss>"""


def test_status_counts_and_check_shows_what_is_filtered(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.set("/b", RSS.encode())
    path = write_config(tmp_path, [{"name": "B", "url": url}],
                        filters={"exclude": [{"keyword": "partenariat", "in": ["category"]}]},
                        language="en")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(path), "fetch"]).exit_code == 0
    status = json.loads(runner.invoke(main, ["--config", str(path), "status", "--json"]).output)
    assert (status[0]["entries"], status[0]["filtered_out"]) == (2, 1)
    checked = runner.invoke(main, ["--config", str(path), "feeds", "check", "--filters"])
    assert checked.exit_code == 0, checked.output
    assert "1 kept, 1 dropped." in checked.output
    # The table wraps long cells; the rule's words are all there.
    assert "dropped: excluded by" in checked.output and "'partenariat'" in checked.output
    assert "Jeu concours" in checked.output and "kept" in checked.output


def test_check_says_why_in_french(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/b", RSS.encode())
    path = write_config(tmp_path, [{"name": "B", "url": url}],
                        filters={"include": [{"keyword": "community"}],
                                 "exclude": [{"keyword": "partenariat", "in": ["category"]}]},
                        language="fr")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(path), "fetch"]).exit_code == 0
    checked = runner.invoke(main, ["--config", str(path), "feeds", "check", "--filters"],
                            env={"COLUMNS": "200"})
    assert checked.exit_code == 0, checked.output
    assert "règle d’exclusion mot-clé 'partenariat' en category" in checked.output
    assert "1 gardé, 1 écarté." in checked.output
    assert "excluded" not in checked.output and "keyword" not in checked.output


def test_a_rule_is_described_in_english_or_in_the_users_language() -> None:
    keyword = FilterRule("Ma Marque")
    regex = FilterRule(r"\bMaMarque\b", regex=True, fields=("title", "content"))
    assert keyword.describe() == "keyword 'Ma Marque'"
    assert regex.describe() == r"regex '\\bMaMarque\\b' in title, content"
    assert keyword.describe(i18n._) == "keyword 'Ma Marque'"
    i18n.use("fr")
    assert keyword.describe() == "keyword 'Ma Marque'"  # verdicts and logs stay English
    assert keyword.describe(i18n._) == "mot-clé 'Ma Marque'"
    assert regex.describe(i18n._) == (
        r"expression régulière '\\bMaMarque\\b' dans title, content")
