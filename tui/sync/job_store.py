"""Bulk jobs and scheduled read-backs in the history database: what is pending, who checks it next,
and folding a job's outcome into its run exactly once.

Several processes follow the same jobs (the console, `jobs --wait`, `send --wait`, cron). Two rules
keep that safe without a coordinator:
- a check is claimed by moving the job's `next_check_at` forward with a compare-and-set; the loser
  skips the job, and a follower killed mid-check leaves it to the others once the lease passes;
- a job is resolved by one transaction that starts with `UPDATE ... WHERE state = 'pending'`: the
  rows, the run's counts, the diff state and the rejection log change only if that update did, so
  a second resolution of the same job (another process, or a restart after kill -9) changes nothing.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from tui.sync.history import settle_run
from tui.sync.history_schema import ACCEPTED, JOB_PENDING, SUBMITTED, upsert_diff_state
from tui.sync.history_writer import COUNTED
from tui.sync.membership_state import confirm
from tui.sync.profiles import identifier_key
from tui.sync.rejection_index import write_rejections
from tui.sync.sql_rows import insert_rows, rows_in, update_rows


@dataclass(frozen=True)
class JobRecord:
    id: int                      # ours (bulk_jobs.id)
    run_id: int
    job_id: str                  # Attentive's batchJobId
    scope: int                   # the diff scope its confirmed profiles update
    rows: int
    submitted_at: float
    state: str                   # pending | completed | failed | unconfirmed | expired
    status: str | None           # Attentive's word, verbatim
    body: str | None
    url: str | None
    message: str | None
    checks: int
    last_checked_at: float | None
    next_check_at: float
    resolved_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_JOB_COLUMNS = ", ".join(f.name for f in fields(JobRecord))


@dataclass(frozen=True)
class JobLine:
    """A result line kept raw: unreadable, or naming no profile of its job."""
    job: int
    line_no: int
    problem: str                 # unreadable | unmatched | duplicate
    text: str


@dataclass(frozen=True)
class RowVerdict:
    row: int
    outcome: int                 # ACCEPTED | REJECTED | FAILED | UNCONFIRMED
    reason: str | None = None    # rejection-log reason; None for accepted
    status: int | None = None
    message: str | None = None


# A job's rows still submitted in its run. CROSS JOIN keeps the job's rows the outer loop: left to
# itself (no statistics) SQLite walked all of the run's outcomes for every job, which made following
# a million-row send quadratic.
STILL_SUBMITTED = ("SELECT r.row FROM job_rows r CROSS JOIN row_outcomes o ON o.run_id = ? AND o.row = r.row "
                   "WHERE r.job = ? AND o.outcome = ?")


@dataclass(frozen=True)
class Resolution:
    state: str
    status: str | None
    body: str | None
    url: str | None
    message: str | None
    verdicts: Sequence[RowVerdict]
    lines: Sequence[JobLine] = ()


@dataclass(frozen=True)
class JobRow:
    row: int
    identifier: str
    digest: bytes
    raw: bytes | None = None


@dataclass(frozen=True)
class ReadBackDue:
    run_id: int
    window_ends_at: float
    next_at: float
    attempts: int


def _scope_clause(run_ids: Sequence[int] | None, environment: str | None,
                  alias: str = "j") -> tuple[str, list[int | str]]:
    where: list[str] = []
    params: list[int | str] = []
    if run_ids is not None:
        where.append(f"{alias}.run_id IN ({','.join('?' * len(run_ids))})" if run_ids else "0")
        params.extend(run_ids)
    if environment is not None:
        where.append(f"{alias}.run_id IN (SELECT id FROM runs WHERE environment = ?)")
        params.append(environment)
    return (" AND " + " AND ".join(where)) if where else "", params


class JobStore:
    """Job queries and changes on one history connection (HistoryStore.connection)."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    # reading -------------------------------------------------------------------------------
    def jobs(self, *, run_ids: Sequence[int] | None = None, environment: str | None = None,
             pending_only: bool = False, limit: int = 10_000) -> list[JobRecord]:
        clause, params = _scope_clause(run_ids, environment)
        if pending_only:
            clause += " AND j.state = ?"
            params.append(JOB_PENDING)
        rows = self.connection.execute(
            f"SELECT {_JOB_COLUMNS} FROM bulk_jobs j WHERE 1 {clause} ORDER BY j.id LIMIT ?", (*params, limit)
        ).fetchall()
        return [JobRecord(*row) for row in rows]

    def job(self, job: int) -> JobRecord | None:
        row = self.connection.execute(f"SELECT {_JOB_COLUMNS} FROM bulk_jobs WHERE id = ?", (job,)).fetchone()
        return JobRecord(*row) if row else None

    def lines(self, job: int) -> list[JobLine]:
        return [JobLine(*row) for row in self.connection.execute(
            "SELECT job, line_no, problem, text FROM job_lines WHERE job = ? ORDER BY line_no", (job,))]

    def job_rows(self, job: int) -> list[JobRow]:
        return [JobRow(*row) for row in self.connection.execute(
            "SELECT row, identifier, digest, raw FROM job_rows WHERE job = ? ORDER BY row", (job,))]

    def pending_counts(self, run_ids: Sequence[int]) -> dict[int, int]:
        """Run id -> its jobs still pending (runs with none are left out)."""
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        return dict(self.connection.execute(
            f"SELECT run_id, count(*) FROM bulk_jobs WHERE state = ? AND run_id IN ({marks}) GROUP BY run_id",
            (JOB_PENDING, *run_ids)))

    def state_counts(self, run_ids: Sequence[int] | None = None, environment: str | None = None) -> dict[str, int]:
        clause, params = _scope_clause(run_ids, environment)
        return dict(self.connection.execute(
            f"SELECT j.state, count(*) FROM bulk_jobs j WHERE 1 {clause} GROUP BY j.state", params))

    def due(self, now: float, *, run_ids: Sequence[int] | None = None, environment: str | None = None,
            limit: int = 64) -> list[JobRecord]:
        clause, params = _scope_clause(run_ids, environment)
        rows = self.connection.execute(
            f"SELECT {_JOB_COLUMNS} FROM bulk_jobs j WHERE j.state = ? AND j.next_check_at <= ? {clause} "
            "ORDER BY j.next_check_at LIMIT ?", (JOB_PENDING, now, *params, limit)).fetchall()
        return [JobRecord(*row) for row in rows]

    def next_due(self, *, run_ids: Sequence[int] | None = None, environment: str | None = None) -> float | None:
        clause, params = _scope_clause(run_ids, environment)
        jobs = self.connection.execute(
            f"SELECT min(j.next_check_at) FROM bulk_jobs j WHERE j.state = ? {clause}", (JOB_PENDING, *params)
        ).fetchone()[0]
        read_backs = self.connection.execute(
            "SELECT min(j.next_at) FROM read_backs j WHERE NOT EXISTS "
            f"(SELECT 1 FROM bulk_jobs b WHERE b.run_id = j.run_id AND b.state = ?) {clause}",
            (JOB_PENDING, *params)).fetchone()[0]
        times = [t for t in (jobs, read_backs) if t is not None]
        return min(times) if times else None

    def has_in_flight(self, scope: int) -> bool:
        return self.connection.execute("SELECT 1 FROM job_rows WHERE scope = ? AND open = 1 LIMIT 1",
                                       (scope,)).fetchone() is not None

    def in_flight_digests(self, scope: int, identifiers: Sequence[str]) -> dict[str, set[bytes]]:
        """Identifier -> digests of payloads submitted in jobs still pending (the diff's `skipped_pending`)."""
        found: dict[str, set[bytes]] = {}
        for identifier, digest in rows_in(
                self.connection, "SELECT identifier, digest FROM job_rows WHERE scope = ? AND open = 1 AND "
                "identifier IN ({marks})", (scope,), identifiers):
            found.setdefault(identifier, set()).add(digest)
        return found

    # checking ------------------------------------------------------------------------------
    def claim(self, job: JobRecord, until: float) -> bool:
        """Take the next check of `job` (seen with its next_check_at): True for exactly one claimant."""
        cursor = self.connection.execute(
            "UPDATE bulk_jobs SET next_check_at = ? WHERE id = ? AND state = ? AND next_check_at = ?",
            (until, job.id, JOB_PENDING, job.next_check_at))
        return cursor.rowcount == 1

    def checked(self, job: JobRecord, now: float, *, status: str | None, body: str | None, url: str | None,
                message: str, next_check_at: float) -> None:
        """A check that left the job pending: keep what Attentive said, and when to look again."""
        self.connection.execute(
            "UPDATE bulk_jobs SET status = coalesce(?, status), body = coalesce(?, body), url = ?, message = ?, "
            "checks = checks + 1, last_checked_at = ?, next_check_at = ? WHERE id = ? AND state = ?",
            (status, body, url, message, now, next_check_at, job.id, JOB_PENDING))

    def resolve(self, job: JobRecord, now: float, resolution: Resolution) -> bool:
        """Fold a job's outcome into its run, once. False when it was already resolved elsewhere."""
        c = self.connection
        c.execute("BEGIN IMMEDIATE")
        try:
            cursor = c.execute(
                "UPDATE bulk_jobs SET state = ?, status = coalesce(?, status), body = coalesce(?, body), url = ?, "
                "message = ?, checks = checks + 1, last_checked_at = ?, resolved_at = ? WHERE id = ? AND state = ?",
                (resolution.state, resolution.status, resolution.body, resolution.url, resolution.message, now, now,
                 job.id, JOB_PENDING))
            if cursor.rowcount != 1:
                c.execute("ROLLBACK")
                return False
            self._fold(job, resolution)
            c.execute("COMMIT")
            return True
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _fold(self, job: JobRecord, resolution: Resolution) -> None:
        c = self.connection
        c.execute("UPDATE job_rows SET open = 0 WHERE job = ?", (job.id,))
        run = c.execute("SELECT verbose_logging FROM runs WHERE id = ?", (job.run_id,)).fetchone()
        verbose = bool(run[0]) if run else True
        still_submitted = {row for (row,) in c.execute(STILL_SUBMITTED, (job.run_id, job.id, SUBMITTED))}
        verdicts = [v for v in resolution.verdicts if v.row in still_submitted]
        identifiers = {row.row: row for row in self.job_rows(job.id)}
        update_rows(c, "row_outcomes", ["outcome"], ["run_id", "row"], [(v.outcome, job.run_id, v.row) for v in verdicts])
        upsert_diff_state(c, [
            (job.scope, identifiers[v.row].identifier, identifiers[v.row].digest, identifiers[v.row].raw,
             identifier_key(identifiers[v.row].identifier) if identifiers[v.row].raw is not None else None)
            for v in verdicts if v.outcome == ACCEPTED])
        confirm(c, job.run_id, [(v.row, identifiers[v.row].identifier) for v in verdicts if v.outcome == ACCEPTED])
        write_rejections(c, [
            (job.run_id, v.row, v.reason, identifiers[v.row].identifier if verbose else None,
             v.status if verbose else None, v.message if verbose else None)
            for v in verdicts if v.outcome != ACCEPTED and v.reason is not None])
        insert_rows(c, "INSERT OR REPLACE INTO job_lines (job, line_no, problem, text)",
                    [(job.id, line.line_no, line.problem, line.text) for line in resolution.lines])
        moved = {name: 0 for name in ("accepted", "rejected", "failed", "unconfirmed")}
        for verdict in verdicts:
            moved[COUNTED[verdict.outcome]] += 1
        c.execute("UPDATE runs SET submitted = submitted - ?, accepted = accepted + ?, rejected = rejected + ?, "
                  "failed = failed + ?, unconfirmed = unconfirmed + ? WHERE id = ?",
                  (len(verdicts), moved["accepted"], moved["rejected"], moved["failed"], moved["unconfirmed"],
                   job.run_id))
        settle_run(c, job.run_id)

    # read-backs ----------------------------------------------------------------------------
    def schedule_read_back(self, run_id: int, *, window_ends_at: float, next_at: float) -> None:
        self.connection.execute(
            "INSERT INTO read_backs (run_id, window_ends_at, next_at) VALUES (?, ?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET window_ends_at = excluded.window_ends_at, next_at = excluded.next_at",
            (run_id, window_ends_at, next_at))

    def read_backs(self, *, run_ids: Sequence[int] | None = None, environment: str | None = None) -> list[ReadBackDue]:
        clause, params = _scope_clause(run_ids, environment)
        return [ReadBackDue(*row) for row in self.connection.execute(
            f"SELECT j.run_id, j.window_ends_at, j.next_at, j.attempts FROM read_backs j WHERE 1 {clause} "
            "ORDER BY j.run_id", params)]

    def read_back_of(self, run_id: int) -> ReadBackDue | None:
        row = self.connection.execute(
            "SELECT run_id, window_ends_at, next_at, attempts FROM read_backs WHERE run_id = ?", (run_id,)).fetchone()
        return ReadBackDue(*row) if row else None

    def due_read_backs(self, now: float, *, run_ids: Sequence[int] | None = None,
                       environment: str | None = None) -> list[ReadBackDue]:
        """Scheduled read-backs whose time has come and whose run has no job pending."""
        clause, params = _scope_clause(run_ids, environment)
        rows = self.connection.execute(
            "SELECT j.run_id, j.window_ends_at, j.next_at, j.attempts FROM read_backs j WHERE j.next_at <= ? "
            f"AND NOT EXISTS (SELECT 1 FROM bulk_jobs b WHERE b.run_id = j.run_id AND b.state = ?) {clause} "
            "ORDER BY j.next_at", (now, JOB_PENDING, *params)).fetchall()
        return [ReadBackDue(*row) for row in rows]

    def claim_read_back(self, due: ReadBackDue, until: float) -> bool:
        cursor = self.connection.execute(
            "UPDATE read_backs SET next_at = ? WHERE run_id = ? AND next_at = ?", (until, due.run_id, due.next_at))
        return cursor.rowcount == 1

    def read_back_done(self, run_id: int, *, next_at: float | None) -> None:
        """After an attempt: look again at `next_at`, or (None) the read-back is settled."""
        if next_at is None:
            self.connection.execute("DELETE FROM read_backs WHERE run_id = ?", (run_id,))
        else:
            self.connection.execute("UPDATE read_backs SET next_at = ?, attempts = attempts + 1 WHERE run_id = ?",
                                    (next_at, run_id))

