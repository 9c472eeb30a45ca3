"""One clock: the log lines, `status` and `prune` tell time in the configured zone and name
it; the JSON log stays in UTC for the machines that read it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from aggregator.cli import main
from aggregator.publish.status import zone_name
from tests.conftest import write_config

ROOT = Path(__file__).parent.parent
# Half an hour off the hour and never on summer time: its offset is told apart from UTC's.
KOLKATA = "Asia/Kolkata"


def test_a_zone_is_named_with_its_offset_at_the_moment() -> None:
    winter, summer = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)
    assert zone_name(ZoneInfo("Europe/Paris"), winter) == "Europe/Paris (UTC+01:00)"
    assert zone_name(ZoneInfo("Europe/Paris"), summer) == "Europe/Paris (UTC+02:00)"
    assert zone_name(ZoneInfo("America/St_Johns"), winter) == "America/St_Johns (UTC-03:30)"
    assert zone_name(ZoneInfo("UTC"), summer) == "UTC (UTC+00:00)"


def _log(config: Path, *options: str) -> list[str]:
    """The log lines (stderr) of `fetch --force` run with --verbose, in a process of its own:
    logging is set up once a process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config),
                           "--verbose", *options, "fetch", "--force"], env=env,
                          cwd=config.parent, capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert lines, done
    return lines


def test_text_log_lines_are_in_the_configured_zone_with_its_offset(
        tmp_path: Path, refused_url: str) -> None:
    config = write_config(tmp_path, [{"name": "A", "url": refused_url}], timezone=KOLKATA)
    before = datetime.now(UTC).replace(microsecond=0)
    lines = _log(config)
    for line in lines:
        match = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+05:30) [A-Z]+ \S+: ", line)
        assert match, line
        moment = datetime.fromisoformat(match[1])
        assert before <= moment <= datetime.now(UTC), line


def test_json_log_lines_stay_in_utc(tmp_path: Path, refused_url: str) -> None:
    config = write_config(tmp_path, [{"name": "A", "url": refused_url}], timezone=KOLKATA)
    for line in _log(config, "--log-format", "json"):
        assert json.loads(line)["time"].endswith("+00:00"), line


def test_status_names_the_zone_of_its_times_once(tmp_path: Path, refused_url: str) -> None:
    config = write_config(tmp_path, [{"name": "A", "url": refused_url}], timezone=KOLKATA,
                          language="en")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "fetch"]).exit_code == 0
    result = runner.invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert result.output.count("Asia/Kolkata (UTC+05:30)") == 1
    assert result.output.splitlines()[1] == "times in Asia/Kolkata (UTC+05:30)"
    # The failure a moment ago and the next try within hours: 5 h 30 from UTC's times.
    now = datetime.now(ZoneInfo(KOLKATA)).replace(tzinfo=None)
    shown = [datetime.strptime(t, "%b %d, %Y %H:%M")
             for t in re.findall(r"[A-Z][a-z]{2} \d\d?, \d{4} \d\d:\d\d", result.output)]
    assert shown and all(now - timedelta(minutes=5) <= t <= now + timedelta(hours=3)
                         for t in shown), result.output


def test_prune_names_the_zone_of_its_cut(tmp_path: Path) -> None:
    config = write_config(tmp_path, [], timezone=KOLKATA, retention="30d", language="en")
    result = CliRunner().invoke(main, ["--config", str(config), "prune", "--dry-run"])
    assert result.exit_code == 0, result.output
    cut = datetime.now(ZoneInfo(KOLKATA)) - timedelta(days=30)
    assert (f"Would remove 0 entries filed before {cut:%b} {cut.day}, {cut:%Y %H:%M}, "
            "Asia/Kolkata (UTC+05:30)") in result.output
