"""Newsletters sent to a real SMTP server on loopback (aiosmtpd: STARTTLS with a
certificate made for the test, a login), told to refuse on purpose; the articles are a
day of French posts from tests/data/stories on four tagged blogs, one copied on a fifth.
The other newsletter test files import these helpers."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from aggregator.config.load import Config, load_config
from aggregator.deliver.newsletters import Outcome, send_newsletter
from aggregator.deliver.periods import period_ending
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.status import delivery_problems
from aggregator.store import Store
from tests.conftest import FeedServer, write_config

DATA = Path(__file__).parent / "data"
# Thursday 9 June 2016 in Paris: the example subject.
DAY_START = datetime(2016, 6, 9, 6, 0, tzinfo=UTC)
SEND_NOW = datetime(2016, 6, 10, 5, 45, tzinfo=UTC)  # Friday 07:45 in Paris
PASSWORD = "app-password-for-tests"
BLOGS = {  # blog: (tags, the ids of tests/data/stories/articles.json it publishes)
    "Le fil social": (["community management"], range(1, 11)),
    "Outils du CM": (["outils"], range(11, 21)),
    "Veille CM": (["community management", "veille"], range(21, 31)),
    "Réseaux & marques": (["réseaux sociaux"], range(31, 41)),
}


@dataclass
class Received:
    """One message as the server took it: envelope and parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """aiosmtpd's handler: keeps what it receives, refuses what the test says."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient: "550 ..." answer
    busy_data: int = 0  # DATA commands answered "451" before one is taken
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event | None = None  # set: each DATA waits for it (a slow server)
    holding: threading.Event = field(default_factory=threading.Event)  # a DATA waits

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold is not None:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 300)
        with self.lock:
            if self.busy_data:
                self.busy_data -= 1
                return "451 4.3.0 try again later"
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          message))
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        """The messages that reached `address`."""
        return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
    ok = (isinstance(data, LoginPassword) and data.login == b"veille@example.org"
          and data.password == PASSWORD.encode())
    return AuthResult(success=ok)


def start_server(handler: Handler, cert: Path, key: Path) -> Controller:
    """An SMTP server on loopback that asks for STARTTLS, then a login."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            tls_context=context, require_starttls=True,
                            authenticator=_authenticate, auth_required=True)
    controller.start()
    return controller


def _item(blog: str, article: dict[str, Any], minutes: int) -> str:
    slug = blog.split()[0].lower()
    return (f"<item><title>{escape(article['title'])}</title>"
            f"<link>https://{slug}.example/{article['id']}</link>"
            f"<guid>{slug}-{article['id']}</guid><dc:creator>Camille Martin</dc:creator>"
            f"<pubDate>{DAY_START + timedelta(minutes=minutes):%a, %d %b %Y %H:%M:%S +0000}"
            f"</pubDate><description>{escape(article['text'])}</description></item>")


def feed_document(blog: str, items: list[str]) -> bytes:
    """An RSS 2.0 document of `items`."""
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
            f"<title>{escape(blog)}</title><link>https://{blog.split()[0].lower()}.example/"
            f"</link><description>{escape(blog)}</description>{''.join(items)}"
            "</channel></rss>").encode()


def day_feeds(feed_server: Any) -> list[dict[str, Any]]:
    """feeds.yaml's feeds for the day: 40 articles on four blogs, article 1 copied on
    "Miroir" the next hour (the digest says "aussi publié sur")."""
    articles = {a["id"]: a for a in json.loads((DATA / "stories" / "articles.json")
                                               .read_text("utf-8"))}
    feeds = []
    for number, (blog, (tags, ids)) in enumerate(BLOGS.items()):
        items = [_item(blog, articles[i], 10 * i + number) for i in ids]
        path = f"/blog{number}.rss"
        feed_server.set(path, feed_document(blog, items))
        feeds.append({"name": blog, "url": feed_server.url(path), "tags": tags})
    feed_server.set("/miroir.rss", feed_document("Miroir", [_item("Miroir", articles[1], 70)]))
    feeds.append({"name": "Miroir", "url": feed_server.url("/miroir.rss"),
                  "tags": ["community management"]})
    return feeds


def email_settings(port: int, **more: Any) -> dict[str, Any]:
    """settings.email for the loopback server."""
    return {"host": "127.0.0.1", "port": port, "security": "starttls",
            "username": "veille@example.org", "password_env": "AGGREGATOR_SMTP_PASSWORD",
            "from": "Veille CM <veille@example.org>", "retry_for": "20s", **more}


def write_newsletter_config(folder: Path, feeds: list[dict[str, Any]], database: str,
                            port: int, newsletters: list[dict[str, Any]],
                            **email: Any) -> Config:
    """A feeds.yaml with settings.email for the loopback server and `newsletters`."""
    from ruamel.yaml import YAML

    path = write_config(folder, feeds, database=database, title="Veille CM",
                        email=email_settings(port, **email))
    yaml = YAML()
    document = yaml.load(path.read_text("utf-8"))
    document["newsletters"] = newsletters
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    return load_config(path)


TEAM = {"name": "équipe", "to": ["alice@example.org", "bob@example.org"], "at": "07:30"}


@dataclass
class Mail:
    """A day polled into a database, a config with newsletters, a server listening."""

    config: Config
    store: Store
    handler: Handler
    folder: Path

    def send(self, name: str = "équipe", **options: Any) -> Outcome:
        letter = self.config.newsletter(name)
        assert letter is not None
        period = period_ending(letter, SEND_NOW.date() - timedelta(days=1))
        return send_newsletter(self.store, self.config, letter, period, SEND_NOW,
                               worker="test", **options)

    def reconfigure(self, newsletters: list[dict[str, Any]], **email: Any) -> None:
        self.config = write_newsletter_config(self.folder, self.feeds,
                                              self.config.settings.database, self.port,
                                              newsletters, **email)

    feeds: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[tuple[Handler, int]]:
    """The server, trusted by the client through SSL_CERT_FILE like a real CA would be."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("AGGREGATOR_SMTP_PASSWORD", PASSWORD)
    handler = Handler()
    controller = start_server(handler, *certificate)
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def mail(feed_server: FeedServer, smtp: tuple[Handler, int], tmp_path: Path,
         database_url: str) -> Iterator[Mail]:
    handler, port = smtp
    feeds = day_feeds(feed_server)
    config = write_newsletter_config(tmp_path, feeds, database_url, port, [TEAM])
    store = Store.open(config.settings.database)
    update_feeds(store, make_session(), config, SEND_NOW - timedelta(hours=1))
    yield Mail(config, store, handler, tmp_path, feeds, port)
    store.close()


def test_each_recipient_gets_one_message_in_two_parts_with_a_french_subject(mail: Mail) -> None:
    outcome = mail.send()
    assert (outcome.status, outcome.articles) == ("sent", 41 - 1)  # the copy is merged
    assert outcome.delivered == ("alice@example.org", "bob@example.org")
    assert len(mail.handler.received) == 1  # one message, two recipients in its envelope
    got = mail.handler.received[0]
    assert got.sender == "veille@example.org"
    assert got.recipients == ["alice@example.org", "bob@example.org"]
    message = got.message
    assert message["Subject"] == "Veille CM — jeudi 9 juin 2016 : 40 articles"
    assert "=?utf-8?" in message.as_string().split("Subject:", 1)[1].split("\n", 1)[0]
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the richest last, as clients choose
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["From"] == "Veille CM <veille@example.org>"
    assert "alice" not in message["To"]  # recipients stay in the envelope
    assert message["Message-ID"].endswith("@example.org>")
    assert message["List-Id"] == "équipe <equipe.example.org>"
    assert "=?utf-8?" in message.as_string().split("List-Id:", 1)[1].split("\n", 1)[0]
    # Folded on a line of its own (a header line holds 78 characters), read back whole.
    assert message["List-Unsubscribe"].strip() == (
        "<mailto:veille@example.org?subject=unsubscribe%20%C3%A9quipe>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"].datetime == SEND_NOW


def test_the_text_part_reads_as_a_digest(mail: Mail) -> None:
    mail.send()
    text = mail.handler.received[0].message.get_body(("plain",)).get_content()
    Path("/tmp/mail-shots").mkdir(exist_ok=True)
    Path("/tmp/mail-shots/newsletter.txt").write_text(text, "utf-8")  # to read it whole
    lines = text.splitlines()
    assert lines[0] == "Veille CM — jeudi 9 juin 2016"
    assert lines[1] == "40 articles"
    # Grouped by the blogs' first tag, in order, untagged last; each article with its
    # blog, author and time, its link, an excerpt, and where it was also published.
    headings = [line for line in lines if line.startswith("== ")]
    assert headings[0] == "== À la une =="
    assert headings[1:] == ["== community management ==", "== outils ==",
                            "== réseaux sociaux =="]
    first = text.index("* Instagram va favoriser les Reels originaux")
    card = text[first:first + 700]
    assert "Le fil social, par Camille Martin, 08:1" in card
    assert "https://le.example/1" in card
    assert "Aussi publié sur\u00a0: Miroir (9 juin 2016)" in card
    assert "<" not in text.replace("<veille", "")  # no markup left
    assert "Pour vous désabonner : mailto:veille@example.org" in text


def test_a_second_run_and_a_second_worker_send_nothing_again(mail: Mail) -> None:
    import threading

    from aggregator.deliver.newsletters import send_due

    results: list[list[Outcome]] = []
    workers = [threading.Thread(target=lambda n=n: results.append(
        send_due(mail.store, mail.config, SEND_NOW, f"worker-{n}"))) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses = sorted(o.status for outcomes in results for o in outcomes)
    assert statuses in (["sent"], ["already", "sent"])
    assert mail.send().status == "already"
    assert send_due(mail.store, mail.config, SEND_NOW + timedelta(hours=2), "w3") == []
    assert len(mail.handler.received) == 1
    # --resend is the user's own decision: it sends again.
    assert mail.send(resend=True).status == "sent"
    assert len(mail.handler.received) == 2


def test_a_temporary_error_is_tried_again(mail: Mail) -> None:
    mail.handler.busy_data = 1
    outcome = mail.send()
    assert outcome.status == "sent"
    assert len(mail.handler.received) == 1


def test_a_recipient_refused_for_good_does_not_stop_the_others(mail: Mail) -> None:
    mail.handler.refuse["bob@example.org"] = "550 5.1.1 no such mailbox"
    outcome = mail.send()
    assert outcome.status == "partial"
    assert outcome.delivered == ("alice@example.org",)
    assert outcome.refused == {"bob@example.org": "550 5.1.1 no such mailbox"}
    assert [r.recipients for r in mail.handler.received] == [["alice@example.org"]]
    recorded = mail.store.delivery("équipe", "2016-06-09")
    assert recorded is not None and recorded.delivered == 1
    problems = delivery_problems(mail.store.deliveries(), SEND_NOW, ZoneInfo("Europe/Paris"))
    assert problems == ["newsletter équipe of 2016-06-09: not delivered to "
                        "bob@example.org: 550 5.1.1 no such mailbox"]


def test_a_server_that_refuses_connections_is_tried_for_a_bounded_time(
        mail: Mail, monkeypatch: pytest.MonkeyPatch) -> None:
    mail.config = write_newsletter_config(mail.folder, mail.feeds,
                                          mail.config.settings.database, free_port(), [TEAM],
                                          retry_for="3s")
    started = time.monotonic()
    outcome = mail.send()
    # Tried again after 1 s, then not after 2 s more: that would pass the 3 s.
    assert 1 <= time.monotonic() - started < 3
    assert outcome.status == "failed"
    assert set(outcome.refused) == {"alice@example.org", "bob@example.org"}
    assert all(answer.startswith("421 ") for answer in outcome.refused.values())
    # The daemon leaves it to `status`; the user's `newsletter send` tries it again.
    mail.reconfigure([TEAM])
    assert mail.send().status == "already" and mail.handler.received == []
    assert mail.send(retry_failed=True).status == "sent"
    assert len(mail.handler.received) == 1


def test_a_crash_between_sending_and_recording_is_reported_not_repeated(mail: Mail) -> None:
    from aggregator.deliver.newsletters import send_due

    # The claim a sender left when it died before recording.
    assert mail.store.claim_delivery("équipe", "2016-06-09", "host:123",
                                     SEND_NOW - timedelta(hours=2))
    assert send_due(mail.store, mail.config, SEND_NOW, "w") == []
    assert mail.send().status == "already"
    assert mail.handler.received == []
    problems = delivery_problems(mail.store.deliveries(), SEND_NOW, ZoneInfo("Europe/Paris"))
    assert len(problems) == 1
    assert "claimed by host:123" in problems[0] and "never recorded" in problems[0]
    from click.testing import CliRunner

    from aggregator.cli.app import main

    shown = CliRunner().invoke(main, ["--config", str(mail.config.path), "status"])
    assert shown.exit_code == 0, shown.output
    assert "lettre équipe du 2016-06-09 : prise par host:123" in " ".join(shown.output.split())


def test_tags_filters_and_skip_empty_choose_the_articles(mail: Mail) -> None:
    mail.reconfigure([
        {"name": "outils", "to": ["carol@example.org"], "tags": ["Outils"]},
        {"name": "sans-ig", "to": ["dan@example.org"],
         "filters": {"exclude": ["instagram"]}},
        {"name": "vide", "to": ["erin@example.org"], "tags": ["podcast"]},
        {"name": "vide-aussi", "to": ["fred@example.org"], "tags": ["podcast"],
         "skip_empty": False},
    ])
    assert mail.send("outils").articles == 10
    kept = mail.send("sans-ig")
    assert 0 < kept.articles < 40
    assert mail.send("vide").status == "empty"
    assert mail.send("vide-aussi").status == "sent"
    subjects = {r.recipients[0]: r.message["Subject"] for r in mail.handler.received}
    assert subjects["carol@example.org"].endswith(": 10 articles")
    assert "instagram" not in str(mail.handler.to("dan@example.org")[0].message).lower()
    assert subjects["fred@example.org"].endswith(": 0 article")
    assert "erin@example.org" not in subjects


def test_the_command_sends_once_and_says_why_it_did_not(mail: Mail) -> None:
    from click.testing import CliRunner

    from aggregator.cli.app import main

    runner = CliRunner()
    base = ["--config", str(mail.config.path), "newsletter"]
    listed = runner.invoke(main, [*base, "list"])
    assert listed.exit_code == 0, listed.output
    assert "équipe" in listed.output and "alice@example.org" in listed.output
    eml = mail.folder / "preview.eml"
    shown = runner.invoke(main, [*base, "preview", "équipe", "--day", "2016-06-09",
                                 "--output", str(eml)])
    assert shown.exit_code == 0, shown.output
    assert "(40 articles affichés, HTML" in shown.output
    assert message_from_bytes(eml.read_bytes(), policy=policy.default)["Subject"] == (
        "Veille CM — jeudi 9 juin 2016 : 40 articles")
    assert mail.handler.received == []
    dry = runner.invoke(main, [*base, "send", "équipe", "--day", "2016-06-09", "--dry-run"])
    assert dry.exit_code == 0 and mail.handler.received == []
    sent = runner.invoke(main, [*base, "send", "équipe", "--day", "2016-06-09"])
    assert sent.exit_code == 0, sent.output
    again = runner.invoke(main, [*base, "send", "équipe", "--day", "2016-06-09"])
    assert again.exit_code == 0 and len(mail.handler.received) == 1
    mail.handler.refuse["bob@example.org"] = "550 5.1.1 no such mailbox"
    refused = runner.invoke(main, [*base, "send", "équipe", "--day", "2016-06-09", "--resend"])
    assert refused.exit_code == 1
    assert "bob@example.org: 550 5.1.1 no such mailbox" in refused.output
    unknown = runner.invoke(main, [*base, "send", "personne"])
    assert unknown.exit_code == 1 and "personne" in unknown.output


def test_daemons_send_the_morning_newsletter_once_after_their_render(mail: Mail) -> None:
    from aggregator.poll.schedule import Daemon

    def sent(daemon: Daemon, now: datetime) -> None:
        round_ = daemon.send_newsletters(now)
        assert round_ is not None
        round_.result(timeout=60)

    first, second = (Daemon(config=mail.config, store=mail.store) for _ in range(2))
    assert first.send_newsletters(SEND_NOW) is None  # no render yet: nothing
    first.rendered = second.rendered = True  # as after the morning's render
    sent(first, SEND_NOW - timedelta(minutes=30))  # 07:15: not its time
    assert mail.handler.received == []
    sent(first, SEND_NOW)
    sent(second, SEND_NOW + timedelta(minutes=1))
    restarted = Daemon(config=mail.config, store=mail.store, rendered=True)
    sent(restarted, SEND_NOW + timedelta(hours=1))
    assert len(mail.handler.received) == 1
    assert mail.handler.received[0].message["Subject"].startswith("Veille CM — jeudi 9 juin")
