"""Alerts sent through Apprise after a poll: each alert's new articles claimed per target in
the database first (so no article alerts twice, whichever worker or restart), one message
per target, and the result recorded (a failure is retried by the next cycle)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.config.load import AlertConfig, Config
from aggregator.deliver.alerts import AlertBatch, Message, alert_message, select_alerts
from aggregator.deliver.targets import shown_address, target_key
from aggregator.i18n import N_, Plural
from aggregator.models import StoredEntry
from aggregator.publish.filters import EntryFilter
from aggregator.store import Store

log = logging.getLogger(__name__)

# How long a sender holds its claim: far beyond one send (Apprise waits at most 4 s to
# connect and 4 s to read), so that a row still held past it means the sender stopped
# mid-send; such a row is reported, never sent again.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class AlertsRun:
    """What one round of alerts did: messages sent and failed."""

    sent: int = 0
    failed: int = 0


def send_message(url: str, message: Message) -> str | None:
    """Send `message` to one Apprise address; why it failed, or None once delivered."""
    import apprise

    notifier = apprise.Apprise()
    with apprise.LogCapture(  # type: ignore[no-untyped-call]
            level=logging.WARNING, fmt="%(message)s") as captured:
        delivered = (notifier.add(url)
                     and notifier.notify(body=message.body, title=message.title,
                                         body_format=apprise.NotifyFormat.TEXT))
    if delivered:
        return None
    said = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    return said[-1] if said else N_("Apprise could not send the message")


def alert_round(store: Store, config: Config, now: datetime) -> AlertsRun:
    """One round of alerts: the articles first stored since the last completed round (the
    database's mark, so that a restart after a crash alerts what the lost round would
    have), and the failed sends again; then the mark moves to `now`.

    A poll stamps its entries' first sight a moment before it stores them, and another
    worker's round may move the mark in between: a round reaches back
    settings.claim_lease (a poll is over by then) before the mark. What it finds again
    was claimed already, and alert_sends' unique key keeps it from going twice. Without
    alerts, the round only moves the mark: alerts added later start from there.
    """
    since = store.alerts_mark(now) - config.settings.claim_lease
    run = run_alerts(store, config, since, now)
    store.advance_alerts_mark(now)
    return run


def run_alerts(store: Store, config: Config, since: datetime, now: datetime) -> AlertsRun:
    """Tell each alert's targets of the articles first stored since `since` that match it,
    and again of those whose send failed within settings.alert_max_age."""
    if not config.alerts:
        return AlertsRun()
    max_age = config.settings.alert_max_age
    rules = EntryFilter(config.settings.filters, config.feeds)
    shown = (lambda entry: rules.judge(entry).shown) if rules else None
    batches = {batch.alert.name: batch for batch in select_alerts(
        config.alerts, store.new_articles(since, now - max_age), since, now, max_age, shown)}
    sent = failed = 0
    for alert in config.alerts:
        for url in alert.notify:
            outcome = _send_to(store, alert, url, batches.get(alert.name), now - max_age, now)
            sent += outcome is True
            failed += outcome is False
    return AlertsRun(sent, failed)


def _send_to(store: Store, alert: AlertConfig, url: str, batch: AlertBatch | None,
             retry_after: datetime, now: datetime) -> bool | None:
    """One target's message, with the articles whose send to it failed since `retry_after`:
    whether it was delivered; None when there was nothing to send."""
    known = {a.article_id: a.entry for a in batch.articles} if batch else {}
    claim = store.claim_alert_sends(alert.name, target_key(url), list(known), now, CLAIM_LEASE,
                                    retry_after)
    if not claim.article_ids:
        return None
    entries = _entries(store, claim.article_ids, known)
    error = send_message(url, alert_message(alert.name, entries)) if entries else None
    store.finish_alert_sends(claim.token, now, error)
    if error is None:
        log.info(Plural("alert %s: %d article sent to %s", "alert %s: %d articles sent to %s",
                        len(entries)), alert.name, len(entries), shown_address(url))
        return True
    log.warning("alert %s: could not send to %s (retried at the next poll): %s", alert.name,
                shown_address(url), error)
    return False


def _entries(store: Store, ids: Sequence[int], known: dict[int, StoredEntry]
             ) -> list[StoredEntry]:
    """The claimed articles, in claim order: this cycle's as read, retried ones read again
    (their first entry; those pruned since are left out)."""
    missing = [i for i in ids if i not in known]
    found = {**store.entries_by_ids(missing, copies=False), **known} if missing else known
    return [found[i] for i in ids if i in found]
