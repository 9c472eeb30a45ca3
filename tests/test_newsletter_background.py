"""The daemon's newsletters sent by a thread of their own (deliver/background.py): a slow
SMTP server on loopback holds no tick, and a stopping daemon stops trying a server that
is down. The day, the server and the config are test_newsletter.py's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from aggregator.poll.schedule import Daemon
from tests.conftest import FeedServer, wait_for
from tests.test_newsletter import (  # noqa: F401 (fixtures)
    SEND_NOW,
    TEAM,
    Mail,
    certificate,
    free_port,
    mail,
    smtp,
)

NEW_TITLE = "Un article publié pendant que le serveur SMTP traîne"


def _add_article(mail: Mail, feed_server: FeedServer) -> None:  # noqa: F811
    """A new article on the first blog, dated now: the next tick stores and renders it."""
    feed = mail.feeds[0]
    now = datetime.now(UTC)
    item = (f"<item><title>{escape(NEW_TITLE)}</title><link>https://lent.example/1</link>"
            f"<guid>lent-1</guid><pubDate>{now:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            "<description>Texte.</description></item>")
    path = "/" + feed["url"].rsplit("/", 1)[1]
    body = feed_server.routes[path].body.decode()
    feed_server.set(path, body.replace("</channel>", item + "</channel>").encode())


def test_a_slow_smtp_server_holds_no_tick(
        mail: Mail, feed_server: FeedServer) -> None:  # noqa: F811
    mail.handler.hold = threading.Event()
    daemon = Daemon(config=mail.config, store=mail.store, rendered=True)
    try:
        sending = daemon.send_newsletters(SEND_NOW)
        assert sending is not None
        assert mail.handler.holding.wait(60)  # the message is at the server, which waits
        _add_article(mail, feed_server)
        daemon.tick()  # polls, stores, renders while the server still holds the message
        assert not sending.done()
        atom = (mail.config.settings.output_dir / "atom.xml").read_text("utf-8")
        assert escape(NEW_TITLE) in atom
        assert daemon.send_newsletters(SEND_NOW) is None  # one round at a time
    finally:
        mail.handler.hold.set()
    assert sending.result(timeout=60) is None
    assert len(mail.handler.received) == 1
    delivery = mail.store.delivery("équipe", "2016-06-09")
    assert delivery is not None and delivery.delivered == 2
    daemon.stop_helpers()


def test_a_stopping_daemon_stops_trying_a_server_that_is_down(
        mail: Mail) -> None:  # noqa: F811
    mail.port = free_port()  # nobody listens there
    mail.reconfigure([TEAM], retry_for="10m")
    daemon = Daemon(config=mail.config, store=mail.store, rendered=True)
    sending = daemon.send_newsletters(SEND_NOW)
    assert sending is not None
    wait_for(lambda: mail.store.delivery("équipe", "2016-06-09") is not None
             or sending.done(), "the period claimed", 60)
    assert not sending.done()  # claimed, and being tried
    daemon.stopping.set()
    daemon.stop_helpers()
    sending.result(timeout=60)  # not the ten minutes of retry_for
    delivery = mail.store.delivery("équipe", "2016-06-09")
    assert delivery is not None and delivery.sent_at is not None
    assert delivery.delivered == 0 and set(delivery.errors) == set(TEAM["to"])
    assert daemon.send_newsletters(SEND_NOW + timedelta(minutes=1)) is None
