"""Which new articles each alert tells of, and the message that tells them: pure, from the
stored articles, the alerts of feeds.yaml and `now`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.config.load import AlertConfig
from aggregator.i18n import _, counted
from aggregator.models import StoredEntry
from aggregator.publish.filters import entry_fields, matches
from aggregator.store.alerts import NewArticle

# A message lists this many articles, then says how many more there are: a chat channel
# reads a short list, and the digest page has the rest.
MAX_LISTED = 10


@dataclass(frozen=True)
class AlertBatch:
    """The new articles one alert tells of in one poll cycle, oldest first."""

    alert: AlertConfig
    articles: tuple[NewArticle, ...]


@dataclass(frozen=True)
class Message:
    """What a chat or webhook receives: a title and a plain-text body."""

    title: str
    body: str


def is_new(article: NewArticle, since: datetime, now: datetime, max_age: timedelta) -> bool:
    """Whether an article may alert: first stored at or after `since`, and filed (published,
    or first seen when it has no date) within `max_age` of `now`."""
    return article.first_seen >= since and article.entry.dated >= now - max_age


def alert_matches(alert: AlertConfig, fields: Mapping[str, str]) -> bool:
    """Whether an article's fields match one of the alert's rules and none it excludes."""
    return (any(matches(rule, fields) for rule in alert.match)
            and not any(matches(rule, fields) for rule in alert.exclude))


def select_alerts(
    alerts: Sequence[AlertConfig], articles: Iterable[NewArticle], since: datetime,
    now: datetime, max_age: timedelta, shown: Callable[[StoredEntry], bool] | None = None,
) -> list[AlertBatch]:
    """For each alert, the new articles it tells of (alerts without any left out).

    An article comes once whatever its copies; one the pages do not show (`shown`: the
    filters of feeds.yaml) alerts no one.
    """
    fresh: dict[int, NewArticle] = {}
    for article in articles:
        if (article.article_id not in fresh and is_new(article, since, now, max_age)
                and (shown is None or shown(article.entry))):
            fresh[article.article_id] = article
    fields = {key: entry_fields(article.entry) for key, article in fresh.items()} if alerts else {}
    batches = []
    for alert in alerts:
        found = tuple(a for key, a in fresh.items() if alert_matches(alert, fields[key]))
        if found:
            batches.append(AlertBatch(alert, found))
    return batches


def alert_message(name: str, entries: Sequence[StoredEntry]) -> Message:
    """The one message of an alert for its new articles: each title, blog and link, the
    first MAX_LISTED of them, then how many others."""
    title = counted("Alert %(name)s: %(n)s new article", "Alert %(name)s: %(n)s new articles",
                    len(entries), name=quoted(name))
    lines = [_article_line(entry) for entry in entries[:MAX_LISTED]]
    others = len(entries) - MAX_LISTED
    if others > 0:
        lines.append(counted("and %(n)s other", "and %(n)s others", others))
    return Message(title, "\n".join(lines))


def _article_line(entry: StoredEntry) -> str:
    line = _("• %(title)s — %(blog)s") % {"title": entry.title or _("(untitled)"),
                                          "blog": entry.feed_title}
    return f"{line}\n  {entry.link}" if entry.link else line


def trial_message(name: str) -> Message:
    """The message `alerts test NAME` sends, to check that a target receives the alert."""
    return Message(_("Test of the alert %(name)s") % {"name": quoted(name)},
                   _("This is a test: the new articles matching the alert %(name)s will be "
                     "listed here after the polls that find them.") % {"name": quoted(name)})


def quoted(name: str) -> str:
    """An alert's name quoted as the active language quotes."""
    return _("“%(name)s”") % {"name": name}
