"""Newsletters without a server: when they are due, what they cover, and how the message
is made (a week by day then tag, a big day cut under Gmail's clipping size), and the
e-mail keys of feeds.yaml checked with file:line:column."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from aggregator.config.load import ConfigError, NewsletterConfig, Settings, load_config
from aggregator.deliver.compose import MAX_HTML_BYTES, CardCache, compose, lead_tags
from aggregator.deliver.periods import Period, due_period, latest_period, period_ending
from aggregator.deliver.select import has_tag
from aggregator.models import Copy, StoredEntry
from aggregator.publish.stories import Article, Story

PARIS = Settings(database="sqlite://", output_dir=Path("public"), title="Veille CM",
                 base_url="https://veille.example/", digest_time=time(7, 0))
DAILY = NewsletterConfig(name="équipe", to=("a@example.org",), at=time(7, 30))
WEEKLY = NewsletterConfig(name="hebdo", to=("a@example.org",), every="week", on="monday")
TAGS = ("community management", "outils", "réseaux sociaux")


def entry(number: int, day: date, *, words: int = 60, tag: str | None = None) -> StoredEntry:
    """An article of blog `number % 7`, filed at 8:00 + `number` minutes on `day` (UTC)."""
    dated = datetime.combine(day, time(8), UTC) + timedelta(minutes=number)
    text = " ".join(f"mot{n}" for n in range(words))
    return StoredEntry(
        feed_name=f"Blog {number % 7}", feed_title=f"Blog {number % 7}",
        feed_url="https://blog.example/feed", site_url="https://blog.example/",
        tags=(tag or TAGS[number % 3],), identity=str(number), title=f"Article {number}",
        link=f"https://blog.example/{number}", author="Camille", published=dated,
        updated=None, first_seen=dated, dated=dated, changed=dated, content=text,
        summary=text, excerpt=text[:400],
        copies=(Copy("Miroir", "Miroir", "https://miroir.example/1", dated),)
        if number == 1 else ())


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2016, 6, 10, 5, 29, tzinfo=UTC), None),  # Friday 07:29 in Paris: not yet
    (datetime(2016, 6, 10, 5, 30, tzinfo=UTC), date(2016, 6, 9)),  # 07:30: Thursday's
    (datetime(2016, 6, 10, 17, 29, tzinfo=UTC), date(2016, 6, 9)),  # late, still sent
    (datetime(2016, 6, 10, 17, 31, tzinfo=UTC), None),  # over 12 hours late: skipped
])
def test_a_daily_newsletter_is_due_at_its_time_with_the_day_before(
        now: datetime, expected: date | None) -> None:
    period = due_period(DAILY, PARIS, now)
    assert (period.first if period else None) == expected
    if period:
        assert period == Period("day", expected, expected) and period.key == "2016-06-09"


def test_a_weekly_newsletter_covers_the_seven_days_before_its_weekday() -> None:
    monday = datetime(2016, 6, 13, 5, 0, tzinfo=UTC)  # 07:00 in Paris
    period = due_period(WEEKLY, PARIS, monday)
    assert period == Period("week", date(2016, 6, 6), date(2016, 6, 12))
    assert period.key == "2016-06-06..2016-06-12"
    assert due_period(WEEKLY, PARIS, monday + timedelta(days=1)) is None
    assert latest_period(WEEKLY, PARIS, monday + timedelta(days=3)) == period
    assert period_ending(WEEKLY, date(2016, 6, 12)) == period


def test_a_week_is_grouped_by_day_then_tag() -> None:
    period = Period("week", date(2016, 6, 6), date(2016, 6, 12))
    days = [(day, [entry(n + 10 * i, day) for n in range(3)])
            for i, day in enumerate(period.days) if i != 2]  # a quiet Wednesday
    content = compose(WEEKLY, PARIS, period, days, "mailto:veille@example.org")
    assert content.subject == ("Veille CM — lundi 6 juin – dimanche 12 juin 2016 : "
                               "18 articles")
    text = content.text
    headings = [line for line in text.splitlines() if line.startswith("######## ")]
    assert headings == [f"######## {d} ########" for d in (
        "Lundi 6 juin 2016", "Mardi 7 juin 2016", "Jeudi 9 juin 2016", "Vendredi 10 juin 2016",
        "Samedi 11 juin 2016", "Dimanche 12 juin 2016")]
    monday = text[text.index("Lundi 6 juin"):text.index("Mardi 7 juin")]
    assert [line for line in monday.splitlines() if line.startswith("== ")] == [
        f"== {tag} ==" for tag in TAGS]
    assert re.search(r'<a href="https://veille.example/digest/2016-06-07.html"[^>]*>'
                     r"Mardi 7 juin 2016</a>", content.html)


def test_a_newsletter_of_chosen_tags_groups_its_articles_under_them() -> None:
    # A blog tagged [marketing, réseaux sociaux] goes under "marketing" on the day page,
    # but under "réseaux sociaux" in the newsletter that chose that tag alone.
    day = date(2016, 6, 9)
    both = replace(entry(1, day), tags=("marketing", "réseaux sociaux"))
    chosen = replace(DAILY, tags=("Réseaux Sociaux",))
    content = compose(chosen, PARIS, Period("day", day, day), [(day, [both, entry(2, day)])],
                      "mailto:veille@example.org")
    assert [line for line in content.text.splitlines() if line.startswith("== ")
            and "À la une" not in line] == ["== réseaux sociaux =="]
    unchosen = compose(DAILY, PARIS, Period("day", day, day), [(day, [both, entry(2, day)])],
                       "mailto:veille@example.org")
    assert [line for line in unchosen.text.splitlines() if line.startswith("== ")
            and "À la une" not in line] == ["== marketing ==", "== réseaux sociaux =="]


@pytest.mark.parametrize(("chosen", "lead"), [
    (("Réseaux Sociaux",), "réseaux sociaux"),
    (("RESEAUX-sociaux", "marketing"), "marketing"),  # the blog's order, not the letter's
    (("reseaux sociaux", "outils"), "réseaux sociaux"),
    (("outils",), None),
    ((), None),
])
def test_the_tag_a_newsletter_groups_under_is_one_it_takes_the_article_for(
        chosen: tuple[str, ...], lead: str | None) -> None:
    blog = replace(entry(1, date(2016, 6, 9)), tags=("marketing", "réseaux sociaux"))
    tags = lead_tags(blog.tags, chosen)
    assert sorted(tags) == sorted(blog.tags)
    assert tags[0] == (lead or "marketing")
    assert has_tag(blog, chosen) is (lead is not None or not chosen)


def test_cards_follow_french_typography_and_wrap_no_colon_to_a_line_start() -> None:
    day = date(2016, 6, 9)
    words = "un défi photo saisonnier : ces rituels donnent envie ; venez ! " * 8
    article = replace(entry(1, day), title="Rituels : la suite ?", excerpt=words,
                      content=words, summary=words)
    content = compose(DAILY, PARIS, Period("day", day, day), [(day, [article])],
                      "mailto:veille@example.org")
    assert "Rituels\u00a0: la suite\u202f?" in content.text
    assert "saisonnier\u00a0: ces" in content.text and "envie\u202f; venez\u202f!" in content.text
    assert not [line for line in content.text.splitlines()
                if line.strip() and line.lstrip()[0] in ":;!?"]
    assert "Rituels\u00a0: la suite\u202f?" in content.html.replace("&nbsp;", "\u00a0")


def test_a_big_day_is_cut_under_the_clipping_size_with_a_link_to_read_on() -> None:
    day = date(2016, 6, 9)
    articles = [entry(n, day, words=200) for n in range(400)]
    content = compose(DAILY, PARIS, Period("day", day, day), [(day, articles)],
                      "mailto:veille@example.org")
    assert len(content.html.encode()) <= MAX_HTML_BYTES
    assert content.count == 400 and 50 < content.shown < 400
    assert content.subject.endswith(": 400 articles")
    left = 400 - content.shown
    assert f"{left} autres articles : lire la suite en ligne" in content.html
    assert '<a href="https://veille.example/digest/2016-06-09.html"' in content.html
    assert "lire la suite en ligne" in content.text


def test_the_html_part_has_its_styles_inlined_and_keeps_dark_mode() -> None:
    day = date(2016, 6, 9)
    content = compose(DAILY, PARIS, Period("day", day, day),
                      [(day, [entry(n, day) for n in range(12)])], "mailto:x@example.org")
    assert content.subject == "Veille CM — jeudi 9 juin 2016 : 12 articles"
    assert 'style="' in content.html and "<table" in content.html
    assert "prefers-color-scheme: dark" in content.html
    assert "Aussi publié sur" in content.html and "Miroir" in content.html
    assert '<html lang="fr">' in content.html


def test_newsletters_sharing_their_articles_cards_are_those_composed_alone() -> None:
    day = date(2016, 6, 9)
    articles = [entry(n, day, words=20 + n % 40) for n in range(60)]  # all shown
    letters = [replace(DAILY, name="en", language="en"), DAILY,
               replace(DAILY, name="outils", tags=("outils",)),
               replace(DAILY, name="cm", tags=("community management", "outils"))]
    cards: CardCache = {}
    for letter in letters:
        picked = [a for a in articles if has_tag(a, letter.tags)]
        alone = compose(letter, PARIS, Period("day", day, day), [(day, picked)],
                        "mailto:x@example.org")
        shared = compose(letter, PARIS, Period("day", day, day), [(day, picked)],
                         "mailto:x@example.org", cards=cards)
        assert shared == alone
    # One card an article and language: the English newsletter's are not the French ones.
    assert len(cards) == 2 * len(articles)
    assert "Also published on:" in cards[(id(articles[1]), "en")][1].text
    assert "Aussi publié sur" in cards[(id(articles[1]), "fr")][1].html


def test_the_text_parts_top_stories_follow_the_newsletters_typography() -> None:
    day = date(2016, 6, 9)
    articles = [entry(n, day) for n in range(3)]
    story = Story("Un sujet", tuple(Article(n, a.feed_name, a.title, a.link, a.excerpt, a.dated)
                                    for n, a in enumerate(articles[:2])))
    french, english = (
        compose(letter, PARIS, Period("day", day, day), [(day, articles)], "mailto:x@example.org",
                [story]).text
        for letter in (DAILY, replace(DAILY, language="en")))
    assert "  - Blog 0\u00a0: https://blog.example/0\n" in french  # French: a no-break space
    assert "  - Blog 1\u00a0: https://blog.example/1\n" in french
    assert "  - Blog 0: https://blog.example/0\n" in english


def write(folder: Path, text: str) -> Path:
    path = folder / "feeds.yaml"
    path.write_text(text, "utf-8")
    return path


def test_mistakes_in_the_email_keys_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, """\
settings:
  email:
    host: smtp.example.org
    port: 99999
    security: tls
    password: hunter2
    password_env: hunter2 secret
newsletters:
  - name: equipe
    to: [alice]
    every: month
    on: funday
feeds: []
""")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:6:5", "settings.email.password"],  # no password in feeds.yaml
        [f"{path}:4:5", "settings.email.port"],
        [f"{path}:5:5", "settings.email.security"],
        [f"{path}:7:5", "settings.email.password_env"],
        [f"{path}:2:3", "settings.email.from"],
        [f"{path}:10:5", "newsletters[0].to"],
        [f"{path}:11:5", "newsletters[0].every"],
        [f"{path}:12:5", "newsletters[0].on"],
    ]


def test_newsletters_need_settings_email_and_unique_names(tmp_path: Path) -> None:
    path = write(tmp_path, """\
newsletters:
  - {name: equipe, to: a@example.org}
  - {name: Equipe, to: b@example.org}
feeds: []
""")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "newsletters[1].name: duplicate of newsletters[0].name" in str(caught.value)
    assert "settings.email: missing" in str(caught.value)


def test_the_issues_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """\
settings:
  email:
    host: smtp.example.org
    port: 587
    security: starttls
    username: veille@example.org
    password_env: AGGREGATOR_SMTP_PASSWORD
    from: "Veille CM <veille@example.org>"
newsletters:
  - name: equipe
    to: [alice@example.org, bob@example.org]
    every: day
    at: "07:30"
    tags: [community management]
    filters: {exclude: [sponsorisé]}
    skip_empty: true
    language: fr
feeds: []
"""))
    email = config.settings.email
    assert email is not None and email.sender_address == "veille@example.org"
    assert email.server_port == 587 and email.password_env == "AGGREGATOR_SMTP_PASSWORD"
    letter = config.newsletter("equipe")
    assert letter is not None and letter.at == time(7, 30)
    assert letter.tags == ("community management",) and letter.filters.exclude
