"""The audit ledger's head, recorded beside the history database (`history.head`).

A history file that was emptied, truncated to nothing, deleted, replaced by an older copy, or that
lost its `-wal` file after a crash looks to SQLite like a fresh or a consistent database: audit
entries and diff state would be gone without a word. The head outside the file notices it: opening
refuses a missing or empty history that once held entries, and one whose ledger ends before the
recorded head; `ledger verify` and `history check` report both.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tui.settings.atomic import atomic_write, locked
from tui.settings.errors import SettingsError

HEAD_FILE = "history.head"


class HistoryDamaged(SettingsError):
    """The history database cannot be used as it is; the message names the file and the fix."""


@dataclass(frozen=True)
class RecordedHead:
    seq: int
    hash: str


def head_path(db_path: Path) -> Path:
    return Path(db_path).with_name(HEAD_FILE)


def read_head(db_path: Path) -> RecordedHead | None:
    path = head_path(db_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RecordedHead(int(data["seq"]), str(data["hash"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HistoryDamaged(f"{path} cannot be read ({exc}); it records the audit ledger's last entry. "
                             "Restore it with the database from a backup, or delete it to accept the "
                             "history as it is") from None


def record_head(db_path: Path, seq: int, entry_hash: str) -> None:
    """After an append: only a newer head replaces the recorded one (two processes appending at
    once may finish in either order)."""
    path = head_path(db_path)
    with locked(path):
        current = read_head(db_path)
        if current is None or seq > current.seq:
            atomic_write(path, json.dumps({"seq": seq, "hash": entry_hash}).encode(), mode=0o600)


def refuse_lost_history(db_path: Path) -> None:
    """Raise when the history is missing or empty although the ledger once held entries."""
    recorded = read_head(db_path)
    if recorded is None or recorded.seq == 0:
        return
    path = Path(db_path)
    size = path.stat().st_size if path.exists() else None
    if size:
        return
    state = "is missing" if size is None else "is empty (0 bytes)"
    raise HistoryDamaged(
        f"{path} {state}, but it held {recorded.seq} audit entries (see {head_path(path).name}); nothing was "
        "changed. Restore it from a backup with every attentive-console process stopped; to start a new "
        f"history on purpose, move {path.name} and {head_path(path).name} aside")


def refuse_rolled_back_history(connection: sqlite3.Connection, db_path: Path) -> None:
    """Raise when the database's ledger ends before the recorded head: commits were lost (a
    deleted `-wal`, an older copy). The head is written after each commit, so a sound history is
    never behind it, whatever other processes are doing."""
    recorded = read_head(db_path)
    if recorded is None or recorded.seq == 0:
        return
    try:
        top = connection.execute("SELECT max(seq) FROM ledger").fetchone()[0] or 0
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        top = 0  # no ledger at all: older than every entry
    if top >= recorded.seq:
        return
    path = Path(db_path)
    raise HistoryDamaged(
        f"{path} ends at audit entry {top}, but {head_path(path).name} recorded entry {recorded.seq}: what was "
        f"committed since is gone (its {path.name}-wal file was deleted or lost, or an older copy was put back); "
        "nothing was changed. Stop every attentive-console process and restore the history from a backup "
        f"(`attentive-console history check` shows what is there); to go on with it as it is, move "
        f"{head_path(path).name} aside")
