"""When a newsletter leaves and what it covers: pure functions of its settings and `now`.

A daily newsletter leaves each day at its time with the day before, complete; a weekly one
leaves on its weekday with the seven days before. A period is sent once (the store claims
it); one whose time passed more than LATE ago is not sent late, the next one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aggregator.config.load import NewsletterConfig, Settings
from aggregator.config.mail import WEEKDAYS
from aggregator.publish.digest import day_bounds, local_time

# A daemon that was stopped over the morning sends that morning's newsletter when it is
# back within this long; later, the news is stale and the next period is awaited.
LATE = timedelta(hours=12)


@dataclass(frozen=True)
class Period:
    """The days a newsletter covers, `first` to `last` included."""

    every: str
    first: date
    last: date

    @property
    def key(self) -> str:
        """The period's name in the deliveries table and in commands."""
        if self.every == "day":
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def days(self) -> tuple[date, ...]:
        """Its days, oldest first."""
        return tuple(self.first + timedelta(days=n)
                     for n in range((self.last - self.first).days + 1))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The moments it starts and ends (excluded)."""
        return day_bounds(self.first, tz)[0], day_bounds(self.last, tz)[1]


def send_time(newsletter: NewsletterConfig, settings: Settings) -> time:
    """The local time the newsletter leaves."""
    return newsletter.at or settings.digest_time


def period_ending(newsletter: NewsletterConfig, last: date) -> Period:
    """The newsletter's period whose last day is `last` (`--day`)."""
    length = 1 if newsletter.every == "day" else 7
    return Period(newsletter.every, last - timedelta(days=length - 1), last)


def latest_send(newsletter: NewsletterConfig, settings: Settings, now: datetime) -> datetime:
    """The newsletter's latest sending moment at or before `now` (aware)."""
    tz = ZoneInfo(settings.timezone)
    local = local_time(now, tz)
    at = send_time(newsletter, settings)
    day = local.date() if local.time() >= at else local.date() - timedelta(1)
    if newsletter.every == "week":
        day -= timedelta(days=(day.weekday() - WEEKDAYS.index(newsletter.on)) % 7)
    return datetime.combine(day, at, tz)


def latest_period(newsletter: NewsletterConfig, settings: Settings, now: datetime) -> Period:
    """What the newsletter's latest sending at or before `now` covers."""
    return period_ending(newsletter, latest_send(newsletter, settings, now).date()
                         - timedelta(days=1))


def due_period(newsletter: NewsletterConfig, settings: Settings, now: datetime
               ) -> Period | None:
    """The period to send at `now` unless it was (the store knows); None when the latest
    sending moment is over LATE ago."""
    if now - latest_send(newsletter, settings, now) > LATE:
        return None
    return latest_period(newsletter, settings, now)
