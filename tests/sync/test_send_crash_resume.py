"""A 100,000-row bulk send killed with SIGKILL at several points, then resumed, ends with exactly one
terminal outcome per row and the simulator holding every valid profile. (The one slow test.)"""
from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import POLL_SCALE, cli_until, handed_over, run_progress, write_config, write_csv

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


def read_at_least(data_dir: Path, rows: int):
    def check() -> bool:
        progress = run_progress(data_dir)
        return progress is not None and progress[0] >= rows
    return check


def test_killed_sends_resume_to_exactly_one_outcome_per_row(tmp_path):
    source, valid, refused = audience(tmp_path / "audience.csv")
    state_file = tmp_path / "simulator-state.json"
    with simulator_process("--state", str(state_file), job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        common = ["--config", str(config), "--data-dir", str(data), "send", "loyalty-attributes"]
        assert cli_until([*common, str(source)], env, kill_when=handed_over(data, 1)).code == -signal.SIGKILL
        assert cli_until([*common, "--resume", "1"], env, kill_when=handed_over(data, 40_000)).code == -signal.SIGKILL
        assert cli_until([*common, "--resume", "1"], env, kill_when=read_at_least(data, 80_000)).code == -signal.SIGKILL
        assert cli_until([*common, "--resume", "1", "--json"], env).code == 0
        jobs = ["--config", str(config), "--data-dir", str(data), "jobs", "--wait"]
        assert cli_until(jobs, env).code == 0
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
