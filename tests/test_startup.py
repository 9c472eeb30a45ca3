"""Each command imports what it uses and no more (issue 21, "Quick to start"): what a fresh
process has imported after a command, not how long it took (benchmarks/startup.py times it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from aggregator.cli import main

ROOT = Path(__file__).parent.parent
# The SQLite database, the parsers and cleaners of the parse workers, the templates.
HEAVY = ("sqlalchemy", "feedparser", "nh3", "ftfy", "jinja2", "babel")
# What the commands that print may import of Babel: its number and date formats, not its
# catalog reader and compiler (the compiled catalog is kept: see aggregator.i18n).
NOT_BABELS_FORMATS = ("babel.messages", "babel.support")
# What a feeds.yaml without WebSub, newsletters or alerts, on SQLite, has no use for: the
# PostgreSQL dialect, mail headers, the WebSub words, the deliveries.
UNUSED_FEATURES = ("sqlalchemy.dialects.postgresql", "email.headerregistry",
                   "aggregator.publish.websub_status", "aggregator.poll.websub_rules",
                   "aggregator.deliver", "apprise")
CONFIG = """\
settings:
  database: test.db
feeds:
- name: Éteint
  url: http://127.0.0.1:9/feed.rss
  enabled: false
"""


def _after(code: str, cwd: Path = ROOT) -> tuple[str, set[str]]:
    """What `code` printed in a fresh process, and the modules it had imported then; its
    compiled catalogs in `cwd`/cache."""
    probe = (f"import json, sys\n{code}\n"
             "print('\\n' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True,
                            text=True, timeout=60, check=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80",
                                 "XDG_CACHE_HOME": str(cwd / "cache")})
    return result.stdout, set(json.loads(result.stderr.splitlines()[-1]))


def _imported(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(f"{p}.") for m in modules))


def _help(*, loaded: bool) -> tuple[str, set[str]]:
    load = "for name in list(main.commands): main.commands[name]\n" if loaded else ""
    return _after("from aggregator.cli import main\n" + load +
                  "main(['--help'], prog_name='aggregator', standalone_mode=False)")


def _listed(help_text: str) -> list[str]:
    """The commands of the help's Commands section (its wrapped lines are indented more)."""
    section = help_text.split("\nCommands:\n")[1].split("\n\n")[0]
    return re.findall(r"^  (\S+)  ", section, re.M)


def test_help_and_version_import_no_store_loader_or_parser() -> None:
    text, modules = _help(loaded=False)
    assert "Settings (under `settings:` in feeds.yaml)" in text
    assert _imported(modules, (*HEAVY, "ruamel", "requests", "rich")) == []
    _, modules = _after("from aggregator.cli import main\n"
                        "main(['--version'], standalone_mode=False)")
    assert _imported(modules, (*HEAVY, "ruamel", "requests", "rich", "aggregator.config")) == []


def test_help_lists_each_command_as_it_would_once_loaded() -> None:
    # Unloaded, a command's line comes from its docstring, read without importing it.
    assert _help(loaded=False)[0] == _help(loaded=True)[0]


def test_every_listed_command_loads_and_shows_its_help() -> None:
    names = _listed(_help(loaded=False)[0])
    assert names == sorted(main.commands) and len(names) >= 13
    for name in names:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: main {name} " in result.output


def test_status_imports_no_parser_template_or_network_code(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(CONFIG, encoding="utf-8")
    command = "from aggregator.cli import main\nmain(['status'], standalone_mode=False)"
    first, modules = _after(command, cwd=tmp_path)
    assert "babel.messages" in modules  # the French catalog, compiled by the first one
    text, modules = _after(command, cwd=tmp_path)
    assert text == first and "Éteint" in text and "désactivé" in text
    # The first one created the database (the Store, SQLAlchemy); this one glances at it
    # with sqlite3 (store/glance.py), the ORM and even SQLAlchemy Core left out.
    assert _imported(modules, ("sqlalchemy",)) == []
    # Its counts and times come from the kept pieces of Babel's data (aggregator/formats.py),
    # its settings from the feeds.yaml checked by the first (aggregator/config/kept.py).
    assert _imported(modules, ("babel", "ruamel")) == []
    assert _imported(modules, (*HEAVY[1:-1], *NOT_BABELS_FORMATS, *UNUSED_FEATURES,
                               "requests", "rich.progress", "http.server")) == []


def test_fetch_with_nothing_due_imports_no_parser_template_or_server(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(CONFIG, encoding="utf-8")
    command = "from aggregator.cli import main\nmain(['fetch'], standalone_mode=False)"
    _after(command, cwd=tmp_path)  # compiles the French catalog
    text, modules = _after(command, cwd=tmp_path)
    assert "Aucun flux n’est à interroger" in text
    # The parse workers alone import the parsers (poll/workers.py); the HTTP session is made
    # once a feed is due.
    assert _imported(modules, (*HEAVY[1:-1], *NOT_BABELS_FORMATS, *UNUSED_FEATURES,
                               "ruamel", "requests", "http.server", "apscheduler")) == []


def test_ctrl_c_while_a_command_loads_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # Most of a command's start-up is its module's imports: a hook lands the signal there.
    code = ("import sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'aggregator.cli.status':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "from aggregator.__main__ import main\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code, "status"], capture_output=True,
                            text=True, timeout=60, check=False, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 130, result.stderr
    assert result.stderr == ""
