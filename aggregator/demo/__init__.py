"""The bundled sample feeds, served from loopback so the whole flow runs with no network."""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from pathlib import Path

from ruamel.yaml import YAML

from aggregator.publish.serve import make_server, start_server

DEMO_FEEDS = Path(__file__).parent / "feeds"

# file → (name shown in the digest, tags)
DEMO_SOURCES = {
    "mon-metier.rss": ("Mon métier, c’est le web", ["community management", "métier"]),
    "vis-ma-vie.atom": ("Vis ma vie de CM", ["community management", "humour"]),
    "metier-cp1252.rss": ("Le métier qui n’existe pas", ["métier"]),
    "hellocoton.rss": ("Hellocoton", ["agrégateur"]),
}


def start_feed_server() -> ThreadingHTTPServer:
    """Serve the sample feeds on 127.0.0.1 at a free port, in a background thread."""
    server = make_server(DEMO_FEEDS, "127.0.0.1", 0)
    start_server(server)
    return server


def write_demo_config(directory: Path, feeds_url: str, site_url: str) -> Path:
    """Write (or refresh) the demo's feeds.yaml in `directory`, pointing at `feeds_url`."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "settings": {
            "title": "Démo — veille community management",
            "database": "demo.db",
            "output_dir": "public",
            "base_url": site_url,
            "timezone": "Europe/Paris",
            "language": "fr",
            "poll_interval": "5m",
            "timeout": "10s",
        },
        "feeds": [
            {"name": name, "url": feeds_url + filename, "tags": tags}
            for filename, (name, tags) in DEMO_SOURCES.items()
        ],
    }
    path = directory / "feeds.yaml"
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# Written by `aggregator demo`: sample feeds served from loopback.\n")
        yaml.dump(document, handle)
    return path
