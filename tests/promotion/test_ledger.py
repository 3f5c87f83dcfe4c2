"""The audit ledger: chain, secrets guard, tamper detection, serialised appends, and its CLI."""
from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_kit import Cli, CliOn

from tui.attentive.secret import ApiKey
from tui.settings.history_head import HistoryDamaged, head_path
from tui.settings.ledger import GENESIS, Action, Ledger, LedgerError, key_fingerprint
from tui.settings.paths import history_path
from tui.sync import history_schema

CANARY = ApiKey("canary-key-0123456789abcdef")


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "history.sqlite3")
    ledger.append(Action.CREDENTIAL_ADDED, operator="alice", environment="sandbox", subject="attentive-sandbox",
                  details={"key": CANARY.masked(), "fingerprint": key_fingerprint(CANARY)}, secrets=[CANARY])
    ledger.append(Action.DESTINATION_ADDED, operator="alice", environment="sandbox", subject="loyalty")
    ledger.append(Action.SEND_STARTED, operator="bob", environment="sandbox", subject="loyalty", details={"run_id": 1})
    ledger.append(Action.SEND_FINISHED, operator="bob", environment="sandbox", subject="loyalty",
                  details={"run_id": 1, "accepted": 9, "rejected": 1})
    return ledger


def tamper(db: Path, *statements: str) -> None:
    """What someone with a sqlite3 shell can do: drop the append-only triggers, then edit."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER ledger_no_update")
        conn.execute("DROP TRIGGER ledger_no_delete")
        for statement in statements:
            conn.execute(statement)


def test_entries_chain_onto_each_other(ledger: Ledger):
    entries = ledger.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:]))
    assert entries[3].details == {"run_id": 1, "accepted": 9, "rejected": 1}
    assert entries[3].at.endswith("+00:00")
    result = ledger.verify()
    assert result.ok and result.checked == 4 and result.head_seq == 4 and result.head_hash == entries[3].hash


def test_filters_by_action_prefix_subject_and_limit(ledger: Ledger):
    assert [e.action for e in ledger.entries(action="send")] == ["send.started", "send.finished"]
    assert [e.seq for e in ledger.entries(subject="attentive-sandbox")] == [1]
    assert [e.seq for e in ledger.entries(limit=2)] == [3, 4]


def test_database_is_created_private(tmp_path: Path):
    db = tmp_path / "data" / "history.sqlite3"
    Ledger(db).append(Action.PII_REVEALED, operator="alice", subject="run 3")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize("details", [
    {"key": CANARY},
    {"nested": [{"api_key": CANARY.value}]},
    {"token": "plain-token"},
    {"note": f"rotated from {CANARY.value}"},
])
def test_secrets_are_refused_and_nothing_is_written(ledger: Ledger, details: dict):
    with pytest.raises(LedgerError) as raised:
        ledger.append(Action.CREDENTIAL_ROTATED, operator="alice", environment="sandbox",
                      subject="attentive-sandbox", details=details, secrets=[CANARY])
    assert CANARY.value not in str(raised.value)
    assert len(ledger.entries()) == 4


def test_unknown_action_and_non_json_details_are_refused(ledger: Ledger):
    with pytest.raises(LedgerError, match="unknown ledger action 'credential.stolen'"):
        ledger.append("credential.stolen", operator="alice", subject="x")
    with pytest.raises(LedgerError, match="plain JSON"):
        ledger.append(Action.PROMOTION, operator="alice", subject="x", details={"when": object()})
    assert len(ledger.entries()) == 4


def test_triggers_refuse_update_and_delete(ledger: Ledger):
    with sqlite3.connect(ledger.db_path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE ledger SET operator = 'mallory' WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM ledger WHERE seq = 2")


def test_edited_row_is_named(ledger: Ledger):
    tamper(ledger.db_path, "UPDATE ledger SET details = '{\"accepted\":10,\"rejected\":0,\"run_id\":1}' WHERE seq = 4")
    broken = ledger.verify().broken
    assert broken.seq == 4 and "edited" in broken.reason


def test_edited_operator_is_named(ledger: Ledger):
    tamper(ledger.db_path, "UPDATE ledger SET operator = 'mallory' WHERE seq = 2")
    assert ledger.verify().broken.seq == 2


def test_deleted_row_is_named(ledger: Ledger):
    tamper(ledger.db_path, "DELETE FROM ledger WHERE seq = 2")
    result = ledger.verify()
    assert result.broken.seq == 3 and "entry 2 is missing" in result.broken.reason
    assert result.checked == 1


def test_deleted_row_with_renumbered_sequence_is_named(ledger: Ledger):
    tamper(ledger.db_path, "DELETE FROM ledger WHERE seq = 2", "UPDATE ledger SET seq = seq - 1 WHERE seq > 2")
    broken = ledger.verify().broken
    assert broken.seq == 2 and "does not link to entry 1" in broken.reason


def test_reordered_rows_are_named(ledger: Ledger):
    tamper(ledger.db_path,
           "UPDATE ledger SET seq = 100 WHERE seq = 2",
           "UPDATE ledger SET seq = 2 WHERE seq = 3",
           "UPDATE ledger SET seq = 3 WHERE seq = 100")
    broken = ledger.verify().broken
    assert broken.seq == 2 and "does not link" in broken.reason


def test_truncated_end_is_caught_against_the_head_recorded_beside_the_file(ledger: Ledger):
    head = ledger.verify()
    tamper(ledger.db_path, "DELETE FROM ledger WHERE seq = 4")
    # Nothing inside the file can tell: the head recorded in history.head at each append does.
    broken = ledger.verify().broken
    assert broken.seq is None and "entry 4 is missing" in broken.reason
    head_path(ledger.db_path).unlink()  # without it, only a head the operator kept catches it
    assert ledger.verify().ok
    broken = ledger.verify(expect_head=(head.head_seq, head.head_hash)).broken
    assert broken.seq is None and "entry 4 is missing" in broken.reason


def test_chain_rewritten_from_scratch_is_caught_against_a_recorded_head(tmp_path: Path, ledger: Ledger):
    head = ledger.verify()
    ledger.db_path.unlink()
    with pytest.raises(HistoryDamaged, match="held 4 audit entries"):  # a deleted history is noticed
        Ledger(ledger.db_path).append(Action.PII_REVEALED, operator="mallory", subject="nothing to see")
    head_path(ledger.db_path).unlink()  # a forger who knows to delete the recorded head too
    forged = Ledger(ledger.db_path)
    for _ in range(4):
        forged.append(Action.PII_REVEALED, operator="mallory", subject="nothing to see")
    assert forged.verify().ok
    broken = forged.verify(expect_head=(head.head_seq, head.head_hash)).broken
    assert broken.seq == 4 and "rewritten" in broken.reason


APPENDER = """
import sys
from tui.settings.ledger import Action, Ledger
ledger = Ledger(sys.argv[1])
for i in range(40):
    ledger.append(Action.SEND_STARTED, operator=sys.argv[2], subject=f"run {i}")
"""


def test_appends_from_two_processes_do_not_fork_the_chain(tmp_path: Path):
    db = tmp_path / "history.sqlite3"
    Ledger(db).append(Action.DESTINATION_ADDED, operator="alice", subject="loyalty")
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(db), name]) for name in ("p1", "p2")]
    assert [w.wait() for w in writers] == [0, 0]
    ledger = Ledger(db)
    result = ledger.verify()
    assert result.ok and result.checked == 81
    assert {e.operator for e in ledger.entries()} == {"alice", "p1", "p2"}


# --- CLI -----------------------------------------------------------------------------------------

@pytest.fixture
def cli(tmp_path: Path, cli_on: CliOn) -> Cli:
    return cli_on(tmp_path / "config", data=tmp_path)


@pytest.fixture
def cli_ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(history_path(tmp_path))
    ledger.append(Action.DESTINATION_ADDED, operator="alice", environment="sandbox", subject="loyalty")
    ledger.append(Action.PROMOTION, operator="alice", environment="production", subject="loyalty",
                  details={"diff_sha256": "ab" * 32})
    return ledger


def test_cli_lists_entries(cli: Cli, cli_ledger: Ledger):
    code, out, _ = cli("ledger")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert "destination.added" in lines[0] and "loyalty" in lines[0] and "alice" in lines[0]
    assert "promotion" in lines[1] and "production" in lines[1]


def test_cli_lists_json(cli: Cli, cli_ledger: Ledger):
    code, out, _ = cli("ledger", "--json", "--action", "promotion")
    entries = json.loads(out)
    assert code == 0 and [e["action"] for e in entries] == ["promotion"]
    assert entries[0]["details"] == {"diff_sha256": "ab" * 32}


def test_cli_verify_ok_prints_head(cli: Cli, cli_ledger: Ledger):
    code, out, _ = cli("ledger", "verify")
    head = cli_ledger.verify()
    assert code == 0 and "2 entries" in out and f"{head.head_seq}:{head.head_hash}" in out
    assert cli("ledger", "verify", "--expect-head", f"2:{head.head_hash}").code == 0


def test_cli_verify_names_the_tampered_entry(cli: Cli, cli_ledger: Ledger):
    tamper(cli_ledger.db_path, "UPDATE ledger SET subject = 'other' WHERE seq = 1")
    code, out, _ = cli("ledger", "verify")
    assert code == 1 and "BROKEN at entry 1" in out
    code, out, _ = cli("ledger", "--json", "verify")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["broken"]["seq"] == 1


def test_cli_verify_without_a_database_says_so(cli: Cli):
    code, _, err = cli("ledger", "verify")
    assert code == 2 and "no history database" in err


def test_cli_rejects_a_malformed_head(cli: Cli, cli_ledger: Ledger, capsys):
    with pytest.raises(SystemExit) as raised:
        cli("ledger", "verify", "--expect-head", "nonsense")
    assert raised.value.code == 2
    assert "SEQ:HASH" in capsys.readouterr().err


def test_reading_never_creates_the_ledger(tmp_path: Path, cli: Cli):
    history_schema.connect(tmp_path).close()  # a history database from before any audited action
    code, out, _ = cli("ledger", read_only=True)
    assert code == 0 and "the audit ledger is empty" in out
    with sqlite3.connect(history_path(tmp_path)) as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ledger'").fetchone() is None
