"""`jobs --wait` killed with SIGKILL while some jobs are folded and others still processing, then run
again: every result is folded exactly once (real processes, a real simulator whose jobs take up to
seconds, the follower's schedule scaled down to match)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing

from cli_kit import cli_process
from history_probe import job_states
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import valid_row, write_config, write_csv

from tui.settings.paths import history_path
from tui.sync.history_schema import ACCEPTED
from tui.sync.job_schedule import SCALE_VARIABLE

ROWS = 5_000   # 20 bulk jobs
DEADLINE_S = 120


def test_a_killed_jobs_wait_leaves_nothing_folded_twice(tmp_path):
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(ROWS)])
    with simulator_process("--seed", "3", job_delay="0.1s-4s") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: "0.01"}  # first check after 0.6 s, then 1.2 s
        common = [*cli_process(), "--config", str(config), "--data-dir", str(data)]
        sent = subprocess.run([*common, "send", "loyalty-attributes", str(source)], env=env, capture_output=True,
                              text=True, timeout=DEADLINE_S)
        assert sent.returncode == 0, sent.stderr
        follower = subprocess.Popen([*common, "jobs", "--wait"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + DEADLINE_S
        while True:  # the event we wait on: some jobs folded, others not yet
            states = job_states(data)
            if states.get("completed", 0) >= 1 and states.get("pending", 0) >= 1:
                os.kill(follower.pid, signal.SIGKILL)
                break
            assert follower.poll() is None and time.monotonic() < deadline, (states, follower.poll())
            time.sleep(0.005)
        follower.communicate(timeout=DEADLINE_S)
        again = subprocess.run([*common, "jobs", "--wait", "--json"], env=env, capture_output=True, text=True,
                               timeout=DEADLINE_S)
        assert again.returncode == 0, again.stderr
    with closing(sqlite3.connect(history_path(data))) as db:
        accepted_rows = db.execute("SELECT count(*) FROM row_outcomes WHERE run_id = 1 AND outcome = ?",
                                   (ACCEPTED,)).fetchone()[0]
        counts = db.execute("SELECT status, accepted, submitted, rejected, failed FROM runs WHERE id = 1").fetchone()
        rejections = db.execute("SELECT count(*) FROM rejections").fetchone()[0]
        states = dict(db.execute("SELECT state, count(*) FROM bulk_jobs GROUP BY state"))
    assert states == {"completed": 20}
    assert (accepted_rows, rejections) == (ROWS, 0)
    assert counts == ("finished", ROWS, 0, 0, 0)
