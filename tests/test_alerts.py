"""Alerts' pure decisions (which new articles alert, the message) and their feeds.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator import i18n
from aggregator.config.load import AlertConfig, ConfigError, load_config
from aggregator.config.parsers import FilterRule
from aggregator.deliver.alerts import alert_message, is_new, select_alerts, trial_message
from aggregator.models import StoredEntry
from aggregator.store.alerts import NewArticle

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SINCE = NOW - timedelta(minutes=5)
DAY = timedelta(days=1)


def article(article_id: int, title: str, dated: datetime = NOW - timedelta(hours=1),
            first_seen: datetime = NOW, feed: str = "Blog") -> NewArticle:
    entry = StoredEntry(
        feed_name=feed, feed_title=f"Le {feed}", feed_url="https://blog.example/feed",
        site_url=None, tags=(), identity=f"id-{article_id}-{feed}", title=title,
        link=f"https://blog.example/{article_id}", author=None, published=dated, updated=None,
        first_seen=first_seen, dated=dated, changed=first_seen, content="<p>Du texte.</p>",
        summary="", excerpt="Du texte.")
    return NewArticle(article_id, entry, first_seen)


def alert(name: str = "marque", *keywords: str, exclude: tuple[str, ...] = ()) -> AlertConfig:
    return AlertConfig(name, tuple(FilterRule(k) for k in keywords or ("Ma Marque",)),
                       tuple(FilterRule(k) for k in exclude), ("json://127.0.0.1/x",))


@pytest.mark.parametrize(("dated", "first_seen", "new"), [
    (NOW - timedelta(hours=1), NOW, True),
    (NOW - 2 * DAY, NOW, True),  # exactly alert_max_age old
    (NOW - 2 * DAY - timedelta(seconds=1), NOW, False),  # a backlog, an old post found late
    (NOW - timedelta(hours=1), SINCE - timedelta(seconds=1), False),  # stored before `since`
])
def test_what_is_new(dated: datetime, first_seen: datetime, new: bool) -> None:
    assert is_new(article(1, "x", dated, first_seen), SINCE, NOW, 2 * DAY) is new


def test_each_alert_gets_its_matching_articles_once() -> None:
    articles = [article(1, "Ma Marque lance un produit"),
                article(1, "Ma Marque lance un produit", feed="Relais"),  # a copy
                article(2, "MA MARQUE, encore"),
                article(3, "Rien à voir"),
                article(4, "Ma Marque sponsorisé")]
    batches = select_alerts([alert("marque", exclude=("sponsorisé",)), alert("autre", "voir"),
                             alert("personne", "absent")], articles, SINCE, NOW, 2 * DAY)
    assert [(b.alert.name, [a.article_id for a in b.articles]) for b in batches] == [
        ("marque", [1, 2]), ("autre", [3])]


def test_articles_the_pages_hide_alert_no_one() -> None:
    articles = [article(1, "Ma Marque"), article(2, "Ma Marque encore")]
    batches = select_alerts([alert()], articles, SINCE, NOW, 2 * DAY,
                            shown=lambda entry: entry.link != "https://blog.example/2")
    assert [a.article_id for a in batches[0].articles] == [1]


def test_the_message_lists_ten_then_counts_the_others() -> None:
    entries = [article(n, f"Titre {n}").entry for n in range(13)]
    message = alert_message("marque", entries)
    assert message.title == "Alert “marque”: 13 new articles"
    lines = message.body.splitlines()
    assert lines[:2] == ["• Titre 0 — Le Blog", "  https://blog.example/0"]
    assert len(lines) == 21 and lines[-1] == "and 3 others"


def test_the_message_in_french() -> None:
    i18n.use("fr")
    message = alert_message("marque", [article(1, "Titre").entry] * 11)
    assert message.title == "Alerte «\u00a0marque\u00a0»\u00a0: 11 nouveaux articles"
    assert message.body.endswith("et 1 autre")
    assert alert_message("marque", [article(1, "T").entry]).title.endswith("1 nouvel article")
    assert trial_message("marque").title == "Test de l’alerte «\u00a0marque\u00a0»"


def write(tmp_path: Path, alerts: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  alert_max_age: 6h\nfeeds: []\nalerts:\n" + alerts, "utf-8")
    return path


def test_alerts_load_with_their_rules_and_addresses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """\
  - name: ma-marque
    match: [{keyword: Ma Marque}, {regex: '\\bMaMarque\\b', in: [title, content]}]
    exclude: sponsorisé
    notify: json://hooks.example.org/veille
"""))
    assert config.settings.alert_max_age == timedelta(hours=6)
    [loaded] = config.alerts
    assert loaded.match == (FilterRule("Ma Marque"),
                            FilterRule(r"\bMaMarque\b", regex=True, fields=("title", "content")))
    assert loaded.exclude == (FilterRule("sponsorisé"),)
    assert loaded.notify == ("json://hooks.example.org/veille",)
    assert config.alert("ma-marque") is loaded and config.alert("x") is None


def test_an_address_apprise_does_not_know_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, """\
  - name: a
    match: x
    notify:
      - json://hooks.example.org/ok
      - slack://not-a-slack-webhook
  - name: A
    match: []
""")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{path}:9:9: alerts[0].notify[1]: Apprise does not know the "
                               "address 'slack://not-a-slack-webhook'")
    assert f"{path}:11:5: alerts[1].match: expected at least one rule, got []" in lines
    assert f"{path}:10:5: alerts[1].name: duplicate of alerts[0].name" in lines
    assert f"{path}:10:5: alerts[1].notify: missing (required)" in lines
