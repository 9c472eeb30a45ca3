"""`alerts list` and `alerts test NAME`: the alerts of feeds.yaml, what they sent and what
failed, and a test message to check a target; the alerts `fetch` sends after its polls."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from aggregator.cli.alert_table import alert_lines, print_alert_table
from aggregator.cli.app import pass_config, pass_store
from aggregator.cli.output import say
from aggregator.config.load import Config
from aggregator.deliver.alerts import quoted, trial_message
from aggregator.deliver.alerts_send import alert_round, send_message
from aggregator.deliver.targets import shown_address
from aggregator.i18n import _, counted, translate_message
from aggregator.store import Store


@click.group()
def alerts() -> None:
    """Keyword alerts to chat and webhooks (the `alerts:` list of feeds.yaml)."""


@alerts.command("list")
@pass_store
def alerts_list(config: Config, store: Store) -> None:
    """Each alert's rules and targets, its last sends and its failures."""
    if not config.alerts:
        say(_("No alert in %(path)s: add an `alerts:` list (see the README).")
            % {"path": config.path})
        return
    for alert in config.alerts:
        rules = ", ".join(rule.describe(_) for rule in alert.match)
        excluded = ", ".join(rule.describe(_) for rule in alert.exclude)
        say(_("%(name)s: %(rules)s") % {"name": alert.name, "rules": rules}, "bold")
        if excluded:
            say(_("  except %(rules)s") % {"rules": excluded})
    print_alert_table(config, alert_lines(config, store))


@alerts.command("test")
@click.argument("name")
@pass_config
def alerts_test(config: Config, name: str) -> None:
    """Send a test message to each target of the alert NAME."""
    alert = config.alert(name)
    if alert is None:
        names = ", ".join(a.name for a in config.alerts) or _("none")
        raise click.ClickException(_("no alert named %(name)r in %(path)s (alerts: %(names)s)")
                                   % {"name": name, "path": config.path, "names": names})
    message = trial_message(alert.name)
    failed = 0
    for url in alert.notify:
        error = send_message(url, message)
        if error is None:
            say(_("%(target)s: test message sent") % {"target": shown_address(url)}, "green")
        else:
            failed += 1
            say(_("%(target)s: not sent: %(error)s")
                % {"target": shown_address(url), "error": translate_message(error)}, "red")
    if failed:
        raise click.ClickException(counted(
            "the test of %(name)s failed for %(n)s target",
            "the test of %(name)s failed for %(n)s targets", failed, name=quoted(alert.name)))


def send_alerts(store: Store, config: Config) -> None:
    """`fetch`'s round of alerts: the articles stored since the last round (this fetch's,
    and those of a fetch or daemon stopped before its round), the sends that failed."""
    run = alert_round(store, config, datetime.now(UTC))
    if run.sent:
        say(counted("Alerts: %(n)s message sent.", "Alerts: %(n)s messages sent.", run.sent))
    if run.failed:
        say(counted("Alerts: %(n)s message not sent; retried at the next fetch (see "
                    "`aggregator alerts list`).",
                    "Alerts: %(n)s messages not sent; retried at the next fetch (see "
                    "`aggregator alerts list`).", run.failed), "red")
