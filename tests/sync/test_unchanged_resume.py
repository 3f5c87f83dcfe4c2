"""An unchanged re-send killed with SIGKILL, then resumed: the rows skipped unbuilt before the kill were
recorded without their identifier keys (planner.py), so the resumed process gives them back their keys
before it plans a later row. A later row of the same identifier is then still a duplicate, whether it is
the same line, a changed one or a case-variant, and none of them is sent."""
from __future__ import annotations

import os
import signal
import sqlite3

from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import POLL_SCALE, cli_until, run_progress, valid_row, write_config, write_csv

from tui.settings.paths import history_path
from tui.sync import reasons
from tui.sync.job_schedule import SCALE_VARIABLE

# The kill comes after the first flush (at least 50,000 rows, most of them skipped unbuilt). The changed
# rows after the unchanged ones are built and sent, seconds of work: the kill lands before the end
# however fast the unchanged rows go.
ROWS, CHANGED = 60_000, 40_000


def test_a_resumed_unchanged_send_still_finds_the_duplicates_of_rows_skipped_before_the_kill(tmp_path):
    rows = [valid_row(i) for i in range(ROWS + CHANGED)]
    first = write_csv(tmp_path / "first.csv", rows)
    again = write_csv(tmp_path / "again.csv", [*rows[:ROWS], *({**row, "points": "5"} for row in rows[ROWS:]),
                                                rows[1], {**rows[2], "points": "5"},
                                                {**rows[3], "email": rows[3]["email"].upper()}])
    total = ROWS + CHANGED + 3
    with simulator_process(job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        common = ["--config", str(config), "--data-dir", str(data)]
        send = [*common, "send", "loyalty-attributes"]
        assert cli_until([*send, str(first)], env).code == 0
        assert cli_until([*common, "jobs", "--wait"], env).code == 0

        def read_some() -> bool:
            progress = run_progress(data, run_id=2)
            return progress is not None and progress[0] > 0

        assert cli_until([*send, str(again)], env, kill_when=read_some).code == -signal.SIGKILL
        with sqlite3.connect(history_path(data)) as db:
            status, read = db.execute("SELECT status, rows_read FROM runs WHERE id = 2").fetchone()
        assert status == "running" and 0 < read < total  # killed mid-file, not after it
        assert cli_until([*send, "--resume", "2"], env).code == 0
    with sqlite3.connect(history_path(data)) as db:
        counts = db.execute("SELECT status, rows_read, skipped_unchanged, invalid, accepted + submitted FROM runs "
                            "WHERE id = 2").fetchone()
        outcomes = [row for (row,) in db.execute("SELECT row FROM row_outcomes WHERE run_id = 2 ORDER BY row")]
        duplicates = {row for (row,) in db.execute("SELECT row FROM rejections WHERE run_id = 2 AND reason = ?",
                                                   (reasons.DUPLICATE_IDENTIFIER,))}
        keyed = db.execute("SELECT count(key) FROM row_outcomes WHERE run_id = 2 AND row < ?", (ROWS + 2,)).fetchone()[0]
    assert counts == ("awaiting_results", total, ROWS, 3, CHANGED)  # the duplicates are neither sent nor skipped
    assert outcomes == list(range(2, total + 2))  # one outcome a row (the header is row 1)
    assert duplicates == {ROWS + CHANGED + 2, ROWS + CHANGED + 3, ROWS + CHANGED + 4}
    assert keyed > 0  # the unchanged rows done before the kill got their keys back
