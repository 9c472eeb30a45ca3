"""`demo`: the whole flow on the bundled sample feeds, served from loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from aggregator.cli.app import open_store, read_config
from aggregator.cli.daemon import poll_on_schedule
from aggregator.cli.output import console, print_outcomes
from aggregator.cli.poll import poll_with_progress
from aggregator.cli.site import parse_address_option, render_site
from aggregator.demo import start_feed_server, write_demo_config, write_demo_feeds
from aggregator.i18n import _, counted
from aggregator.publish.serve import server_url


@click.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default="demo-site", show_default=True,
              help="Where to write the demo's feeds.yaml, database and pages.")
@click.option("--serve", "address", metavar="HOST:PORT", default="127.0.0.1:8080",
              show_default=True, callback=parse_address_option,
              help="Where to serve the pages.")
@click.option("--once", is_flag=True, help="Poll and render once, then exit.")
def demo(directory: Path, address: tuple[str, int], once: bool) -> None:
    """Run the whole flow on bundled sample feeds served from loopback (no network)."""
    ctx = click.get_current_context()
    feeds_server = start_feed_server(directory / "feeds")
    # Registered first, so closed last: after the daemon and the store it feeds.
    ctx.call_on_close(feeds_server.server_close)
    ctx.call_on_close(feeds_server.shutdown)
    site_url = f"http://{address[0]}:{address[1]}/"
    write_demo_feeds(directory / "feeds", server_url(feeds_server), datetime.now(UTC))
    path = write_demo_config(directory, server_url(feeds_server), site_url)
    config = read_config(path)
    console.print(_("Sample feeds served at %(url)s; configuration written to %(path)s")
                  % {"url": server_url(feeds_server), "path": path}, markup=False)
    if not once:
        poll_on_schedule(config, address)
        return
    store = open_store(config)
    started = time.monotonic()
    outcomes = poll_with_progress(store, config, force=True)
    print_outcomes(outcomes, time.monotonic() - started)
    report = render_site(store, config.settings, config.feeds, datetime.now(UTC))
    output = config.settings.output_dir
    console.print(counted("Wrote %(n)s day page to %(folder)s; open %(index)s",
                          "Wrote %(n)s day pages to %(folder)s; open %(index)s", report.days,
                          folder=output, index=output / "index.html"), markup=False)
