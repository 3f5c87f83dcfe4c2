"""Two processes sending on one API key share its budget: one file of send slots per key and
endpoint in the data directory. Each process pacing alone to the limit reached about two thirds of
it together, with 429s (68 of 100 calls/s measured: every exhausted window holds both); sharing,
94 of 100 idle, and 19.8 of 20 here with both cores busy elsewhere."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from contextlib import closing

from cli_kit import cli_process
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import valid_row, write_config, write_csv

from tui.settings.paths import history_path

# The key's bulk limit, lowered from Attentive's 100 so that the senders and the simulator stay
# far from the CPU (the suite's other worker shares the two cores): pacing is measured, not speed.
LIMIT = 20
BATCHES = 60              # per process: three seconds of the limit each, six together
SENDERS = ("loyalty-a", "loyalty-b")  # one destination each


def test_two_sends_on_one_key_use_its_limit_together_without_429s(tmp_path):
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(BATCHES * 256)])
    with simulator_process("--limit", f"bulk={LIMIT}") as sim:
        config = write_config(tmp_path / "config", sim.url, names=SENDERS)
        common = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY}
        sends = [subprocess.Popen([*cli_process(), *common, "send", name, str(source), "--json"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in SENDERS]
        results = [process.communicate(timeout=120) for process in sends]
    for (out, err), process in zip(results, sends):
        assert process.returncode == 0, err
        assert json.loads(out)["submitted"] == BATCHES * 256
    with closing(sqlite3.connect(history_path(tmp_path / "data"))) as db:
        requests, throttled, started, finished = db.execute(
            "SELECT sum(requests), sum(throttled), min(started_at), max(finished_at) FROM runs").fetchone()
    rate = 2 * BATCHES / (finished - started)
    print(f"two sends on one key: {rate:.1f} calls/s together of {LIMIT}; {throttled} of {requests} were 429")
    assert throttled <= requests * 0.01
    # A loose floor, start-up included. Unshared pacers fail the 429 check above; a share that
    # strands slots falls below this.
    assert rate >= 0.85 * LIMIT, rate
