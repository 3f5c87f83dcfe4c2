"""The audit ledger's head, recorded beside the history database (`history.head`).

A history file that was emptied, truncated to nothing, deleted, or replaced by an older copy looks
to SQLite like a fresh or a consistent database: audit entries and diff state would be gone without
a word. The head outside the file notices it: opening refuses a missing or empty history that once
held entries, and `ledger verify` and `history check` compare the chain with the recorded head.
"""
from __future__ import annotations

import json
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
