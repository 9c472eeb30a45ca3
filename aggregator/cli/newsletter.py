"""`newsletter list|preview|send`: the digest by e-mail, looked at, previewed and sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aggregator.cli.app import pass_store
from aggregator.cli.output import console, say
from aggregator.config.load import Config, NewsletterConfig
from aggregator.i18n import _, counted, translate_message
from aggregator.store import Store

# The mail code (Jinja2, Babel, css-inline) is imported by the commands that compose.
if TYPE_CHECKING:
    from aggregator.deliver.periods import Period

DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def newsletter() -> None:
    """The digest by e-mail: the newsletters of feeds.yaml."""


def _find(config: Config, name: str) -> NewsletterConfig:
    found = config.newsletter(name)
    if found is None:
        names = ", ".join(n.name for n in config.newsletters) or _("none")
        raise click.ClickException(_("no newsletter named %(name)s in %(path)s (there: "
                                     "%(names)s)") % {"name": name, "path": config.path,
                                                      "names": names})
    return found


def _period(config: Config, letter: NewsletterConfig, day: datetime | None, now: datetime
            ) -> Period:
    """The period `--day` ends, else the latest one whose sending time has come."""
    from aggregator.deliver.periods import latest_period, period_ending

    return (period_ending(letter, day.date()) if day
            else latest_period(letter, config.settings, now))


def weekday_name(day: str) -> str:
    """A weekday of feeds.yaml (`monday`) as the language names it ("lundi")."""
    from babel.dates import get_day_names

    from aggregator.config.mail import WEEKDAYS
    from aggregator.i18n import active_language

    return str(get_day_names("wide", locale=active_language())[WEEKDAYS.index(day)])


@newsletter.command("list")
@pass_store
def list_command(config: Config, store: Store) -> None:
    """Each newsletter: recipients, when it leaves, its last sending."""
    from aggregator.deliver.periods import send_time

    if not config.newsletters:
        say(_("No newsletter in %(path)s (see the README's e-mail section).")
            % {"path": config.path})
        return
    for letter in config.newsletters:
        when = (_("every day at %(time)s") if letter.every == "day"
                else _("every %(day)s at %(time)s")) % {
            "time": send_time(letter, config.settings).strftime("%H:%M"),
            "day": weekday_name(letter.on)}
        last = store.deliveries(letter.name, limit=1)
        sent = (_("last: %(period)s, %(count)s") % {"period": last[0].period, "count": counted(
            "%(n)s recipient", "%(n)s recipients", last[0].delivered)}
                if last and last[0].sent_at else _("never sent"))
        tags = ", ".join(letter.tags) or _("all tags")
        console.print(f"{letter.name}  {when}  {tags}", style="bold", markup=False)
        console.print("  " + ", ".join(letter.to) + f"  ({sent})", markup=False)


@newsletter.command()
@click.argument("name")
@click.option("--day", type=DAY, help="The last day of the period (YYYY-MM-DD); default: "
              "the latest period sent or due.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the message to FILE.eml, or its HTML part to FILE.html.")
@pass_store
def preview(config: Config, store: Store, name: str, day: datetime | None,
            output: Path | None) -> None:
    """Compose a newsletter without sending it."""
    from aggregator.deliver.newsletters import compose_newsletter
    from aggregator.deliver.select import PeriodArticles

    letter, now = _find(config, name), datetime.now(UTC)
    period = _period(config, letter, day, now)
    composed = compose_newsletter(config, letter, period, now, PeriodArticles(store, config))
    content = composed.content
    if output is None:
        console.print(content.text, highlight=False, markup=False)
    elif output.suffix.lower() == ".html":
        output.write_text(content.html, "utf-8")
    else:
        output.write_bytes(composed.message.as_bytes())
    say(_("%(subject)s (%(shown)s, HTML %(size)d KB)") % {
        "subject": content.subject,
        "shown": counted("%(n)s article shown", "%(n)s articles shown", content.shown),
        "size": round(len(content.html.encode()) / 1000)})


@newsletter.command("send")
@click.argument("name")
@click.option("--day", type=DAY, help="The last day of the period (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Compose, say what would leave, send nothing.")
@click.option("--resend", is_flag=True, help="Send again a period already sent.")
@pass_store
def send_command(config: Config, store: Store, name: str, day: datetime | None,
                 dry_run: bool, resend: bool) -> None:
    """Send a newsletter now: once per period unless --resend."""
    from aggregator.deliver.newsletters import send_newsletter
    from aggregator.poll.claims import worker_name

    letter, now = _find(config, name), datetime.now(UTC)
    period = _period(config, letter, day, now)
    try:
        outcome = send_newsletter(store, config, letter, period, now, worker=worker_name(),
                                  resend=resend, dry_run=dry_run, retry_failed=True)
    except ValueError as exc:
        raise click.ClickException(translate_message(str(exc))) from None
    values = {"name": name, "period": period.key,
              "count": counted("%(n)s recipient", "%(n)s recipients", len(outcome.delivered))}
    if outcome.status in ("sent", "dry-run", "already", "empty"):
        say({"sent": _("%(name)s of %(period)s sent to %(count)s."),
             "dry-run": _("%(name)s of %(period)s: would be sent to %(recipients)s "
                          "(%(articles)s), nothing sent."),
             "already": _("%(name)s of %(period)s was sent already (--resend sends it "
                          "again)."),
             "empty": _("%(name)s of %(period)s: no article, nothing sent (skip_empty)."),
             }[outcome.status] % {**values, "recipients": ", ".join(letter.to),
                                  "articles": counted("%(n)s article", "%(n)s articles",
                                                      outcome.articles)})
        return
    refused = "; ".join(f"{address}: {answer}" for address, answer in outcome.refused.items())
    if not outcome.delivered:
        raise click.ClickException(_("%(name)s of %(period)s not sent: %(refused)s")
                                   % {**values, "refused": refused})
    raise click.ClickException(_("%(name)s of %(period)s sent to %(count)s; refused: "
                                 "%(refused)s") % {**values, "refused": refused})
