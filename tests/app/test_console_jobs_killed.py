"""A real console process killed with SIGKILL while it follows bulk jobs (some folded, others still
processing at Attentive), then `jobs --wait`: every result is folded exactly once. Real processes: the
simulator, the CLI's send, the console running headless, the CLI's `jobs --wait`."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

from core_kit import core_session
from history_probe import job_states

from tui.attentive.simulator.process import start_simulator_process
from tui.settings.paths import history_path
from tui.sync.history_schema import ACCEPTED, REJECTED
from tui.sync.job_schedule import SCALE_VARIABLE

ROWS = 5_000   # 20 bulk jobs
KEY = "console-kill-test-key-0001"
TIERS = ("Gold", "Silver", "Bronze")   # the simulator takes only Gold and Silver: a third are rejected in the results
DEADLINE_S = 120
CLI = "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:], operator='alice'))"
CONSOLE = """
import sys
from pathlib import Path
from tui.app.app import ConsoleApp
from tui.app.backend.core import CoreBackend
from tui.app.session import Session
config, data, secrets = map(Path, sys.argv[1:])
session = Session(environment="sandbox", operator="alice", config_dir=config, data_dir=data, secrets_file=secrets)
ConsoleApp(session, CoreBackend(session)).run(headless=True)
"""


def test_a_console_killed_while_following_leaves_nothing_folded_twice(tmp_path):
    source = tmp_path / "audience.csv"
    source.write_text("email,phone,tier,points\n" + "".join(
        f"member{i}@example.com,+1212555{i:04d},{TIERS[i % 3]},{i}\n" for i in range(ROWS)))
    rejected = sum(1 for i in range(ROWS) if TIERS[i % 3] == "Bronze")
    sim = start_simulator_process(["--key", KEY, "--job-delay", "0.5s-8s", "--seed", "3",
                                   "--enum", "Loyalty Tier=Gold,Silver"])
    console = None
    try:
        session = core_session(tmp_path, sim.url, key=KEY)
        config, data, secrets = session.config_dir, session.data_dir, session.secrets_file
        env = {**os.environ, SCALE_VARIABLE: "0.01"}  # a job's first check 0.6 s after submission, then 1.2 s, 2.4 s
        cli = [sys.executable, "-c", CLI, "--config", str(config), "--data-dir", str(data), "--secrets", str(secrets)]
        sent = subprocess.run([*cli, "send", "loyalty-attributes", str(source)], env=env, capture_output=True,
                              text=True, timeout=DEADLINE_S)
        assert sent.returncode == 0, sent.stderr
        assert job_states(data) == {"pending": 20}  # the send ends at submission: nobody follows yet
        console = subprocess.Popen([sys.executable, "-c", CONSOLE, str(config), str(data), str(secrets)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.monotonic() + DEADLINE_S
        while True:  # the event we wait on: the console has folded some jobs, others are still processing
            states = job_states(data)
            if states.get("completed", 0) >= 1 and states.get("pending", 0) >= 1:
                os.kill(console.pid, signal.SIGKILL)
                break
            assert console.poll() is None and time.monotonic() < deadline, (states, console.poll())
            time.sleep(0.005)  # polling the history database
        _, stderr = console.communicate(timeout=DEADLINE_S)
        assert console.returncode == -signal.SIGKILL and "Traceback" not in stderr, stderr
        again = subprocess.run([*cli, "jobs", "--wait", "--json"], env=env, capture_output=True, text=True,
                               timeout=DEADLINE_S)
        assert again.returncode == 1, again.stderr  # every job resolved; the run is above its rejection threshold
        assert json.loads(again.stdout)["pending"] == 0
    finally:
        if console is not None and console.poll() is None:
            console.kill()
        sim.stop()
    with closing(sqlite3.connect(history_path(data))) as db:
        outcomes = dict(db.execute("SELECT outcome, count(*) FROM row_outcomes WHERE run_id = 1 GROUP BY outcome"))
        counts = db.execute("SELECT status, accepted, rejected, submitted, failed, unconfirmed FROM runs "
                            "WHERE id = 1").fetchone()
        logged = db.execute("SELECT count(*), count(DISTINCT row) FROM rejections WHERE run_id = 1").fetchone()
        states = dict(db.execute("SELECT state, count(*) FROM bulk_jobs GROUP BY state"))
    assert states == {"completed": 20}
    assert outcomes == {ACCEPTED: ROWS - rejected, REJECTED: rejected}
    assert counts == ("finished", ROWS - rejected, rejected, 0, 0, 0)
    assert logged == (rejected, rejected)  # one rejection-log entry a rejected row: none doubled
