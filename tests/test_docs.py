"""docs/deploy.md, docs/aggregator.service and the README stay true to the program.

Every `aggregator …` command line quoted in the guide or in the unit's ExecStart
must parse with the real click CLI; the unit must give the daemon more than its
shutdown grace; where the tools are installed, systemd-analyze, nginx and
Caddy must accept the files as written; the README documents every setting with
its default.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from aggregator.cli import main
from aggregator.config.schema import with_settings_table
from aggregator.config.settings import SettingHelp, settings_help
from aggregator.poll.schedule import SHUTDOWN_GRACE

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
GUIDE = DOCS / "deploy.md"
UNIT = DOCS / "aggregator.service"

# `aggregator` or `/…/bin/aggregator` as a command: followed by an option or a word,
# not inside a path (/var/lib/aggregator/…), a user name (User=aggregator) or a file
# name (aggregator.service). The arguments run to the end of the shell command; they
# are looked ahead at, so `aggregator fetch && aggregator render` gives two.
INVOCATION = re.compile(r"(?<![\w./=:-])(?:/[\w./-]*/bin/)?aggregator(?=([ \t]+[-a-z][^\n]*))")
SHELL_END = re.compile(r"&&|\|\||[|;'\"`<>()]")


def code_of(markdown: str) -> list[str]:
    """The text of fenced blocks and inline code spans, comments and continuations removed."""
    block = r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```"  # fences may be indented in a list item
    fenced = re.findall(block, markdown, re.M | re.S)
    prose = re.sub(block, "", markdown, flags=re.M | re.S)
    pieces = fenced + re.findall(r"`([^`\n]+)`", prose)
    return [re.sub(r"(^|\s)#.*", "", piece.replace("\\\n", " ")) for piece in pieces]


def invocations(texts: list[str]) -> list[list[str]]:
    """The argument lists of the `aggregator` command lines in `texts`."""
    found = []
    for text in texts:
        for match in INVOCATION.finditer(text):
            found.append(SHELL_END.split(match.group(1), maxsplit=1)[0].split())
    return found


def _option(command: click.Command, name: str) -> click.Parameter | None:
    return next((p for p in command.params
                 if name in getattr(p, "opts", ()) or name in getattr(p, "secondary_opts", ())),
                None)


def parse_problems(args: list[str]) -> list[str]:
    """What the click CLI would reject in `aggregator ARGS`: commands, options, choices."""
    command: click.Command = main
    words = iter(args)
    problems = []
    for word in words:
        if word.startswith("-"):
            name, _, value = word.partition("=")
            option = _option(command, name)
            if option is None:
                problems.append(f"`{command.name}` has no option {name}")
                continue
            if isinstance(option, click.Option) and (option.is_flag or option.count):
                continue
            value = value or next(words, "")
            if isinstance(option.type, click.Choice) and value not in option.type.choices:
                problems.append(f"{name} {value!r} is not one of {list(option.type.choices)}")
        elif isinstance(command, click.Group):
            subcommand = command.commands.get(word)
            if subcommand is None:
                problems.append(f"`{command.name}` has no command {word!r}")
                break
            command = subcommand
    if isinstance(command, click.Group) and command is not main:
        problems.append(f"`{command.name}` needs a subcommand")
    return problems


def unit_value(key: str) -> str:
    """The value of `Key=` in the unit (the last one, as systemd reads it)."""
    values = re.findall(rf"^{key}=(.*)$", UNIT.read_text(encoding="utf-8"), re.M)
    assert values, f"{UNIT.name} sets no {key}="
    return values[-1].strip()


def seconds(value: str) -> float:
    """A systemd time span such as `45s`, `1min 30s` or `90`, in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value))


def test_the_checker_catches_mistakes() -> None:
    assert parse_problems(["--config", "/etc/feeds.yaml", "-q", "fetch", "--force"]) == []
    assert parse_problems(["--log-format", "yaml", "run"]) == [
        "--log-format 'yaml' is not one of ['text', 'json']"]
    assert parse_problems(["fecth"]) == ["`main` has no command 'fecth'"]
    assert parse_problems(["run", "--bind", "x"]) == ["`run` has no option --bind"]
    assert parse_problems(["feeds"]) == ["`feeds` needs a subcommand"]
    assert invocations(["sudo -u aggregator /opt/a/bin/aggregator --config f.yaml status",
                        "useradd --system aggregator", "/var/lib/aggregator/public",
                        "sh -c 'aggregator -q fetch && aggregator -q render' >>cron.log"]) == [
        ["--config", "f.yaml", "status"], ["-q", "fetch"], ["-q", "render"]]


def test_every_command_the_guide_quotes_exists() -> None:
    found = invocations(code_of(GUIDE.read_text(encoding="utf-8")))
    assert len(found) >= 15, found  # the guide quotes many; a broken pattern finds none
    quoted = {" ".join(args) for args in found}
    problems = {line: parse_problems(line.split()) for line in sorted(quoted)}
    assert {line: p for line, p in problems.items() if p} == {}
    # The recipes the guide promises are there.
    subcommands = {args[next(i for i, a in enumerate(args) if a in main.commands)]
                   for args in found if any(a in main.commands for a in args)}
    assert {"run", "fetch", "render", "export", "import", "prune", "vacuum",
            "status"} <= subcommands


def test_the_unit_runs_the_daemon_and_lets_it_finish() -> None:
    command = unit_value("ExecStart").split()
    assert command[0].startswith("/") and command[0].endswith("/bin/aggregator")
    assert parse_problems(command[1:]) == []
    assert "run" in command
    assert unit_value("KillSignal") == "SIGTERM"
    # The parse workers must not get the SIGTERM meant for the daemon.
    assert unit_value("KillMode") == "mixed"
    assert seconds(unit_value("TimeoutStopSec")) > SHUTDOWN_GRACE
    assert unit_value("Restart") == "on-failure"
    # The database and the output folder must stay writable under ProtectSystem=strict.
    assert unit_value("ProtectSystem") == "strict"
    assert unit_value("ReadWritePaths") == unit_value("WorkingDirectory")


SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify insists that ExecStart's binary exists: point it at this checkout's.
    installed = Path(sys.executable).with_name("aggregator")
    binary = installed if installed.exists() else Path(sys.executable)
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={binary}", UNIT.read_text(encoding="utf-8"),
                  flags=re.M)
    unit = tmp_path / UNIT.name
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)],
                            capture_output=True, text=True, timeout=60)
    # verify exits 0 even on unknown keys and bad values; it only warns.
    warnings = [line for line in (result.stdout + result.stderr).splitlines()
                if UNIT.name in line]
    assert result.returncode == 0 and warnings == [], result.stdout + result.stderr


def fenced(language: str) -> str:
    """The guide's one fenced block in `language`."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"),
                        re.M | re.S)
    assert len(blocks) == 1, f"expected one ```{language} block in {GUIDE.name}"
    return str(blocks[0])


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed")
def test_nginx_accepts_the_server_block(tmp_path: Path) -> None:
    (tmp_path / "aggregator.conf").write_text(fenced("nginx"), encoding="utf-8")
    mime = Path("/etc/nginx/mime.types")
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n{f'include {mime};' if mime.exists() else ''}\n"
        f"include {tmp_path}/aggregator.conf;\n}}\n", encoding="utf-8")
    result = subprocess.run(["nginx", "-t", "-q", "-c", str(config), "-p", str(tmp_path),
                             "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy not installed")
def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(fenced("caddy"), encoding="utf-8")
    # Its certificate storage goes under HOME: keep it in the test's folder.
    environment = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
                   "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["caddy", "validate", "--config", str(caddyfile),
                             "--adapter", "caddyfile"], capture_output=True, text=True,
                            timeout=60, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_the_scaling_guide_quotes_exists() -> None:
    found = invocations(code_of((DOCS / "scaling.md").read_text(encoding="utf-8")))
    assert len(found) >= 6, found
    problems = {" ".join(args): parse_problems(args) for args in found}
    assert {line: p for line, p in problems.items() if p} == {}


# --- the README's settings table ---------------------------------------------------------

REGENERATE = "regenerate it with `python -m aggregator.config.schema --readme README.md`"


def documented_settings() -> dict[str, str | None]:
    """The README table's settings and their defaults as shown (None for a dash)."""
    rows = re.findall(r"^\| `(\w+)` \| (?:`([^`]*)`|—) \|", README.read_text("utf-8"), re.M)
    return {name: default or None for name, default in rows}


@pytest.mark.parametrize("setting", settings_help(), ids=lambda setting: setting.name)
def test_settings_are_documented(setting: SettingHelp) -> None:
    documented = documented_settings()
    assert setting.name in documented, f"README.md lacks settings.{setting.name}: {REGENERATE}"
    assert documented[setting.name] == setting.default, (
        f"README.md gives settings.{setting.name} another default: {REGENERATE}")


def test_the_readme_settings_table_is_the_generated_one() -> None:
    text = README.read_text("utf-8")
    assert with_settings_table(text) == text, f"README.md's settings table is stale: {REGENERATE}"
