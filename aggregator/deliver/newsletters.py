"""A newsletter's period sent once: composed from the store's articles, claimed in the
store, sent, and recorded; and the daemon's round of the newsletters that are due."""

from __future__ import annotations

import logging
import os
import smtplib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from aggregator.config.load import Config, NewsletterConfig
from aggregator.deliver.compose import Content, compose
from aggregator.deliver.message import build_message, unsubscribe_address
from aggregator.deliver.periods import Period, due_period
from aggregator.deliver.select import PeriodArticles
from aggregator.deliver.smtp import send
from aggregator.i18n import N_
from aggregator.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one newsletter's period. `status`: sent (every recipient took it),
    partial (some refused), failed (none), already (claimed before: not sent again),
    empty (skip_empty and no article), dry-run (composed, not sent)."""

    newsletter: str
    period: str
    status: str
    articles: int = 0
    delivered: tuple[str, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Composed:
    """A newsletter's period, ready to send."""

    period: Period
    content: Content
    message: EmailMessage


def compose_newsletter(config: Config, newsletter: NewsletterConfig, period: Period,
                       now: datetime, articles: PeriodArticles) -> Composed:
    """The message of `newsletter` for `period`, dated `now`."""
    email = config.settings.email
    if email is None:  # the loader refuses newsletters without settings.email
        raise ValueError(N_("settings.email is missing"))
    days = articles.pick(newsletter, articles.get(period))
    content = compose(newsletter, config.settings, period, days,
                      unsubscribe_address(email, newsletter), articles.stories(period),
                      articles.cards)
    return Composed(period, content, build_message(content, email, newsletter, period, now))


def password(config: Config) -> str | None:
    """The SMTP password, from the environment variable settings.email names."""
    email = config.settings.email
    if email is None or email.password_env is None:
        return None
    value = os.environ.get(email.password_env)
    if value is None:
        raise ValueError(N_("the environment variable %(name)s (settings.email.password_env) "
                            "is not set") % {"name": email.password_env})
    return value


def send_newsletter(store: Store, config: Config, newsletter: NewsletterConfig,
                    period: Period, now: datetime, *, worker: str, resend: bool = False,
                    dry_run: bool = False, articles: PeriodArticles | None = None,
                    retry_failed: bool = False, stop: threading.Event | None = None
                    ) -> Outcome:
    """Send the period once: claimed first (a second worker, run or restart finds the
    claim and sends nothing), recorded after. A claim left unrecorded (a crash while
    sending) stays for `status` to report: never sent again without `resend`. A period
    that reached no recipient is tried again with `retry_failed` (the user's command).
    `stop` set: a server that fails is not tried again (the daemon stops)."""
    known = store.delivery(newsletter.name, period.key)
    if known and retry_failed and known.sent_at and not known.delivered and known.errors:
        resend = True
    if not resend and not dry_run and known:
        return Outcome(newsletter.name, period.key, "already")
    composed = compose_newsletter(config, newsletter, period, now,
                                  articles or PeriodArticles(store, config))
    count = composed.content.count
    if dry_run:
        return Outcome(newsletter.name, period.key, "dry-run", count)
    if count == 0 and newsletter.skip_empty:
        if store.claim_delivery(newsletter.name, period.key, worker, now, resend=resend):
            store.record_delivery(newsletter.name, period.key, now, delivered=0, articles=0,
                                  message_id=None, errors={})
        return Outcome(newsletter.name, period.key, "empty")
    secret = password(config)
    if not store.claim_delivery(newsletter.name, period.key, worker, now, resend=resend):
        return Outcome(newsletter.name, period.key, "already")
    return _send_claimed(store, config, newsletter, composed, secret, now, stop)


def _send_claimed(store: Store, config: Config, newsletter: NewsletterConfig,
                  composed: Composed, secret: str | None, now: datetime,
                  stop: threading.Event | None) -> Outcome:
    assert config.settings.email is not None
    name, key, count = newsletter.name, composed.period.key, composed.content.count
    try:
        report = send(composed.message, newsletter.to, config.settings.email, secret,
                      stop=stop)
        delivered, refused, error = report.delivered, report.refused, ""
    except (smtplib.SMTPException, OSError) as exc:
        error = _describe(exc)
        delivered, refused = (), dict.fromkeys(newsletter.to, error)
    store.record_delivery(name, key, now, delivered=len(delivered), articles=count,
                          message_id=composed.message["Message-ID"], errors=refused)
    status = "sent" if not refused else "partial" if delivered else "failed"
    level = logging.INFO if status == "sent" else logging.WARNING
    log.log(level, "newsletter %s of %s: %s to %d of %d recipients", name, key, status,
            len(delivered), len(newsletter.to))
    return Outcome(name, key, status, count, tuple(delivered), refused, error)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        return f"{error.smtp_code} {' '.join(text.split())}"
    return str(error) or type(error).__name__


def send_due(store: Store, config: Config, now: datetime, worker: str,
             stop: threading.Event | None = None) -> list[Outcome]:
    """Send each newsletter whose period is due at `now` and not claimed yet; the
    period's articles are read once for all the newsletters that cover it. Once `stop`
    is set, no other newsletter starts."""
    articles = PeriodArticles(store, config)
    outcomes = []
    for newsletter in config.newsletters:
        if stop is not None and stop.is_set():
            break
        period = due_period(newsletter, config.settings, now)
        if period is None or store.delivery(newsletter.name, period.key):
            continue
        try:
            outcomes.append(send_newsletter(store, config, newsletter, period, now,
                                            worker=worker, articles=articles, stop=stop))
        except ValueError as exc:  # the password's variable unset: said, and tried next tick
            log.error("newsletter %s: %s", newsletter.name, exc)
    return outcomes
