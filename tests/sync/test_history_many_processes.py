"""Many processes, one history: three sends of three destinations, a `jobs --wait` follower and
readers (`runs`, `rejections`, `jobs`, `history check`) all at once on one data directory, as on an
ops host. The file stays sound and every count is exact."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing

from cli_kit import cli_process
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import valid_row, write_config, write_csv

from tui.settings.paths import history_path
from tui.sync.job_schedule import SCALE_VARIABLE

ROWS, BAD = 3_000, 30
DESTINATIONS = ("loyalty-a", "loyalty-b", "loyalty-c")
DEADLINE_S = 240
READER = """
import sys, pathlib
from tui.cli import main
stop = pathlib.Path(sys.argv[1]); args = sys.argv[2:]
commands = [["runs", "--json"], ["rejections", "1", "--json"], ["jobs", "--json"], ["history", "check"]]
rounds = 0
while not stop.exists():
    for command in commands:
        code = main([*args, *command], operator="tester")
        assert code in (0, 1, 2), (command, code)   # 2: run 1 not created yet
    rounds += 1
print(rounds)
"""


def test_three_sends_a_follower_and_readers_share_one_history(tmp_path):
    rows = [valid_row(i) for i in range(ROWS)] + [{**valid_row(9000 + i), "email": f"bad{i}"} for i in range(BAD)]
    source = write_csv(tmp_path / "audience.csv", rows)
    stop = tmp_path / "stop"
    with simulator_process(job_delay="0.1s-1s") as sim:
        try:
            config = write_config(tmp_path / "config", sim.url, names=DESTINATIONS)
            data = tmp_path / "data"
            env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: "0.005"}
            common = ["--config", str(config), "--data-dir", str(data)]
            readers = [subprocess.Popen([sys.executable, "-c", READER, str(stop), *common], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
            sends = [subprocess.Popen([*cli_process(), *common, "send", name, str(source), "--json"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in DESTINATIONS]
            follower = subprocess.Popen([*cli_process(), *common, "jobs", "--wait", "--timeout", "3m"],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            summaries = []
            for process in sends:
                out, err = process.communicate(timeout=DEADLINE_S)
                assert process.returncode == 0 and "Traceback" not in err, err
                summaries.append(json.loads(out))
            follower.wait(timeout=DEADLINE_S)
            final = subprocess.run([*cli_process(), *common, "jobs", "--wait", "--json"], env=env,
                                   capture_output=True, text=True, timeout=DEADLINE_S)
            assert final.returncode == 0, final.stderr
            stop.touch()
            for reader in readers:
                out, err = reader.communicate(timeout=DEADLINE_S)
                assert reader.returncode == 0 and "Traceback" not in err and int(out.splitlines()[-1]) >= 1, err
        finally:
            stop.touch()
    assert sorted(s["destination"] for s in summaries) == sorted(DESTINATIONS)
    with closing(sqlite3.connect(history_path(data))) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        runs = db.execute("SELECT destination, status, rows_read, accepted, invalid, submitted FROM runs "
                          "ORDER BY destination").fetchall()
        outcomes = db.execute("SELECT run_id, count(*) FROM row_outcomes WHERE outcome = 1 GROUP BY run_id").fetchall()
        rejections = db.execute("SELECT run_id, count(*) FROM rejections GROUP BY run_id").fetchall()
        ledger = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    assert runs == [(name, "finished", ROWS + BAD, ROWS, BAD, 0) for name in DESTINATIONS]
    assert sorted(count for _, count in outcomes) == [ROWS] * 3
    assert sorted(count for _, count in rejections) == [BAD] * 3
    assert ledger == 6  # send.started and send.finished of each send
