"""The demo: a week of sample blogs served from loopback, so the whole flow runs with no
network. The week (aggregator/demo/week.py) ends when the demo runs; four historical feeds
(aggregator/demo/feeds/, 2012–2016) come with it, one of them an aggregator's copies."""

from __future__ import annotations

import shutil
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from aggregator.publish.serve import make_server, start_server

DEMO_FEEDS = Path(__file__).parent / "feeds"
DEMO_ZONE = "Europe/Paris"
# What the demo's filter keeps out: the week has one sponsored post.
EXCLUDED = "sponsorisé"

# file → (name shown in the digest, tags)
DEMO_SOURCES = {
    "mon-metier.rss": ("Mon métier, c’est le web", ["community management", "métier"]),
    "vis-ma-vie.atom": ("Vis ma vie de CM", ["community management", "humour"]),
    "metier-cp1252.rss": ("Le métier qui n’existe pas", ["métier"]),
    "hellocoton.rss": ("Hellocoton", ["agrégateur"]),
}


def start_feed_server(directory: Path) -> ThreadingHTTPServer:
    """Serve `directory` (where write_demo_feeds puts the feeds) on 127.0.0.1 at a free
    port, in a background thread."""
    directory.mkdir(parents=True, exist_ok=True)
    server = make_server(directory, "127.0.0.1", 0)
    start_server(server)
    return server


def write_demo_feeds(directory: Path, feeds_url: str, now: datetime) -> None:
    """Write the historical feeds and the week ending at `now` (to the hour, so that runs
    within an hour serve the same bytes) into `directory`, as served at `feeds_url`."""
    # Imported here: the week is built only by the demo, not by every command.
    from aggregator.demo.formats import week_files

    for source in DEMO_SOURCES:
        shutil.copyfile(DEMO_FEEDS / source, directory / source)
    anchor = now.replace(minute=0, second=0, microsecond=0)
    for name, data in week_files(anchor, ZoneInfo(DEMO_ZONE), feeds_url).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def demo_feeds() -> list[tuple[str, str, list[str]]]:
    """The file, name and tags of each demo feed: the historical ones, then the week's."""
    from aggregator.demo.week import BLOGS

    return ([(file, name, tags) for file, (name, tags) in DEMO_SOURCES.items()]
            + [(b.filename, b.name, list(b.tags)) for b in BLOGS])


def write_demo_config(directory: Path, feeds_url: str, site_url: str) -> Path:
    """Write (or refresh) the demo's feeds.yaml in `directory`, pointing at `feeds_url`."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "settings": {
            "title": "Démo — veille community management",
            "database": "demo.db",
            "output_dir": "public",
            "base_url": site_url,
            "timezone": DEMO_ZONE,
            "language": "fr",
            "poll_interval": "5m",
            "timeout": "10s",
            "filters": {"exclude": [EXCLUDED]},
        },
        "feeds": [{"name": name, "url": feeds_url + file, "tags": tags}
                  for file, name, tags in demo_feeds()],
    }
    path = directory / "feeds.yaml"
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# Written by `aggregator demo`: sample feeds served from loopback.\n")
        yaml.dump(document, handle)
    return path
