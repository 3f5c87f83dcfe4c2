"""The audit ledger: append-only, hash-chained entries in the history database.

Each entry stores the sha256 of the entry before it and its own hash over its canonical form, so an
edited, deleted or reordered row breaks the chain at a point `verify()` can name. SQLite triggers
refuse UPDATE and DELETE so no code path changes history by accident; someone with the file and a
sqlite3 shell can still drop them, which is what the chain is for. Truncating the newest entries or
rewriting the whole chain is only visible against a head recorded elsewhere (`verify(expect_head=)`).

A promotion writes two entries around production.toml's write: `promotion.pending` before (the file's
hash before and after, and its path), `promotion` once written. `verify()` reports a pending entry
nothing closed, saying from the file's hash whether the write happened; `promote` closes it.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.attentive.pacing import key_fingerprint as pacing_fingerprint
from tui.attentive.secret import ApiKey, mask
from tui.settings.atomic import LockError, create_private_file
from tui.settings.errors import SettingsError
from tui.settings.history_head import head_path, read_head, record_head, refuse_lost_history, refuse_rolled_back_history
from tui.settings.ledger_entries import Action, LedgerEntry
from tui.settings.ledger_promotions import UnfinishedPromotion, UnrecordedChange, unfinished, unrecorded

GENESIS = "0" * 64
BUSY_TIMEOUT_S = 30.0


class LedgerError(SettingsError):
    """The entry cannot be written (a secret in it, a value that is not JSON, an unknown action, the
    database unavailable). Nothing was written."""





@dataclass(frozen=True)
class ChainBreak:
    seq: int | None         # the first entry that does not match; None when the chain's end is missing
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None
    unfinished: tuple[UnfinishedPromotion, ...] = ()   # promotions without their completing entry
    unrecorded: UnrecordedChange | None = None         # a note: production.toml edited outside the ledger

    @property
    def ok(self) -> bool:
        """The chain is intact (`unfinished` is reported apart: the entries themselves are sound)."""
        return self.broken is None


# --- secrets guard -------------------------------------------------------------------------------

_SECRET_FIELD_NAMES = {"api_key", "apikey", "key", "secret", "token", "password", "authorization", "bearer"}


def key_fingerprint(key: ApiKey) -> str:
    """Tells keys apart across rotations without revealing them: the same non-reversible
    fingerprint the pacer names keys by, marked so the secrets guard knows it is not a key."""
    return "sha256:" + pacing_fingerprint(key)


def key_details(key: ApiKey) -> dict[str, str]:
    """What an entry about a key may say about it: masked, and a fingerprint to tell rotations apart."""
    return {"key": key.masked(), "key_fingerprint": key_fingerprint(key)}


def _looks_redacted(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("****") or value.startswith("sha256:"))


def _refuse_secrets(value: Any, path: str) -> None:
    """Walks the details: ApiKey objects and unmasked values under secret-like names are refused."""
    if isinstance(value, ApiKey):
        raise LedgerError(f"ledger details {path} hold an API key; store key_fingerprint(key) or key.masked()")
    if isinstance(value, Mapping):
        for name, item in value.items():
            normalised = str(name).lower().replace("-", "_")
            if normalised in _SECRET_FIELD_NAMES and item is not None and not _looks_redacted(item):
                raise LedgerError(
                    f"ledger details {path}.{name} look like a secret; store a fingerprint or a masked value"
                )
            _refuse_secrets(item, f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_secrets(item, f"{path}[{index}]")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry_hash(seq: int, at: str, operator: str, environment: str, action: str, subject: str,
                details_text: str, prev_hash: str) -> str:
    body = {
        "seq": seq, "at": at, "operator": operator, "environment": environment, "action": action,
        "subject": subject, "details": details_text, "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


# --- storage -------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    operator    TEXT NOT NULL,
    environment TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
"""

_COLUMNS = "seq, at, operator, environment, action, subject, details, prev_hash, hash"


class Ledger:
    """`Ledger(db_path).append(...)` from any process; appends are serialised by the database."""

    def __init__(self, db_path: Path | str):
        self.db_path = Path(db_path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        refuse_lost_history(self.db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_private_file(self.db_path)
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        with closing(sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            yield conn

    def append(
        self,
        action: Action | str,
        *,
        operator: str,
        subject: str,
        environment: str | None = None,
        details: Mapping[str, Any] | None = None,
        secrets: Iterable[ApiKey] = (),
    ) -> LedgerEntry:
        """Writes one entry after the current head. `secrets` are keys the caller holds: if any of
        their values appears anywhere in the entry, nothing is written."""
        action = _known_action(action)
        details = dict(details or {})
        _refuse_secrets(details, "details")
        try:
            details_text = _canonical(details)
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"ledger details must be plain JSON values: {exc}") from None
        for key in secrets:
            if key.value and (key.value in details_text or key.value in subject):
                raise LedgerError(f"ledger entry for {subject!r} contains the API key {mask(key.value)}")
        environment = environment or ""
        try:
            with self._connect() as conn:
                # BEGIN IMMEDIATE takes the write lock before reading the head, so two processes
                # appending at once queue up instead of both chaining onto the same entry.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    refuse_rolled_back_history(conn, self.db_path)  # chaining on would hide the loss
                    row = conn.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
                    seq, prev_hash = (row[0] + 1, row[1]) if row else (1, GENESIS)
                    at = datetime.now(timezone.utc).isoformat(timespec="microseconds")  # under the lock: follows seq
                    entry_hash = _entry_hash(seq, at, operator, environment, action, subject, details_text, prev_hash)
                    conn.execute(
                        f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (seq, at, operator, environment, action, subject, details_text, prev_hash, entry_hash),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"cannot write the audit ledger in {self.db_path}: {exc}") from exc
        try:
            record_head(self.db_path, seq, entry_hash)
        except (OSError, LockError) as exc:  # the entry is in; only the cross-check beside it is stale
            raise LedgerError(f"wrote ledger entry {seq} but not {head_path(self.db_path)}: {exc}") from exc
        return LedgerEntry(seq, at, operator, environment, action, subject, details, prev_hash, entry_hash)

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        """Reads never create or change the database, so `ledger` works under --read-only."""
        refuse_lost_history(self.db_path)
        if not self.db_path.exists():
            return []
        uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger'").fetchone() is None:
                return []
            return conn.execute(sql, list(params)).fetchall()

    def entries(self, *, action: str | None = None, subject: str | None = None,
                limit: int | None = None) -> list[LedgerEntry]:
        """Newest last. `limit` keeps the newest N."""
        where: list[str] = []
        params: list[str | int] = []
        if action:
            where.append("(action = ? OR action LIKE ?)")
            params += [action, f"{action}.%"]
        if subject:
            where.append("subject = ?")
            params.append(subject)
        sql = f"SELECT {_COLUMNS} FROM ledger"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_entry_from_row(row) for row in reversed(self._rows(sql, params))]

    def unfinished_promotions(self) -> list[UnfinishedPromotion]:
        """Every `promotion.pending` entry nothing closed, oldest first, with what the file holds now."""
        return unfinished(self.entries(action="promotion"))

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyResult:
        """Walks the chain from the first entry; the first row whose sequence, link or own hash does
        not match is named. `expect_head` (seq, hash; default: the head recorded in history.head)
        also catches a truncated end, a replaced file or a chain rewritten from scratch. Unfinished
        promotions and an unrecorded change to production.toml are reported alongside."""
        if expect_head is None:  # the head recorded beside the database at every append
            recorded = read_head(self.db_path)
            expect_head = (recorded.seq, recorded.hash) if recorded is not None else None
        rows = self._rows(f"SELECT {_COLUMNS} FROM ledger ORDER BY seq")
        entries = [_entry_from_row(row) for row in rows]
        checked, head_seq, head_hash, broken = _walk(rows, expect_head)
        return VerifyResult(checked, head_seq, head_hash, broken, tuple(unfinished(entries)), unrecorded(entries))


def _walk(rows: list[tuple], expect_head: tuple[int, str] | None) -> tuple[int, int, str, ChainBreak | None]:
    """(entries checked, last good seq, its hash, the first break or None)."""
    checked, prev_seq, prev_hash = 0, 0, GENESIS
    seen: dict[int, str] = {}
    for row in rows:
        seq, stored_hash = row[0], row[-1]
        problem = _row_problem(row, prev_seq, prev_hash)
        if problem:
            return checked, prev_seq, prev_hash, ChainBreak(seq, problem)
        checked, prev_seq, prev_hash = checked + 1, seq, stored_hash
        seen[seq] = stored_hash
    if expect_head is not None:
        head_seq, head_hash = expect_head
        if head_seq > prev_seq:
            return checked, prev_seq, prev_hash, ChainBreak(
                None, f"the ledger ends at entry {prev_seq}, but entry {head_seq} was recorded: "
                      f"{_missing(prev_seq + 1, head_seq)}")
        if seen.get(head_seq) != head_hash:
            return checked, prev_seq, prev_hash, ChainBreak(
                head_seq, f"entry {head_seq} does not have the recorded hash {head_hash[:12]}: "
                          "the chain was rewritten up to it")
    return checked, prev_seq, prev_hash, None


def _missing(first: int, last: int) -> str:
    return f"entry {first} is missing" if first == last else f"entries {first}..{last} are missing"


def _row_problem(row: tuple, prev_seq: int, prev_hash: str) -> str | None:
    seq, at, operator, environment, action, subject, details_text, stored_prev, stored_hash = row
    if seq <= prev_seq:
        return f"entry {seq} is out of sequence after entry {prev_seq}"
    if seq > prev_seq + 1:
        return f"{_missing(prev_seq + 1, seq - 1)} before entry {seq}"
    if stored_prev != prev_hash:
        return f"entry {seq} does not link to entry {prev_seq} (deleted, reordered or replaced entries)"
    recomputed = _entry_hash(seq, at, operator, environment, action, subject, details_text, stored_prev)
    if recomputed != stored_hash:
        return f"entry {seq} ({action} {subject}) was edited: its content does not match its hash"
    return None


def _known_action(action: Action | str) -> str:
    try:
        return Action(action).value
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise LedgerError(f"unknown ledger action {action!r}; known: {known}") from None


def _entry_from_row(row: tuple) -> LedgerEntry:
    seq, at, operator, environment, action, subject, details_text, prev_hash, entry_hash = row
    try:
        details = json.loads(details_text)
    except ValueError:
        details = {"unreadable": details_text}
    if not isinstance(details, dict):
        details = {"value": details}
    return LedgerEntry(seq, at, operator, environment, action, subject, details, prev_hash, entry_hash)
