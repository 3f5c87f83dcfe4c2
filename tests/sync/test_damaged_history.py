"""A history that is truncated, garbled, emptied, deleted or left without its -wal: every command
that meets it refuses with the file named and the fix, never a traceback and never a silent fresh
start; `history check` says what is wrong. Real sends through the CLI, a real SQLite file."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from sync_kit import valid_row, write_csv

from tui.settings.paths import history_path

COMMANDS = (("runs",), ("rejections", "1"), ("verify", "1"), ("ledger", "verify"), ("jobs",), ("history", "check"))


@pytest.fixture
def sent(tmp_path, sim_process, cli_for):
    cli = cli_for(sim_process.url)
    rows = [valid_row(i) for i in range(300)] + [{**valid_row(900), "email": "broken"}]
    assert cli("send", "loyalty-attributes", str(write_csv(tmp_path / "a.csv", rows)), "--wait")[0] == 0
    assert cli("history", "check")[0] == 0
    return cli


def damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif how == "garbled":
        path.write_bytes(data[:100] + os.urandom(4096) + data[4196:])
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "deleted":
        path.unlink()


@pytest.mark.parametrize("how", ["truncated", "garbled", "emptied", "deleted"])
def test_every_command_refuses_a_damaged_history_with_the_file_and_the_fix(sent, how):
    path = history_path(sent.data)
    with open(path, "rb+"):  # the tests' WAL is checkpointed into the file by the last close
        pass
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    damage(path, how)
    for command in COMMANDS:
        code, out, err = sent(*command)  # the Cli helper asserts there is no traceback
        assert code in (1, 2), (command, code, out, err)
        assert str(path) in out + err, (command, out, err)
    if how in ("emptied", "deleted"):  # never taken for a fresh history: sending is refused too
        code, _, err = sent("send", "loyalty-attributes", "/nonexistent.csv")
        assert code == 2 and "held" in err and "audit entries" in err
        assert not path.exists() or path.stat().st_size == 0


def test_history_check_names_a_ledger_that_lost_its_last_entries(sent):
    with sqlite3.connect(history_path(sent.data)) as db:  # as someone with the file would: guards dropped
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger'"):
            db.execute(f'DROP TRIGGER "{trigger}"')
        db.execute("DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger)")
    code, out, _ = sent("history", "check", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"] and "missing" in report["problems"][0] and report["fix"]
    assert sent("ledger", "verify")[0] == 1


KILLED_AFTER_COMMITS = """
import os, signal, sys
from pathlib import Path
from tui.settings.ledger import Ledger
from tui.sync.history import HistoryStore
from tui.settings.paths import history_path
data = Path(sys.argv[1])
store = HistoryStore(data).__enter__()  # held open, so the ledger's close does not checkpoint the WAL
Ledger(history_path(data)).append("send.started", operator="tester", subject="loyalty-attributes",
                                  environment="sandbox", details={})
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_history_that_lost_its_wal_after_a_kill_is_refused_not_taken_as_it_is(sent):
    path = history_path(sent.data)
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMITS, str(sent.data)], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0  # the entry was committed to the WAL only
    wal.unlink()
    path.with_name(path.name + "-shm").unlink()
    for command in (("runs",), ("rejections", "1"), ("jobs",), ("send", "loyalty-attributes", "/nonexistent.csv")):
        code, _, err = sent(*command)
        assert code == 2 and str(path) in err and "history.head recorded entry" in err and "-wal" in err, (command, err)
    for command in (("history", "check"), ("ledger", "verify")):
        code, out, err = sent(*command)
        assert code == 1 and str(path) in out + err, (command, out, err)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:  # nothing chained on past the loss
        assert db.execute("SELECT max(seq) FROM ledger").fetchone()[0] == 2
