"""Start-up of the commands a person types most, against the targets of issue 21.

    make bench-startup      (or: .venv/bin/python benchmarks/startup.py --runs 10)

Every command pays the start-up, so a poll where every feed answers 304 is mostly that.
Each command runs --runs times, each time in a fresh process (`python -m aggregator`,
this checkout's code, its bytecode cached as an install's is), and the median wall and
CPU seconds are set against the target:

  --version, --help     nothing opened
  status                the store `aggregator demo --once` leaves (made once, untimed),
                        in French (the demo's settings.language) and in English (a copy
                        of its feeds.yaml that says language: en); and in French with
                        an alert and our WebSub hub configured (feeds-alerts.yaml)
  fetch                 the same store, just polled: no feed is due

Then, for each command, the ten heaviest imports that `python -X importtime` reports
(cumulative time, the module's own time and the module that imported it), from one more
run: those that bring in a package (sqlalchemy, by aggregator.store.admin), not the
package's own modules. The figures are printed as Markdown, for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVIEST = 10
# As installed: this checkout's code, its bytecode cached (the first, untimed run writes
# it), whatever the calling shell says about bytecode.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPATH": str(ROOT)}


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    target: float  # median wall seconds, at most
    expect: str = ""  # in what the command prints, or it measured something else


CASES = (
    Case("--version", ("--version",), 0.2),
    Case("--help", ("--help",), 0.2),
    Case("status, fr", ("--config", "feeds.yaml", "status"), 0.5),
    Case("status, en", ("--config", "feeds-en.yaml", "status"), 0.5),
    Case("status, alerts and WebSub, fr", ("--config", "feeds-alerts.yaml", "status"), 0.5,
         expect="json://127.0.0.1:9/veille"),
    Case("fetch, nothing due, fr", ("--config", "feeds.yaml", "fetch"), 0.5,
         expect="Aucun flux n’est à interroger"),
    Case("fetch, nothing due, en", ("--config", "feeds-en.yaml", "fetch"), 0.5,
         expect="No feed is due"),
)


@dataclass(frozen=True)
class Import:
    name: str
    cumulative_ms: float
    self_ms: float
    parent: str


def run_command(case: Case, directory: Path, *flags: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one `python -m aggregator ARGS` in a fresh process, and its
    standard error; a failure stops the benchmark (a broken command starts fast)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *flags, "-m", "aggregator", *case.args], cwd=directory,
                            capture_output=True, text=True, check=False, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 or case.expect not in result.stdout:
        raise SystemExit(f"aggregator {' '.join(case.args)} did not do what is measured "
                         f"(exit {result.returncode}):\n{result.stdout}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stderr


def family(module: str) -> str:
    """The part of the code a module belongs to: a sub-package of ours, or a distribution."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "aggregator" else parts[0]


def heaviest_imports(report: str, count: int = HEAVIEST) -> list[Import]:
    """The `count` imports of a -X importtime report that took longest, children included,
    among those that enter a family from another (sqlalchemy from aggregator.store, not
    sqlalchemy.orm from sqlalchemy): each one is a decision of some module's imports.

    The report lists a module after the modules it imported, one indent deeper: the
    importer of a line is the next line less indented; none, for a function's import.
    """
    rows = []
    for line in report.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            depth = len(name) - len(name.lstrip())
            rows.append((name.strip(), int(cumulative_us) / 1000, int(self_us) / 1000, depth))
    imports = []
    for index, (name, cumulative, own, depth) in enumerate(rows):
        parent = next((row[0] for row in rows[index + 1:] if row[3] < depth), "(a function)")
        if family(name) != family(parent):
            imports.append(Import(name, cumulative, own, parent))
    return sorted(imports, key=lambda i: i.cumulative_ms, reverse=True)[:count]


def make_store(directory: Path) -> None:
    """A polled demo store in `directory`, from the bundled sample feeds on loopback, and
    beside its feeds.yaml (French) feeds-en.yaml, the same in English, and feeds-alerts.yaml,
    with an alert (Apprise, to a closed port: never sent) and our WebSub hub."""
    subprocess.run([sys.executable, "-m", "aggregator", "demo", "--once", "--dir",
                    str(directory)], check=True, capture_output=True, env=ENV)
    french = (directory / "feeds.yaml").read_text("utf-8")
    if "language: fr" not in french:
        raise SystemExit("the demo's feeds.yaml no longer says language: fr")
    (directory / "feeds-en.yaml").write_text(french.replace("language: fr", "language: en"),
                                             "utf-8")
    alerts = ("alerts:\n- name: veille\n  match:\n  - keyword: communauté\n"
              "  notify:\n  - json://127.0.0.1:9/veille\n")
    (directory / "feeds-alerts.yaml").write_text(
        french.replace("settings:\n", "settings:\n  websub_hub: http://127.0.0.1:9/hub\n", 1)
        + alerts, "utf-8")


def measure(runs: int) -> str:
    """The Markdown report: the medians against their targets, then each command's imports."""
    timings, imports = [], {}
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        directory = Path(folder)
        make_store(directory)
        for case in CASES:
            run_command(case, directory)  # warms the disk cache, writes the bytecode
            samples = [run_command(case, directory) for _ in range(runs)]
            timings.append((case, statistics.median(s[0] for s in samples),
                            statistics.median(s[1] for s in samples)))
            imports[case.name] = heaviest_imports(
                run_command(case, directory, "-X", "importtime")[2])
    lines = [f"{runs} runs each, fresh processes; {os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f} at the end.", "",
             "| command | median s | median CPU s | target s | |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{case.name}` | {wall:.3f} | {cpu:.3f} | {case.target} | "
              f"{'PASS' if wall <= case.target else 'FAIL'} |" for case, wall, cpu in timings]
    for name, heaviest in imports.items():
        lines += ["", f"Heaviest imports of `{name}` (`python -X importtime`, one run):", "",
                  "| module | cumulative ms | self ms | imported by |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {i.name} | {i.cumulative_ms:.1f} | {i.self_ms:.1f} | {i.parent} |"
                  for i in heaviest]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="Runs of each command (10).")
    print(measure(parser.parse_args().runs))


if __name__ == "__main__":
    main()
