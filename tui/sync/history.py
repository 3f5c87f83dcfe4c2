"""The history store: runs, per-row outcomes, diff state and read-back verifications.

The engine writes through `RunRecorder` (history_writer.py) in batched transactions; everything
else (the CLI, the console, promotion) reads through `HistoryStore` and `RejectionLog`.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from tui.settings.paths import history_path
from tui.sync.history_schema import ACCEPTED, JOB_PENDING, OUTCOME_NAMES, SKIPPED, UNCONFIRMED, connect
from tui.sync.sql_rows import rows_in

RUNNING, FINISHED, FAILED, CANCELLED = "running", "finished", "failed", "cancelled"
AWAITING = "awaiting_results"  # everything submitted; bulk jobs still processing at Attentive
INTERRUPTED = "interrupted"  # shown for a run still marked running whose process is gone
RESUMABLE = (RUNNING, FAILED, CANCELLED)


class RunMode(StrEnum):
    """What a run was started as. The values are what the runs table stores, and what `runs` and the
    JSON output show: renaming one would orphan the runs already recorded."""
    SEND = "send"
    SAMPLE = "sample"
    RETRY = "retry"
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class NewRun:
    operator: str
    environment: str
    destination: str
    endpoint: str
    config_hash: str
    mode: RunMode
    source_path: str
    source_hash: str
    source_format: str
    rows_estimate: int | None
    verbose_logging: bool = True
    full_send: bool = False
    sample_size: int | None = None
    parent_run_id: int | None = None
    source_parts: str | None = None      # JSON list of paths, for a source of several parts
    send_constants: str | None = None    # JSON object of --set values
    source_query: str | None = None      # send --query: its SQL (the source is its spooled result)
    include_unknown: bool = False        # retry --include-unknown


@dataclass(frozen=True)
class RunRecord:
    id: int
    operator: str
    environment: str
    destination: str
    endpoint: str
    config_hash: str
    mode: str                      # a RunMode value, as read back from the table
    full_send: bool
    sample_size: int | None
    parent_run_id: int | None
    verbose_logging: bool
    source_path: str
    source_hash: str
    source_format: str
    rows_estimate: int | None
    started_at: float
    finished_at: float | None
    status: str
    message: str | None
    rows_read: int
    accepted: int
    rejected: int
    invalid: int
    skipped_unchanged: int
    failed: int
    not_sent: int
    requests: int
    throttled: int
    submitted: int = 0           # in bulk jobs still processing
    unconfirmed: int = 0         # their job ended without a readable result for them
    skipped_pending: int = 0     # unchanged since a submission still processing
    source_parts: str | None = None
    send_constants: str | None = None
    audience_left: int = 0       # members absent from the file, sent false on the audience attribute
    source_query: str | None = None
    skipped_already_sent: int = 0  # events the ledger holds as sent to this destination already
    unknown: int = 0             # events sent without a recorded answer: not re-sent on our own
    stale_events: int = 0        # events over 12 hours old: recorded by Attentive, no journeys
    include_unknown: bool = False  # a retry that sends its parent's unknown events again

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.finished_at or time.time()) - self.started_at)

    @property
    def problem_rows(self) -> int:
        """Rows that did not reach Attentive, or may not have, for a reason the operator must look at."""
        return self.rejected + self.invalid + self.failed + self.unknown

    @property
    def rejection_share(self) -> float:
        return self.problem_rows / self.rows_read if self.rows_read else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_RUN_COLUMNS = ", ".join(f.name for f in fields(RunRecord))


@dataclass(frozen=True)
class Verification:
    run_id: int
    checked_at: float
    checked: int
    matched: int
    mismatched: int
    missing: int
    passed: bool
    details: list[dict[str, Any]]
    state: str = ""              # pending (differs, window still open) | matched | mismatched; "" = from passed

    @property
    def verdict(self) -> str:
        return self.state or ("matched" if self.passed else "mismatched")


def settle_run(connection: sqlite3.Connection, run_id: int) -> None:
    """A run awaiting results becomes finished once none of its jobs is pending (one statement, so
    the engine ending a send and a follower resolving its last job cannot both miss it)."""
    connection.execute(
        "UPDATE runs SET status = ? WHERE id = ? AND status = ? "
        "AND NOT EXISTS (SELECT 1 FROM bulk_jobs WHERE run_id = ? AND state = ?)",
        (FINISHED, run_id, AWAITING, run_id, JOB_PENDING))


def _run(row: tuple) -> RunRecord:
    record = RunRecord(*row)
    return RunRecord(**{**record.__dict__, "full_send": bool(record.full_send), "verbose_logging": bool(record.verbose_logging),
                         "include_unknown": bool(record.include_unknown)})


class HistoryStore:
    """A connection to the history database. Not shared between threads."""

    def __init__(self, data_dir: Path, *, readonly: bool = False):
        self.data_dir = Path(data_dir)
        self.path = history_path(self.data_dir)
        self.connection: sqlite3.Connection = connect(self.data_dir, readonly=readonly)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs -------------------------------------------------------------------------------
    def create_run(self, new: NewRun) -> int:
        values = {f.name: getattr(new, f.name) for f in fields(new)}
        values.update(started_at=time.time(), status=RUNNING)
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.connection:
            cursor = self.connection.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", list(values.values()))
        # sqlite3 leaves lastrowid None only when no row was inserted; a successful INSERT into runs sets it.
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get_run(self, run_id: int) -> RunRecord | None:
        row = self.connection.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def list_runs(self, *, destination: str | None = None, environment: str | None = None, limit: int = 100) -> list[RunRecord]:
        where, params = [], []
        if destination:
            where.append("destination = ?")
            params.append(destination)
        if environment:
            where.append("environment = ?")
            params.append(environment)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs {clause} ORDER BY id DESC LIMIT ?", (*params, limit)
        ).fetchall()
        return [_run(r) for r in rows]

    def latest_test_send(self, destination: str, environment: str = "sandbox") -> RunRecord | None:
        """The newest sample send of a destination that submitted everything (finished, or awaiting its
        jobs' results): what promotion gates on."""
        row = self.connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE destination = ? AND environment = ? AND mode = ? "
            "AND status IN (?, ?) ORDER BY id DESC LIMIT 1",
            (destination, environment, RunMode.SAMPLE, FINISHED, AWAITING),
        ).fetchone()
        return _run(row) if row else None

    def set_status(self, run_id: int, status: str, message: str | None = None) -> None:
        finished = None if status == RUNNING else time.time()
        with self.connection:
            self.connection.execute(
                "UPDATE runs SET status = ?, message = ?, finished_at = ? WHERE id = ?", (status, message, finished, run_id)
            )

    def end_send(self, run_id: int) -> None:
        """A send that submitted everything: finished, or awaiting_results while a job is pending."""
        with self.connection:
            self.connection.execute("UPDATE runs SET status = ?, message = NULL, finished_at = ? WHERE id = ?",
                                    (AWAITING, time.time(), run_id))
            settle_run(self.connection, run_id)

    def recount(self, run_id: int) -> None:
        """Set a run's counters from its rows (a resumed run's start: the rows are the truth)."""
        counts = self.outcome_counts(run_id)
        names = [name for name in OUTCOME_NAMES.values() if name != "pending"]
        with self.connection:
            self.connection.execute(
                f"UPDATE runs SET rows_read = ?, {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                (sum(counts.values()), *(counts[n] for n in names), run_id))

    # rows -------------------------------------------------------------------------------
    def outcome_counts(self, run_id: int) -> dict[str, int]:
        counts = {name: 0 for name in OUTCOME_NAMES.values()}
        for outcome, count in self.connection.execute(
            "SELECT outcome, count(*) FROM row_outcomes WHERE run_id = ? GROUP BY outcome", (run_id,)
        ):
            counts[OUTCOME_NAMES[outcome]] = count
        return counts

    def outcomes_between(self, run_id: int, first_row: int, last_row: int) -> dict[int, int]:
        return dict(self.connection.execute(
            "SELECT row, outcome FROM row_outcomes WHERE run_id = ? AND row BETWEEN ? AND ?", (run_id, first_row, last_row)
        ))

    def unkeyed_skips_between(self, run_id: int, first_row: int, last_row: int) -> set[int]:
        """Rows skipped unchanged without an identifier key (planner.py), for a resume to key them."""
        return {row for (row,) in self.connection.execute(
            "SELECT row FROM row_outcomes WHERE run_id = ? AND row BETWEEN ? AND ? AND outcome = ? AND key IS NULL",
            (run_id, first_row, last_row, SKIPPED))}

    def planned_keys(self, run_id: int) -> Iterator[int]:
        for (key,) in self.connection.execute(
            "SELECT key FROM row_outcomes WHERE run_id = ? AND key IS NOT NULL", (run_id,)
        ):
            yield key

    def rows_to_read_back(self, run_id: int, limit: int) -> list[int]:
        """Rows Attentive may hold: accepted, or unconfirmed (a read-back is how to find out)."""
        return [row for (row,) in self.connection.execute(
            "SELECT row FROM row_outcomes WHERE run_id = ? AND outcome IN (?, ?) ORDER BY row LIMIT ?",
            (run_id, ACCEPTED, UNCONFIRMED, limit)
        )]

    # diff state ---------------------------------------------------------------------------
    def diff_scope(self, destination: str, environment: str) -> int:
        with self.connection:
            self.connection.execute(
                "INSERT OR IGNORE INTO diff_scopes (destination, environment) VALUES (?, ?)", (destination, environment)
            )
        return self.connection.execute(
            "SELECT id FROM diff_scopes WHERE destination = ? AND environment = ?", (destination, environment)
        ).fetchone()[0]

    def has_diff_state(self, scope: int) -> bool:
        return self.connection.execute("SELECT 1 FROM diff_state WHERE scope = ? LIMIT 1", (scope,)).fetchone() is not None

    def accepted_digests(self, scope: int, identifiers: Iterable[str]) -> dict[str, bytes]:
        return dict(rows_in(self.connection, "SELECT identifier, digest FROM diff_state WHERE scope = ? AND "
                            "identifier IN ({marks})", (scope,), identifiers))

    # verification -------------------------------------------------------------------------
    def save_verification(self, result: Verification) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO verifications (run_id, checked_at, checked, matched, mismatched, missing, passed, details, "
                "state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.run_id, result.checked_at, result.checked, result.matched, result.mismatched, result.missing,
                 int(result.passed), json.dumps(result.details), result.verdict),
            )

    def latest_verification(self, run_id: int) -> Verification | None:
        row = self.connection.execute(
            "SELECT run_id, checked_at, checked, matched, mismatched, missing, passed, details, state "
            "FROM verifications WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,)
        ).fetchone()
        if row is None:
            return None
        of_run, checked_at, checked, matched, mismatched, missing, passed, details, state = row
        return Verification(of_run, checked_at, checked, matched, mismatched, missing,
                            passed=bool(passed), details=json.loads(details), state=state)

