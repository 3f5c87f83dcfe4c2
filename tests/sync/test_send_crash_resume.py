"""A 100,000-row bulk send killed with SIGKILL at several points, then resumed, ends with exactly one
terminal outcome per row and the simulator holding every valid profile. (The one slow test.)"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from cli_kit import cli_process
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import POLL_SCALE, run_progress, write_config, write_csv

from tui.attentive.simulator.state import SimulatorState
from tui.settings.paths import history_path
from tui.sync.history_schema import PENDING
from tui.sync.job_schedule import SCALE_VARIABLE

ROWS = 100_000


def audience(path: Path) -> tuple[Path, set[str], int]:
    """Every 97th email is invalid and every 101st row repeats the previous row's email."""
    rows, valid = [], set()
    for i in range(ROWS):
        email = f"crash{i}@example.com"
        if i % 97 == 5:
            email = f"crash{i}@@example.com"
        else:
            if i % 101 == 7:
                email = f"crash{i - 1}@example.com"
            valid.add(email)
        rows.append({"email": email, "phone": f"+1212{i:07d}", "first_name": "", "tier": "Gold", "points": str(i)})
    refused = ROWS - len(valid)  # invalid emails and later duplicates
    return write_csv(path, rows), valid, refused


def send_until(args: list[str], env: dict, data_dir: Path, *, kill_when) -> int | None:
    """Run the CLI; SIGKILL it once kill_when(progress) holds (None: let it finish)."""
    process = subprocess.Popen([*cli_process(), *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    if kill_when is not None:
        while process.poll() is None:
            state = run_progress(data_dir)
            if state is not None and kill_when(state):
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.01)  # polling the history database: the event we wait on
    _, stderr = process.communicate(timeout=600)
    assert "Traceback" not in stderr, stderr
    return process.returncode


def test_killed_sends_resume_to_exactly_one_outcome_per_row(tmp_path):
    source, valid, refused = audience(tmp_path / "audience.csv")
    state_file = tmp_path / "simulator-state.json"
    with simulator_process("--state", str(state_file), job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        common = ["--config", str(config), "--data-dir", str(data), "send", "loyalty-attributes"]
        assert send_until([*common, str(source)], env, data, kill_when=lambda p: p[1] >= 1) == -signal.SIGKILL
        assert send_until([*common, "--resume", "1"], env, data, kill_when=lambda p: p[1] >= 40_000) == -signal.SIGKILL
        assert send_until([*common, "--resume", "1"], env, data, kill_when=lambda p: p[0] >= 80_000) == -signal.SIGKILL
        assert send_until([*common, "--resume", "1", "--json"], env, data, kill_when=None) == 0
        jobs = ["--config", str(config), "--data-dir", str(data), "jobs", "--wait"]
        assert send_until(jobs, env, data, kill_when=None) == 0
    with sqlite3.connect(history_path(data)) as db:
        rows = [r for (r,) in db.execute("SELECT row FROM row_outcomes WHERE run_id = 1 ORDER BY row")]
        pending = db.execute("SELECT count(*) FROM row_outcomes WHERE run_id = 1 AND outcome = ?", (PENDING,)).fetchone()[0]
        doubled = db.execute("SELECT count(*) FROM (SELECT row FROM rejections WHERE run_id = 1 GROUP BY row HAVING count(*) > 1)").fetchone()[0]
        status, accepted, invalid, rows_read = db.execute(
            "SELECT status, accepted, invalid, rows_read FROM runs WHERE id = 1").fetchone()
    assert rows == list(range(2, ROWS + 2))  # row N is line N; line 1 is the header
    assert (pending, doubled) == (0, 0)
    assert (status, accepted, invalid, rows_read) == ("finished", len(valid), refused, ROWS)
    stored = SimulatorState.load(state_file)
    [company] = stored.companies.values()
    missing = [email for email in valid if company.find("email", email) is None]
    assert missing == []
