"""Time of composing newsletters (issue 23's targets):

  daily 200     one daily newsletter of 200 articles, composed (view models, "À la une",
                templates, css-inline, the cut under Gmail's clipping size) and made a
                message: target <= 1 s
  100 x tags    a 1,000-feed day (3 articles a feed, 30 tags), 100 newsletters of one
                recipient each with different tag filters: the day's stories found once,
                each newsletter picked, composed and sent to an SMTP server on loopback
                (aiosmtpd, no TLS): target <= 10 s

The articles are made in memory from the French posts of tests/data/stories (sentences
mixed per article), so the figures are the mail code's, not the store's: the store reads
the day once for all the newsletters (deliver/select.py), as a render reads it.

    .venv/bin/python benchmarks/newsletter.py [--feeds 1000] [--newsletters 100]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aggregator.config.load import EmailSettings, NewsletterConfig, Settings  # noqa: E402
from aggregator.deliver.compose import CardCache, compose, find_stories  # noqa: E402
from aggregator.deliver.message import build_message  # noqa: E402
from aggregator.deliver.periods import Period  # noqa: E402
from aggregator.deliver.select import has_tag  # noqa: E402
from aggregator.deliver.smtp import send  # noqa: E402
from aggregator.models import StoredEntry  # noqa: E402

DAY = date(2016, 6, 9)
SETTINGS = Settings(database="sqlite://", output_dir=Path("public"), title="Veille CM",
                    base_url="https://veille.example/")
TAGS = [f"sujet {n}" for n in range(30)]
UNSUBSCRIBE = "mailto:veille@example.org"
SETTINGS_TZ = ZoneInfo(SETTINGS.timezone)


def _sentences() -> list[str]:
    articles = json.loads((HERE.parent / "tests" / "data" / "stories" / "articles.json")
                          .read_text("utf-8"))
    return [s.strip() + "." for a in articles for s in a["text"].split(". ") if s.strip()]


def make_entries(feeds: int, per_feed: int, seed: int = 23) -> list[StoredEntry]:
    """`feeds` blogs of `per_feed` articles each on DAY, one or two tags a blog."""
    rng, sentences = random.Random(seed), _sentences()
    entries = []
    for feed in range(feeds):
        tags = tuple(rng.sample(TAGS, rng.choice((1, 2))))
        for number in range(per_feed):
            dated = datetime.combine(DAY, clock(6), UTC) + timedelta(minutes=rng.randrange(900))
            text = " ".join(rng.sample(sentences, 6))
            entries.append(StoredEntry(
                feed_name=f"Blog {feed}", feed_title=f"Blog {feed}",
                feed_url=f"https://b{feed}.example/feed", site_url=f"https://b{feed}.example/",
                tags=tags, identity=f"{feed}-{number}", title=text.split(".")[0][:90],
                link=f"https://b{feed}.example/{number}", author="Camille Martin",
                published=dated, updated=None, first_seen=dated, dated=dated, changed=dated,
                content=f"<p>{text}</p>", summary=text, excerpt=text[:400]))
    return entries


def daily_200() -> float:
    """Seconds to compose one 200-article daily newsletter and make its message."""
    entries = make_entries(50, 4)
    letter = NewsletterConfig(name="équipe", to=("a@example.org",))
    email = EmailSettings(host="127.0.0.1", sender="Veille CM <veille@example.org>")
    period = Period("day", DAY, DAY)
    compose(letter, SETTINGS, period, [(DAY, entries[:10])], UNSUBSCRIBE)  # templates loaded
    started, cpu = time.perf_counter(), time.process_time()
    content = compose(letter, SETTINGS, period, [(DAY, entries)], UNSUBSCRIBE)
    build_message(content, email, letter, period, datetime.now(UTC)).as_bytes()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"daily 200: {elapsed:.2f} s, CPU {cpu:.2f} s ({content.shown} of {content.count} "
          "articles shown, "
          f"HTML {len(content.html.encode()) / 1000:.0f} KB)")
    return elapsed


def _server() -> tuple[Any, int, list[int]]:
    from aiosmtpd.controller import Controller

    received: list[int] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(len(envelope.content))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port, received


def many_tags(feeds: int, count: int) -> float:
    """Seconds to compose and send `count` newsletters with different tags on a day."""
    rng = random.Random(15)
    entries = make_entries(feeds, 3)
    letters = [NewsletterConfig(name=f"n{n}", to=(f"r{n}@example.org",),
                                tags=tuple(rng.sample(TAGS, rng.choice((1, 2, 3)))))
               for n in range(count)]
    controller, port, received = _server()
    email = EmailSettings(host="127.0.0.1", port=port, security="none",
                          sender="Veille CM <veille@example.org>")
    period = Period("day", DAY, DAY)
    try:
        started = time.perf_counter()
        cpu = time.process_time()
        stories = find_stories(period, [(DAY, entries)], SETTINGS_TZ)
        found, found_cpu = time.perf_counter() - started, time.process_time() - cpu
        cards: CardCache = {}  # as deliver/select.py's PeriodArticles shares them
        for letter in letters:
            picked = [e for e in entries if has_tag(e, letter.tags)]
            content = compose(letter, SETTINGS, period, [(DAY, picked)], UNSUBSCRIBE, stories,
                              cards)
            send(build_message(content, email, letter, period, datetime.now(UTC)),
                 letter.to, email, None)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        controller.stop()
    print(f"100 x tags: {elapsed:.2f} s for {len(received)} newsletters on a "
          f"{feeds}-feed day of {len(entries)} articles (of which stories "
          f"{found:.2f} s, CPU {found_cpu:.2f} s; in all CPU {cpu:.2f} s; "
          f"{sum(received) / len(received) / 1000:.0f} KB a message on average)")
    return elapsed





def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--newsletters", type=int, default=100)
    arguments = parser.parse_args()
    daily = daily_200()
    many = many_tags(arguments.feeds, arguments.newsletters)
    print("| benchmark | seconds | target |\n| --- | --- | --- |")
    print(f"| one daily newsletter of 200 articles | {daily:.2f} | 1 |")
    print(f"| {arguments.newsletters} newsletters, different tags, {arguments.feeds}-feed day "
          f"| {many:.2f} | 10 |")


if __name__ == "__main__":
    main()
