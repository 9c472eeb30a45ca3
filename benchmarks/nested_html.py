"""Time `fetch` and `render` on a feed whose one entry nests N <div> (issue 20, finding 5).

    PYTHONPATH=$PWD python benchmarks/nested_html.py [N]   (default 100000: a 1.1 MB feed)

The feed is served from loopback beside three fixture feeds, in a throwaway folder; the
commands run as the user runs them (`python -m aggregator fetch`, then `render`), each
in its own process, with the code PYTHONPATH points at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FIXTURES = ("blog-metier.rss", "vis-ma-vie.atom", "metier-cp1252.rss")


def nested_feed(depth: int) -> bytes:
    """An RSS feed with one entry whose description nests `depth` <div>."""
    body = "<div>" * depth + "tout au fond" + "</div>" * depth
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Nid</title><link>http://127.0.0.1/</link><description>profond</description>"
        "<item><title>Profond</title><link>http://127.0.0.1/profond</link><guid>profond</guid>"
        f"<pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate><description><![CDATA[{body}]]>"
        "</description></item></channel></rss>"
    ).encode()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def timed(command: list[str], folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aggregator", "--config", str(folder / "feeds.yaml"),
                    *command], check=True, env=os.environ, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        served = folder / "served"
        served.mkdir()
        (served / "nested.rss").write_bytes(nested_feed(depth))
        for fixture in FIXTURES:
            (served / fixture).write_bytes((DATA / fixture).read_bytes())
        server = ThreadingHTTPServer(("127.0.0.1", 0),
                                     partial(_Quiet, directory=str(served)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        feeds = "".join(f"  - name: {n}\n    url: {base}{n}\n"
                        for n in ("nested.rss", *FIXTURES))
        (folder / "feeds.yaml").write_text(
            "settings:\n  database: test.db\n  output_dir: public\n  timeout: 600s\n"
            f"feeds:\n{feeds}", encoding="utf-8")
        size = (served / "nested.rss").stat().st_size
        fetch = timed(["fetch"], folder)
        render = timed(["render", "--full"], folder)
        again = timed(["render", "--full"], folder)
        server.shutdown()
    print(f"{depth} nested <div>, a {size / 1e6:.2f} MB feed: fetch {fetch:.1f} s, "
          f"render {render:.1f} s, render again {again:.1f} s")


if __name__ == "__main__":
    main()
