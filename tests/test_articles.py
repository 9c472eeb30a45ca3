"""One article, shown once: cross-feed de-duplication end to end through a loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
import sqlalchemy as sa

from aggregator.dedup import POSTINGS_PER_KEY
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.render import render_site
from aggregator.store import Store
from tests.conftest import DATA, FeedServer

DEMO = Path(__file__).parent.parent / "aggregator" / "demo" / "feeds"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ORIGINAL = "Aux personnes qui ne comprennent pas mon métier"


@pytest.fixture
def store(make_config: Any) -> Iterator[Store]:
    store = Store.open(make_config([]).settings.database)
    yield store
    store.close()


def poll(store: Store, config: Any, now: datetime = NOW, **options: Any) -> dict[str, Any]:
    return {o.feed: o for o in update_feeds(store, make_session(), config, now, **options)}


def articles(store: Store) -> dict[str, Any]:
    return {e.title: e for e in store.latest_entries(1000)}


def rss(items: list[dict[str, str]], title: str = "Blog") -> bytes:
    """A small RSS 2.0 document; each item: title, link, guid, date, html."""
    body = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link>"
        f"<guid isPermaLink='false'>{i['guid']}</guid><pubDate>{i['date']}</pubDate>"
        f"<description><![CDATA[{i['html']}]]></description></item>"
        for i in items
    )
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{title}</title><link>https://{title.lower()}.example/</link>"
            f"{body}</channel></rss>").encode()


def blog_and_mirror(feed_server: FeedServer, make_config: Any) -> Any:
    """The blog of sample 001 and Hellocoton, which re-publishes one of its posts."""
    return make_config([
        {"name": "Mon métier", "url": feed_server.serve_file("blog-metier.rss")},
        {"name": "Hellocoton", "url": feed_server.set(
            "/hellocoton.rss", (DEMO / "hellocoton.rss").read_bytes())},
    ])


def test_mirror_with_comments_is_one_article(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    outcomes = poll(store, blog_and_mirror(feed_server, make_config))
    assert outcomes["Mon métier"].new + outcomes["Hellocoton"].new == 6
    assert outcomes["Mon métier"].duplicates + outcomes["Hellocoton"].duplicates == 1
    shown = articles(store)
    assert ORIGINAL + " - Hellocoton" not in shown
    original = shown[ORIGINAL]
    assert original.feed_name == "Mon métier"  # published two days before the mirror
    [copy] = original.copies
    assert (copy.feed_name, copy.dated) == ("Hellocoton",
                                           datetime(2013, 1, 24, 10, 5, tzinfo=UTC))
    assert copy.link and copy.link.startswith("https://hellocoton.example/mon-metier-web/")


def test_demo_feeds_give_eight_articles_and_three_copies(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    config = make_config([
        {"name": path.stem, "url": feed_server.set("/" + path.name, path.read_bytes(),
                                                    content_type="application/xml")}
        for path in sorted(DEMO.glob("*.*")) if path.suffix != ".md"
    ])
    poll(store, config)
    shown = articles(store)
    assert len(shown) == 8
    copied = {title: [c.feed_name for c in e.copies] for title, e in shown.items() if e.copies}
    assert copied == {
        ORIGINAL: ["hellocoton"],
        "Vis ma Vie de Community Manager #2": ["hellocoton"],
        "«\xa0Le métier qui n’existe pas\xa0»": ["hellocoton"],
    }


def test_earlier_copy_arriving_later_becomes_the_canonical(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    mirror = {"name": "Hellocoton", "url": feed_server.set(
        "/hellocoton.rss", (DEMO / "hellocoton.rss").read_bytes())}
    poll(store, make_config([mirror]))
    first = articles(store)[ORIGINAL + " - Hellocoton"]
    render_config = make_config([mirror])
    render_site(store, render_config.settings, render_config.feeds, NOW)
    before = feedparser.parse((render_config.settings.output_dir / "atom.xml").read_bytes())
    mirror_id = next(e.id for e in before.entries if e.title.startswith(ORIGINAL))
    assert first.copies == ()

    both = make_config([mirror, {"name": "Mon métier",
                                 "url": feed_server.serve_file("blog-metier.rss")}])
    poll(store, both, now=NOW + timedelta(hours=1))
    shown = articles(store)
    assert ORIGINAL + " - Hellocoton" not in shown
    assert shown[ORIGINAL].feed_name == "Mon métier"
    assert [c.feed_name for c in shown[ORIGINAL].copies] == ["Hellocoton"]
    # The day moves to the original's date, and the merged feed keeps the article's id.
    render_site(store, both.settings, both.feeds, NOW + timedelta(hours=1))
    after = feedparser.parse((both.settings.output_dir / "atom.xml").read_bytes())
    [entry] = [e for e in after.entries if e.title == ORIGINAL]
    assert entry.id == mirror_id
    assert entry.link.startswith("https://mon-metier-web.example/")
    day = (both.settings.output_dir / "digest" / "2013-01-22.html").read_text("utf-8")
    assert ORIGINAL in day and "Aussi publié sur" in day
    assert not (both.settings.output_dir / "digest" / "2013-01-24.html").exists()


def test_feed_migrating_its_ids_does_not_republish_its_history(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    body = (DATA / "blog-metier.rss").read_text("utf-8")
    url = feed_server.set("/feed", body.encode())
    config = make_config([{"name": "blog", "url": url}])
    assert poll(store, config)["blog"].new == 4
    # The blog moved platforms: https links became http→https permalinks and
    # `?p=123` guids became those permalinks (with a tracking parameter on top).
    migrated = body.replace('<guid isPermaLink="false">https://mon-metier-web.example/?p=',
                            '<guid isPermaLink="false">https://www.mon-metier-web.example/p/')
    migrated = migrated.replace("<link>https://mon-metier-web.example/",
                                "<link>http://www.mon-metier-web.example/")
    assert migrated.count("www.mon-metier-web.example/p/") == 4
    feed_server.set("/feed", migrated.encode())
    outcome = poll(store, config, force=True)["blog"]
    assert (outcome.new, outcome.duplicates) == (0, 0)
    assert store.feed_states()["blog"].entry_count == 4
    assert len(articles(store)) == 4
    # The stored entries now carry the new ids: the next poll matches them directly.
    identities = sorted(e.identity for e in store.latest_entries(10))
    assert identities == [f"id:https://www.mon-metier-web.example/p/{n}"
                          for n in (118, 131, 187, 242)]


REVUE = "Revue de presse de la semaine"


def test_generic_titles_and_shared_footers_stay_apart(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    footer = ("<p>Merci de votre lecture ! Abonnez-vous à la lettre d’information pour "
              "recevoir chaque vendredi la revue de presse, les offres d’emploi et les "
              "événements de la communauté des community managers francophones.</p>")
    weeks = [
        ("<p>Cette semaine, Facebook change encore son algorithme : les pages perdent de la "
         "portée organique, les groupes gagnent en visibilité et les marques doivent revoir "
         "leur calendrier éditorial pour la rentrée.</p>"),
        ("<p>Cette semaine, Twitter teste un bouton de modification des tweets, LinkedIn "
         "ouvre les newsletters à tous les comptes et Instagram allonge encore la durée "
         "des vidéos publiées dans les reels.</p>"),
    ]
    items_a = [{"title": REVUE, "link": f"https://blog-a.example/revue-{n}", "guid": f"a{n}",
                "date": f"Fri, 0{n + 1} Mar 2024 09:00:00 +0100", "html": week + footer}
               for n, week in enumerate(weeks)]
    item_b = {"title": REVUE, "link": "https://blog-b.example/revue", "guid": "b1",
              "date": "Fri, 01 Mar 2024 10:00:00 +0100",
              "html": ("<p>Bonne année ! Les community managers ont fêté la nouvelle année "
                       "sur tous les réseaux : voici les campagnes qui nous ont fait sourire, "
                       "de la SNCF à Decathlon en passant par les petites marques.</p>")
              + footer}
    config = make_config([
        {"name": "A", "url": feed_server.set("/a", rss(items_a, "A"))},
        {"name": "B", "url": feed_server.set("/b", rss([item_b], "B"))},
    ])
    outcomes = poll(store, config)
    assert outcomes["A"].new == 2 and outcomes["B"].new == 1
    assert sum(e.title == REVUE for e in store.latest_entries(10)) == 3


def test_tracking_parameters_and_wrappers_do_not_hide_a_shared_link(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    article = "https://mon-metier-web.example/2013/01/aux-personnes/"
    original = {"title": "Le billet", "link": article, "guid": "x1",
                "date": "Tue, 22 Jan 2013 21:14:00 +0100", "html": "<p>Court.</p>"}
    shared = {"title": "À lire : un billet qui parle de notre métier", "guid": "y1",
              "link": ("https://www.google.com/url?q=http://www.mon-metier-web.example/2013/"
                       "01/aux-personnes%3Futm_source%3Dnewsletter%26fbclid%3Dabc"),
              "date": "Wed, 23 Jan 2013 08:00:00 +0100", "html": "<p>Une recommandation.</p>"}
    config = make_config([
        {"name": "Blog", "url": feed_server.set("/blog", rss([original], "Blog"))},
        {"name": "Veille", "url": feed_server.set("/veille", rss([shared], "Veille"))},
    ])
    poll(store, config)
    [shown] = store.latest_entries(10)
    assert (shown.feed_name, [c.feed_name for c in shown.copies]) == ("Blog", ["Veille"])


def test_json_feed_output_lists_the_copies(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    config = blog_and_mirror(feed_server, make_config)
    poll(store, config)
    render_site(store, config.settings, config.feeds, NOW)
    items = json.loads((config.settings.output_dir / "feed.json").read_text("utf-8"))["items"]
    [item] = [i for i in items if i["title"] == ORIGINAL]
    [copy] = item["_also_published_on"]["copies"]
    assert copy["title"] == "Hellocoton"
    assert copy["date_published"] == "2013-01-24T10:05:00Z"


def test_common_keys_stop_growing_past_the_cap(
    feed_server: FeedServer, make_config: Any, store: Store
) -> None:
    # Many different posts with one generic title: its key is filed under a bounded
    # number of entries, so finding candidates never scans a growing list.
    items = [{"title": REVUE, "link": f"https://r.example/{n}", "guid": f"r{n}",
              "date": "Fri, 01 Mar 2024 09:00:00 +0100",
              "html": f"<p>Numéro {n} : " + " ".join(f"mot{n}x{k}" for k in range(40)) + "</p>"}
             for n in range(POSTINGS_PER_KEY + 20)]
    config = make_config([{"name": "R", "url": feed_server.set("/r", rss(items, "R"))}])
    assert poll(store, config)["R"].new == POSTINGS_PER_KEY + 20
    assert longest_list(store) == POSTINGS_PER_KEY
    with store.engine.connect() as connection:  # the full lists are marked common
        marked = set(connection.execute(sa.text("SELECT key FROM common_keys")).scalars())
        full = set(connection.execute(sa.text(
            f"SELECT key FROM ({FILED}) AS k GROUP BY key HAVING count(*) >= {POSTINGS_PER_KEY}"
        )).scalars())
    assert marked == full != set()
    # Edited, every entry is filed anew: no longer under the title, now common.
    for item in items:
        item["html"] += "<p>Mise à jour : un lien corrigé.</p>"
    feed_server.set("/r", rss(items, "R"))
    assert poll(store, config, force=True)["R"].updated == POSTINGS_PER_KEY + 20
    assert longest_list(store) == 1


# Every (key, entry_id) filed: in entry_keys, or in the recent level not yet merged.
FILED = "SELECT key, entry_id FROM entry_keys UNION ALL SELECT key, entry_id FROM recent_keys"


def longest_list(store: Store) -> int:
    """The most entries filed under one index key."""
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(
            f"SELECT max(n) FROM (SELECT count(*) AS n FROM ({FILED}) AS k GROUP BY key) AS p"
        )).scalar_one())


def test_copies_within_one_group_of_polls_are_recognized_and_a_group_is_all_or_none(
    store: Store, make_config: Any
) -> None:
    from aggregator.models import FeedPoll, PollRecord
    from aggregator.poll.prepare import parse_step

    store.sync_feeds(make_config([
        {"name": "Mon métier", "url": "http://127.0.0.1:9/a"},
        {"name": "Miroir", "url": "http://127.0.0.1:9/b"},
    ]).feeds)
    parsed = parse_step((DATA / "blog-metier.rss").read_bytes(), {}, "http://127.0.0.1:9/a")
    record = PollRecord(polled_at=NOW, next_poll=NOW + timedelta(hours=1), status=200)
    # The same posts under two feeds in one transaction: the second feed's are copies.
    with pytest.raises(KeyError, match="not in the database"):
        store.save_polls([FeedPoll("Mon métier", record, parsed.entries),
                          FeedPoll("Inconnu", record, parsed.entries)])
    assert store.latest_entries(100) == []
    assert store.feed_states()["Mon métier"].last_polled is None  # rolled back too
    original, mirror = store.save_polls([FeedPoll("Mon métier", record, parsed.entries),
                                         FeedPoll("Miroir", record, parsed.entries)])
    assert (original.new, original.duplicates) == (4, 0)
    assert (mirror.new, mirror.duplicates) == (0, 4)
    shown = store.latest_entries(100)
    # Shown once each; stored at one moment, the copies tie and the feed name decides.
    assert len(shown) == 4 and {e.feed_name for e in shown} == {"Miroir"}


@pytest.mark.parametrize(("taken", "copy"), [(80, False), (100, True)])
def test_a_short_text_is_compared_with_all_of_a_long_one(
    feed_server: FeedServer, make_config: Any, store: Store, taken: int, copy: bool
) -> None:
    # A long post (896 shingles, sketched by its 128 smallest) and a short one that
    # quotes its first `taken` words: 76 of 116 shingles (0.66, under the 0.7 of a
    # copy) or 96 (0.83). From the sketch, a sample of about 16 of the short text's
    # shingles would decide; the store compares every shingle instead.
    long_words = [f"long{n}" for n in range(900)]
    short_words = long_words[:taken] + [f"court{n}" for n in range(120 - taken)]
    date = "Mon, 16 Nov 2026 08:00:00 GMT"
    blog = rss([{"title": "Le billet", "link": "https://blog.example/billet", "guid": "b1",
                 "date": date, "html": "<p>" + " ".join(long_words) + "</p>"}], "Blog")
    quote = rss([{"title": "Une citation", "link": "https://veille.example/citation",
                  "guid": "v1", "date": date, "html": "<p>" + " ".join(short_words) + "</p>"}],
                "Veille")
    config = make_config([{"name": "Blog", "url": feed_server.set("/blog.rss", blog)},
                          {"name": "Veille", "url": feed_server.set("/veille.rss", quote)}])
    assert poll(store, config, only="Blog")["Blog"].new == 1
    outcome = poll(store, config, only="Veille")["Veille"]
    assert (outcome.new, outcome.duplicates) == ((0, 1) if copy else (1, 0))


def filed_keys(store: Store) -> tuple[int, int]:
    """How many keys entry_keys and the recent level hold."""
    with store.engine.connect() as connection:
        return tuple(int(connection.execute(sa.text(f"SELECT count(*) FROM {table}"))
                         .scalar_one()) for table in ("entry_keys", "recent_keys"))


def test_copies_are_found_in_the_recent_level_and_after_its_merge_and_prune_empties_both(
    feed_server: FeedServer, make_config: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator.store import copies
    monkeypatch.setattr(copies, "RECENT_ENTRIES", 4)
    posts = [{"title": f"Billet {n}", "link": f"https://a.example/{n}", "guid": f"a{n}",
              "date": "Fri, 01 Mar 2024 09:00:00 +0100",
              "html": "<p>" + " ".join(f"mot{n}x{k}" for k in range(60)) + "</p>"}
             for n in range(3)]

    def copied(n: int, feed: str) -> dict[str, str]:
        return {**posts[n], "title": f"Repris {n}", "link": f"https://{feed}.example/{n}",
                "guid": f"{feed}{n}"}

    feeds = [{"name": "A", "url": feed_server.set("/A", rss(posts, "A"))}]
    assert poll(store, make_config(feeds))["A"].new == 3  # ids 1-3
    feeds.append({"name": "B", "url": feed_server.set("/B", rss([copied(0, "b")], "B"))})
    assert poll(store, make_config(feeds))["B"].duplicates == 1  # id 4: no merge yet
    assert filed_keys(store)[0] == 0  # all in the recent level, where B's copy was found
    feeds.append({"name": "C", "url": feed_server.set("/C", rss(
        [copied(1, "c"), {**posts[0], "title": "Autre", "guid": "c9", "link": "https://c.example/9",
                          "html": "<p>" + " ".join(f"neuf{k}" for k in range(60)) + "</p>"}],
        "C"))})
    assert poll(store, make_config(feeds))["C"].duplicates == 1  # ids 5, 6: merged
    assert filed_keys(store)[1] == 0
    feeds.append({"name": "D", "url": feed_server.set("/D", rss([copied(2, "d")], "D"))})
    assert poll(store, make_config(feeds))["D"].duplicates == 1  # found in entry_keys
    store.prune(NOW, keep_per_feed=0)
    assert filed_keys(store) == (0, 0)


def test_a_larger_table_moves_its_recent_keys_more_rarely(
    feed_server: FeedServer, make_config: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator.store import copies
    posts = [{"title": f"Billet {n}", "link": f"https://a.example/{n}", "guid": f"a{n}",
              "date": "Fri, 01 Mar 2024 09:00:00 +0100",
              "html": "<p>" + " ".join(f"mot{n}x{k}" for k in range(60)) + "</p>"}
             for n in range(4)]
    monkeypatch.setattr(copies, "RECENT_ENTRIES", 2)
    monkeypatch.setattr(copies, "RECENT_SHARE", 1)  # the whole table: never due
    feeds = [{"name": "A", "url": feed_server.set("/A", rss(posts[:3], "A"))}]
    assert poll(store, make_config(feeds))["A"].new == 3  # ids 1-3: 2 apart, not 3
    assert filed_keys(store)[0] == 0
    monkeypatch.setattr(copies, "RECENT_SHARE", 16)  # 3 // 16 = 0: RECENT_ENTRIES decides
    feed_server.set("/A", rss(posts, "A"))
    assert poll(store, make_config(feeds), force=True)["A"].new == 1  # id 4: 3 apart
    assert filed_keys(store)[1] == 0
