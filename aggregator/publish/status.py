"""Every feed's and alert's health in words, for `aggregator status`: pure, from the stored
states."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from aggregator.config.load import FeedConfig
from aggregator.i18n import _, counted, moment, number, translate_message
from aggregator.models import FeedState, PageCounts, StoredEntry

if TYPE_CHECKING:
    from aggregator.publish.filters import EntryFilter
    from aggregator.store.glance import Delivery
    from aggregator.store.status_rows import TargetRecord

Health = Literal["disabled", "never polled", "retired", "failing", "moved", "ok"]


def local_time(when: datetime | None, tz: ZoneInfo) -> str:
    """A moment to the minute in the configured time zone; a dash for none."""
    return moment(when, tz) if when else "—"


def zone_name(tz: ZoneInfo, moment: datetime) -> str:
    """The time zone that local_time uses, named once for a reader: its name and its
    offset at `moment` (Europe/Paris (UTC+01:00))."""
    offset = moment.astimezone(tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"{tz.key} (UTC{sign}{hours:02d}:{minutes:02d})"


def feed_health(enabled: bool, state: FeedState | None) -> Health:
    """A feed's health in a word or two."""
    if not enabled:
        return "disabled"
    if state is None or state.last_polled is None:
        return "never polled"
    if state.gone_at:
        return "retired"
    if state.failures:
        return "failing"
    return "moved" if state.moved_to else "ok"


def explain_state(enabled: bool, state: FeedState | None, tz: ZoneInfo) -> str:
    """What happened to a feed, in plain words: what, when, and what comes next."""
    if not enabled:
        return _("disabled in feeds.yaml: not polled, its entries are kept")
    if state is None or state.last_polled is None:
        return _("not polled yet")
    if state.gone_at:
        return _("retired on %(time)s: %(error)s. It is not polled any more; edit its entry "
                 "in feeds.yaml to try again.") % {
            "time": local_time(state.gone_at, tz), "error": _error(state)}
    parts = []
    if state.failures:
        parts.append(counted(
            "failing since %(time)s (%(n)s attempt): %(error)s. Next try %(next)s; it is "
            "never dropped.",
            "failing since %(time)s (%(n)s attempts in a row): %(error)s. Next try "
            "%(next)s; it is never dropped.", state.failures,
            time=local_time(state.failing_since or state.last_polled, tz),
            error=_error(state), next=local_time(state.next_poll, tz)))
    if state.moved_to:
        parts.append(_("moved permanently to %(url)s on %(time)s: polled there now; put the "
                       "new address in feeds.yaml.") % {
            "url": state.moved_to, "time": local_time(state.moved_at, tz)})
    return " ".join(parts) or _("polled %(time)s") % {
        "time": local_time(state.last_polled, tz)}


def _error(state: FeedState) -> str:
    """A feed's last error, stored in English, in the reader's language."""
    return translate_message(state.last_error or "")


@dataclass(frozen=True)
class StatusLine:
    """One feed's line of the status table, in words."""

    name: str
    health: Health
    last_success: str
    next_poll: str
    entries: str
    what_happened: str


def status_line(feed: FeedConfig, state: FeedState | None, filtered_out: int,
                tz: ZoneInfo, pages: str = "") -> StatusLine:
    """A feed's line of the status table; a retired feed has no next poll. `pages`: how
    its entries got their article pages (describe_pages)."""
    health = feed_health(feed.enabled, state)
    entries = number(state.entry_count if state else 0)
    return StatusLine(
        name=feed.name,
        health=health,
        last_success=local_time(state.last_success if state else None, tz),
        next_poll=local_time(state.next_poll if state and health != "retired" else None, tz),
        entries=entries + (" " + counted("(%(n)s filtered out)", "(%(n)s filtered out)",
                                         filtered_out) if filtered_out else ""),
        what_happened=" — ".join(filter(None, (explain_state(feed.enabled, state, tz), pages))),
    )


def status_record(feed: FeedConfig, state: FeedState | None, filtered_out: int,
                  tz: ZoneInfo) -> dict[str, object]:
    """A feed's status for `status --json`: ISO 8601 times, None where unknown."""
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "name": feed.name,
        "state": feed_health(feed.enabled, state),
        "url": state.url if state else None,
        "moved_to": state.moved_to if state else None,
        "last_polled": iso(state.last_polled if state else None),
        "last_success": iso(state.last_success if state else None),
        "last_error": state.last_error if state else None,
        "last_status": state.last_status if state else None,
        "failing_since": iso(state.failing_since if state else None),
        "failures": state.failures if state else 0,
        "retired_at": iso(state.gone_at if state else None),
        "next_poll": iso(state.next_poll if state and not state.gone_at else None),
        "entries": state.entry_count if state else 0,
        "what_happened": explain_state(feed.enabled, state, tz),
        "filtered_out": filtered_out,
    }


def count_filtered_out(rules: EntryFilter, entries: Iterable[StoredEntry]) -> dict[str, int]:
    """How many stored entries of each feed the filters keep out of pages and feeds."""
    return dict(Counter(entry.feed_name for entry in entries if not rules.judge(entry).shown))


@dataclass(frozen=True)
class AlertLine:
    """One alert target's line, in words: whether its last sends went through."""

    alert: str
    target: str
    failing: bool
    sent: str
    last_sent: str
    what_happened: str


def alert_line(alert: str, target: str, record: TargetRecord | None, tz: ZoneInfo) -> AlertLine:
    """What an alert did for one target (`target`: its address without secrets)."""
    failing = record is not None and bool(record.failing or record.interrupted)
    return AlertLine(alert, target, failing, number(record.sent if record else 0),
                     local_time(record.last_sent if record else None, tz),
                     explain_alert(record))


def explain_alert(record: TargetRecord | None) -> str:
    """An alert target's failures in plain words, or that its sends went through."""
    if record is None:
        return _("nothing to send yet")
    error = translate_message(record.last_error or "")
    parts = []
    if record.failing:
        parts.append(counted(
            "%(n)s article not sent yet (%(error)s): retried at the next poll.",
            "%(n)s articles not sent yet (%(error)s): retried at the next poll.",
            record.failing, error=error))
    if record.interrupted:
        parts.append(counted(
            "%(n)s article's send was interrupted: it may not have arrived, and is not "
            "sent again.", "%(n)s articles' send was interrupted: they may not have "
            "arrived, and are not sent again.", record.interrupted))
    if record.given_up:
        parts.append(counted(
            "%(n)s article never sent: older than settings.alert_max_age.",
            "%(n)s articles never sent: older than settings.alert_max_age.", record.given_up))
    return " ".join(parts) or _("ok")


def describe_pages(mode: str, pages: PageCounts | None) -> str:
    """How a feed's entries got their article page, in words; empty when none was wanted
    (every entry whole in the feed, full_text auto)."""
    if mode == "never":
        return _("Article pages: never fetched (full_text: never).")
    counts = pages.counts if pages else {}
    parts = [words for n, words in (
        (counts.get("fetched", 0), counted("%(n)s fetched", "%(n)s fetched",
                                           counts.get("fetched", 0))),
        (counts.get("pending", 0), counted("%(n)s waiting", "%(n)s waiting",
                                           counts.get("pending", 0))),
        (counts.get("robots-forbidden", 0), counted(
            "%(n)s forbidden by robots.txt", "%(n)s forbidden by robots.txt",
            counts.get("robots-forbidden", 0))),
        (counts.get("failed", 0), counted("%(n)s failed", "%(n)s failed",
                                          counts.get("failed", 0))),
    ) if n]
    if not parts and mode != "always":
        return ""
    needless = counts.get("not-needed", 0)
    if needless:
        parts.append(counted("%(n)s not needed (whole in the feed)",
                             "%(n)s not needed (whole in the feed)", needless))
    text = _("Article pages: %(counts)s.") % {"counts": ", ".join(parts)}
    if pages and pages.last_error:
        text += " " + _("Last failure: %(error)s.") % {
            "error": translate_message(pages.last_error)}
    return text


# A claim unrecorded for longer than this is no sending under way (retries stop within
# settings.email.retry_for, at most an hour) but a sender that stopped half-way.
STUCK_AFTER = timedelta(hours=1, minutes=5)


def delivery_problems(deliveries: Iterable[Delivery], now: datetime, tz: ZoneInfo
                      ) -> list[str]:
    """What `status` says of the newsletters: periods claimed and never recorded (a crash
    while sending: maybe sent, never sent again by itself), and the recipients refused in
    each newsletter's latest period. `deliveries` newest first."""
    problems, seen = [], set()
    for delivery in deliveries:
        latest = delivery.newsletter not in seen
        seen.add(delivery.newsletter)
        values = {"name": delivery.newsletter, "period": delivery.period,
                  "time": local_time(delivery.claimed_at, tz), "worker": delivery.claimed_by}
        if delivery.sent_at is None and now - delivery.claimed_at > STUCK_AFTER:
            problems.append(_(
                "newsletter %(name)s of %(period)s: claimed by %(worker)s at %(time)s and "
                "never recorded; it may have left: check a mailbox, then `newsletter send "
                "%(name)s --day ... --resend` if it did not") % values)
        elif latest and delivery.errors:
            refused = "; ".join(f"{address}: {translate_message(answer)}"
                                for address, answer in sorted(delivery.errors.items()))
            problems.append(_("newsletter %(name)s of %(period)s: not delivered to "
                              "%(refused)s") % {**values, "refused": refused})
    return problems
