"""The `aggregator` command as a user runs it: in-process with CliRunner and as real processes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from aggregator import USER_AGENT
from aggregator.cli import main
from aggregator.cli.output import shorten_url
from tests.conftest import FeedServer, write_config

ROOT = Path(__file__).parent.parent


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def config_path(tmp_path: Path, feed_server: FeedServer, refused_url: str) -> Path:
    feeds = [
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom"),
         "tags": ["humour"]},
        {"name": "Isabelle", "url": feed_server.serve_file("metier-cp1252.rss")},
        {"name": "En panne", "url": refused_url},
    ]
    return write_config(tmp_path, feeds, language="en")  # English messages and pages


def test_fetch_render_status(config_path: Path) -> None:
    fetched = invoke(config_path, "fetch")
    assert fetched.exit_code == 0, fetched.output
    assert re.search(r"3 feeds polled in [\d.]+ s: 3 new entries, 1 failed\.",
                     fetched.output), fetched.output
    assert "Slowest: " not in fetched.output  # loopback answers in well under a second
    assert "En panne: error: connection failed" in fetched.output

    rendered = invoke(config_path, "render")
    assert rendered.exit_code == 0, rendered.output
    assert "Rendered 3 day pages and 3 feed entries" in rendered.output
    public = config_path.parent / "public"
    assert (public / "digest" / "2016-06-09.html").is_file()

    table = invoke(config_path, "status")
    assert table.exit_code == 0, table.output
    assert "Vis ma vie" in table.output and "failing" in table.output

    status = json.loads(invoke(config_path, "status", "--json").output)
    by_name = {row["name"]: row for row in status}
    assert by_name["Vis ma vie"]["state"] == "ok"
    assert by_name["Vis ma vie"]["entries"] == 2
    assert by_name["En panne"]["state"] == "failing"
    assert by_name["En panne"]["failures"] == 1
    assert by_name["En panne"]["last_error"].startswith("connection failed")
    explained = by_name["En panne"]["what_happened"]
    assert re.fullmatch(r"failing since \w{3} \d\d?, \d{4} \d\d:\d\d \(1 attempt\): "
                        r"connection failed: 127\.0\.0\.1:\d+: connection refused\. "
                        r"Next try \w{3} \d\d?, \d{4} \d\d:\d\d; it is never dropped\.",
                        explained), explained


def test_fetch_again_is_not_due_then_forced(config_path: Path) -> None:
    invoke(config_path, "fetch")
    again = invoke(config_path, "fetch")
    assert again.exit_code == 0
    assert "No feed is due" in again.output
    forced = invoke(config_path, "fetch", "--force", "--feed", "Vis ma vie")
    assert ": 0 new entries, 1 not modified." in forced.output


def test_fetch_holds_less_memory_before_its_threads_start(
        config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fetch threads each on a heap of their own left a first poll of 1,000 feeds 6 MB
    # larger; glibc only keeps threads started afterwards on one heap.
    import aggregator.cli.poll
    import aggregator.poll.run

    calls: list[str] = []
    poll = aggregator.poll.run.update_feeds

    def polling(*args: Any, **kwargs: Any) -> Any:
        calls.append("poll")
        return poll(*args, **kwargs)

    monkeypatch.setattr(aggregator.cli.poll, "hold_less_memory", lambda: calls.append("hold"))
    monkeypatch.setattr(aggregator.poll.run, "update_feeds", polling)
    result = invoke(config_path, "fetch")
    assert result.exit_code == 0, result.output
    assert calls == ["hold", "poll"]


def test_fetch_unknown_feed_is_an_error(config_path: Path) -> None:
    result = invoke(config_path, "fetch", "--feed", "Inconnu")
    assert result.exit_code != 0
    assert "no feed named 'Inconnu'" in result.output
    assert "Vis ma vie" in result.output


def test_feeds_failing_alike_get_one_hint_and_an_empty_page_that_says_so(
        tmp_path: Path, refused_url: str) -> None:
    feeds = [{"name": f"Sans nom {n}", "url": f"http://veille-{n}.invalid/feed.xml"}
             for n in (1, 2)] + [{"name": "Refusé", "url": refused_url}]
    path = write_config(tmp_path, feeds)  # in French, the pages and the messages
    fetched = invoke(path, "fetch")
    assert fetched.exit_code == 0, fetched.output
    assert ("2 flux sur 3 ont échoué car leurs noms d’hôte n’ont pas pu être résolus\u00a0: "
            "cette machine est-elle hors ligne, ou son DNS en panne\u00a0? `make demo` "
            "fonctionne hors ligne.") in fetched.output

    assert invoke(path, "render").exit_code == 0
    index = (tmp_path / "public" / "index.html").read_text("utf-8")
    assert ("Les flux ont été interrogés, mais aucun article n’est encore enregistré\u00a0: "
            "3 flux sur 3 en échec. Lancez <code>aggregator status</code> pour savoir "
            "pourquoi.") in index
    assert "aggregator fetch" not in index


def test_refused_connections_get_one_hint(tmp_path: Path, refused_url: str) -> None:
    path = write_config(tmp_path, [{"name": f"Refusé {n}", "url": f"{refused_url}?{n}"}
                                   for n in (1, 2)], language="en")
    fetched = invoke(path, "fetch")
    assert fetched.exit_code == 0, fetched.output
    assert "2 of 2 feeds failed because their connections were refused" in fetched.output


def test_a_busy_port_names_the_option_that_picks_another(tmp_path: Path) -> None:
    path = write_config(tmp_path, [], language="en")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        served = invoke(path, "serve", "--bind", f"127.0.0.1:{port}")
        ran = invoke(path, "run", "--serve", f"127.0.0.1:{port}")
    assert served.exit_code == 1 and ran.exit_code == 1
    assert (f"cannot listen on 127.0.0.1:{port}: Address already in use; another program "
            "listens there: pick another port with --bind 127.0.0.1:9000") in served.output
    assert "make" not in served.output
    assert ("pick another port with --serve 127.0.0.1:9000 (with make: make run PORT=9000)"
            in ran.output)


def test_invalid_config_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  pol_interval: 1h\nfeeds:\n  - name: A\n    url: ftp://x\n",
                    encoding="utf-8")
    result = invoke(path, "fetch")
    assert result.exit_code == 1
    assert f"{path}:2:3: settings.pol_interval: unknown key (did you mean `poll_interval`?)" \
        in result.output
    assert f"{path}:5:5: feeds[0].url: expected an http:// or https:// URL" in result.output


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke(tmp_path / "absent.yaml", "status")
    assert result.exit_code == 1
    assert "absent.yaml:1:1: file not found" in result.output


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, [], database=str(tmp_path / "no" / "such" / "dir" / "x.db"),
                        language="en")
    result = invoke(path, "status")
    assert result.exit_code == 1
    assert "cannot open the database" in result.output


def _run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aggregator", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"aggregator, version {USER_AGENT.split('/')[1].split()[0]}"


def test_the_command_script_runs_light_in_parse_workers() -> None:
    """multiprocessing runs the `aggregator` script again in every parse worker (as
    __mp_main__): that must import neither the CLI nor the database layer."""
    script = Path(sys.executable).with_name("aggregator")
    if not script.exists():
        pytest.skip("the aggregator command is not installed in this environment")
    probe = ("import runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
             "print(sorted(m for m in ('aggregator.cli', 'sqlalchemy', 'requests', 'jinja2')"
             " if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe, str(script)], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_cli_loads_rendering_scheduling_and_parsing_only_to_use_them() -> None:
    """fetch polls beside the parse workers: its process keeps Jinja2, Babel and
    APScheduler out (4.6 MB), imported by the commands that render or schedule, and
    feedparser, nh3 and ftfy (6 MB), which the workers hold."""
    probe = ("import sys, aggregator.cli; print(sorted(m for m in ("
             "'aggregator.publish.render', 'aggregator.poll.schedule', 'jinja2', 'babel', "
             "'apscheduler', 'aggregator.poll.prepare', 'feedparser', 'nh3', 'ftfy') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_demo_once_builds_the_site_with_no_network(tmp_path: Path) -> None:
    result = _run("demo", "--once", "--dir", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The demo's site is French, and so are its messages.
    assert "30 flux interrogés en" in result.stdout
    assert "\u00a0: 66 nouveaux articles, 12 déjà publiés ailleurs." in result.stdout
    public = tmp_path / "site" / "public"
    index = (public / "index.html").read_text("utf-8")
    assert "Démo — veille community management" in index
    items = json.loads((public / "feed.json").read_text("utf-8"))["items"]
    # 78 entries, 12 of them copies of articles of other feeds, one sponsored post filtered
    # out; the output feeds hold the newest 50.
    assert len(items) == 50
    assert len({item["title"] for item in items}) == 50
    # A second demo run finds the same entries: nothing is stored twice. (The feeds
    # server's port changed, and with it the address of the pictures: entries that show
    # one are updated.)
    again = _run("demo", "--once", "--dir", "site", cwd=tmp_path)
    assert "\u00a0: 0 nouvel article" in again.stdout
    assert "déjà publié" not in again.stdout and "en échec" not in again.stdout


@pytest.fixture
def daemon(config_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`aggregator run --serve 127.0.0.1:0`: the daemon picks a free port and says which."""
    env = {**os.environ, "AGGREGATOR_CONFIG": str(config_path)}
    log_path = config_path.parent / "daemon.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "run", "--serve", "127.0.0.1:0"],
            cwd=config_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    try:
        yield _served_url(log_path, process), process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _served_url(log_path: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"Serving \S+ at (http://127\.0\.0\.1:\d+/)", log_path.read_text())
        if found:
            return found.group(1)
        assert process.poll() is None, f"the daemon exited:\n{log_path.read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"the daemon never said where it serves:\n{log_path.read_text()}")


def _wait_for(url: str, process: subprocess.Popen[Any], seconds: float = 30,
              marker: bytes = b'class="entry"') -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the daemon exited with {process.returncode}"
        response = requests.get(url, timeout=2)
        if response.status_code == 200 and marker in response.content:
            return response
        time.sleep(0.2)
    raise AssertionError(f"{url} never served the digest")


def test_run_polls_renders_and_serves(daemon: tuple[str, subprocess.Popen[str]]) -> None:
    base, process = daemon
    index = _wait_for(base + "index.html", process)
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    # The first render writes the day pages, then the feeds: wait for those too.
    atom = _wait_for(base + "atom.xml", process, marker=b"<entry")
    assert atom.headers["Content-Type"] == "application/atom+xml"
    assert atom.text.count("<entry") == 3
    etag = atom.headers["ETag"]
    again = requests.get(base + "atom.xml", headers={"If-None-Match": etag}, timeout=5)
    assert again.status_code == 304
    assert requests.get(base + "feed.json", timeout=5).headers["Content-Type"].startswith(
        "application/feed+json")
    # Feed readers polling us get what we ask of others: gzip, validators, 304.
    zipped = requests.get(base + "atom.xml", headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.text == atom.text
    assert int(zipped.headers["Content-Length"]) < len(atom.content) / 2
    since = requests.get(base + "atom.xml", timeout=5, headers={
        "If-Modified-Since": atom.headers["Last-Modified"], "Accept-Encoding": "identity"})
    assert since.status_code == 304
    # Monitoring beside the pages.
    health = requests.get(base + "healthz", timeout=5).json()
    assert (health["feeds"], health["feeds_failing"], health["entries_stored"]) == (3, 1, 3)
    assert health["status"] == "degraded" and health["last_cycle"]
    metrics = requests.get(base + "metrics", timeout=5)
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'aggregator_polls_total{outcome="error"} 1' in metrics.text
    assert 'aggregator_polls_total{outcome="new"} 2' in metrics.text
    assert "aggregator_new_entries_total 3" in metrics.text
    assert "aggregator_entries_stored 3" in metrics.text
    # Monitors that probe with HEAD (load balancers, uptime checkers) get the headers.
    for route, kind in (("healthz", "application/json"), ("metrics", "text/plain")):
        head = requests.head(base + route, timeout=5)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Type"].startswith(kind)
        assert int(head.headers["Content-Length"]) > 0


def test_feeds_list_and_check(config_path: Path, feed_server: FeedServer) -> None:
    listed = invoke(config_path, "feeds", "list")
    assert listed.exit_code == 0
    assert "Vis ma vie" in listed.output and "humour" in listed.output

    checked = invoke(config_path, "feeds", "check")
    assert checked.exit_code == 1  # one feed fails: scripts can tell
    assert "2 ok, 1 failed." in checked.output
    assert "connection refused" in checked.output
    before = len(feed_server.requests)
    # Nothing was stored: a fetch afterwards still finds every entry new.
    fetched = invoke(config_path, "fetch")
    assert ": 3 new entries" in fetched.output
    assert len(feed_server.requests) == before + 2


def test_feeds_check_shows_a_permanent_move(tmp_path: Path, feed_server: FeedServer) -> None:
    new = feed_server.serve_file("vis-ma-vie.atom", "/new")
    old = feed_server.set("/old", b"", status=308, headers={"Location": "/new"})
    config = write_config(tmp_path, [{"name": "moved", "url": old}], language="en")
    checked = invoke(config, "feeds", "check")
    assert checked.exit_code == 0, checked.output
    assert f"moved permanently to {new}" in checked.output.replace("\n", "")


def test_help_lists_every_setting_with_its_default() -> None:
    from aggregator.config.settings import settings_help

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for setting in settings_help():
        default = setting.default if setting.default is not None else "no default"
        assert f"{setting.name} ({default}): " in result.output


LONG_URL = "https://www.exemple.fr/blog/categorie/community-management/2026/flux/feed.xml"


def _at_width(config: Path, width: int, *args: str) -> list[str]:
    """The command's lines in a terminal of `width` columns, each checked to fit: the
    title's path to feeds.yaml (pytest's deep folder) is shortened in its middle."""
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= width, result.output
    title = lines[0].strip()
    assert title.endswith(f"/{config.parent.name}/feeds.yaml"), title
    assert str(config) in title or "/…/" in title, title
    return lines


@pytest.mark.parametrize("width", [80, 120])
def test_feeds_list_fits_the_terminal_and_keeps_addresses_whole(tmp_path: Path,
                                                                width: int) -> None:
    config = write_config(tmp_path, [
        {"name": "Le blog du community manager de la région", "url": LONG_URL,
         "tags": ["métier", "réseaux sociaux", "veille"]},
        {"name": "Court", "url": "https://court.example/feed"},
        {"name": "Les-community-managers-associés", "url": "https://cm.example/feed"}],
        language="en")
    lines = _at_width(config, width, "feeds", "list")
    names = [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    # Names wrap at spaces; a word longer than the column is cut with "…", never broken.
    assert " ".join(names[:names.index("Court")]) == "Le blog du community manager de la région"
    assert any(name.startswith("Les-comm") and name.endswith("…") for name in names)
    assert not any(name.startswith(("ger", "nager", "anager", "région")) for name in names)
    shown = [re.search(r"https://\S+", line) for line in lines]
    urls = [match.group() for match in shown if match]
    # Each address on one line, its middle cut; a short one as it is.
    assert urls == [shorten_url(LONG_URL, len(urls[0])), "https://court.example/feed",
                    "https://cm.example/feed"]
    assert urls[0].startswith("https://www.exemple.fr") and urls[0].endswith("/feed.xml")
    assert "…" in urls[0]
    wide = CliRunner(env={"COLUMNS": str(width)}).invoke(
        main, ["--config", str(config), "feeds", "list", "--wide"])
    url_cells = [line.split("│")[2].strip() for line in wide.output.splitlines()
                 if line.startswith("│")]
    assert LONG_URL in "".join(url_cells)  # whole, folded over lines if need be
    name_cells = "".join(line.split("│")[1].strip() for line in wide.output.splitlines()
                         if line.startswith("│"))
    assert "Les-community-managers-associés" in name_cells and str(config) in wide.output


@pytest.mark.parametrize("width", [80, 120])
def test_status_fits_the_terminal_one_line_a_feed(config_path: Path, width: int) -> None:
    invoke(config_path, "fetch")
    lines = _at_width(config_path, width, "status")
    rows = [line for line in lines if re.match(r"│ (Vis ma vie|Isabelle|En panne) ", line)]
    assert len(rows) == 3  # every name fits one line, so each feed takes one
    failing = next(line for line in rows if line.startswith("│ En panne"))
    assert "failing since" in failing and failing.rstrip(" │").endswith("…")
    assert ("last success" in lines[3]) == (width >= 120)  # the header, under the zone
    # --wide and --json give the whole sentence.
    sentence = json.loads(invoke(config_path, "status", "--json").output)[2]["what_happened"]
    wide = CliRunner(env={"COLUMNS": str(width)}).invoke(
        main, ["--config", str(config_path), "status", "--wide"])
    cells = [line.split("│")[-2].strip() for line in wide.output.splitlines()
             if line.startswith("│")]
    assert sentence.replace(" ", "") in "".join(cells).replace(" ", "")  # folded, none left out
