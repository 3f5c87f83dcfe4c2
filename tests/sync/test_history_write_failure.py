"""A history that cannot be written (the disk is full) stops the send at once: nothing more is
posted unrecorded, the run resumes to exactly one outcome per row, and the CLI says what happened
with its own exit code and its JSON summary. The full disk is SQLite's own SQLITE_FULL, reached by
capping the writer connection's pages (PRAGMA max_page_count)."""
from __future__ import annotations

import json
import sqlite3

import pytest
from sync_kit import loyalty, send, valid_row, write_csv

from tui.sync import history_writer
from tui.sync.history import HistoryStore

ROWS = 20_000
BATCHES = -(-ROWS // 256)


@pytest.fixture
def full_disk(monkeypatch):
    """The send's writer connection may grow the file by a few dozen pages, then SQLITE_FULL."""
    real = history_writer.connect

    def capped(data_dir, **kwargs):
        connection = real(data_dir, **kwargs)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages + 40}")
        return connection

    monkeypatch.setattr(history_writer, "connect", capped)
    return monkeypatch


async def test_a_full_disk_stops_the_send_at_once_and_the_run_resumes(fake_attentive, tmp_path, full_disk):
    data = tmp_path / "data"
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(ROWS)])
    # Paced at 20 posts/s, the file takes 4 s to send: the first flush (0.5 s) finds the disk full.
    stopped = await send(fake_attentive, data, loyalty(), source, follow=False, rate=20)
    assert stopped.stop is not None and stopped.stop.reason == "history"
    assert str(data) in stopped.stop.message and "full" in stopped.stop.message
    assert fake_attentive.posts < BATCHES // 2  # what was in flight, not the rest of the file
    with HistoryStore(data, readonly=True) as store:
        run = store.get_run(stopped.run.id)
        assert run is not None and run.status in ("failed", "running")  # resumable either way
    full_disk.undo()  # space freed
    resumed = await send(fake_attentive, data, loyalty(), None, resume_run_id=stopped.run.id)
    assert (resumed.run.status, resumed.run.accepted) == ("finished", ROWS)
    with HistoryStore(data, readonly=True) as store:
        counts = store.outcome_counts(stopped.run.id)
    assert (counts["accepted"], counts["pending"], sum(counts.values())) == (ROWS, 0, ROWS)


def test_the_cli_exits_5_with_its_summary_and_the_fix(tmp_path, sim_process, cli_for, full_disk):
    cli = cli_for(sim_process.url)
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(ROWS)])
    code, out, err = cli("send", "loyalty-attributes", str(source), "--json")
    summary = json.loads(out)
    assert code == 5 and summary["exit_code"] == 5 and summary["run_id"] == 1
    assert str(cli.data) in err and "--resume 1" in err
    with sqlite3.connect(cli.data / "history.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
