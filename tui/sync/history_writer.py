"""Buffers one run's writes and commits them together, a few times a second.

One transaction per flush keeps a million-row send fast (a commit per row would cost more than the
sending), and makes each flush all-or-nothing: a row's outcome, its rejection and its diff state
change land together or not at all, so a run killed at any moment resumes from a consistent state.

Flushes are written by one background thread with its own connection (SQLite releases the GIL while
it works, so the writes overlap the event loop's parsing and sending), in the order they were made.
Until a flush is committed its identifier keys stay visible to `first_rows`. Rows the planner skips
unbuilt with the diff state in memory are written without a key (`skip_unkeyed`): it finds their
duplicates itself (planner.py).
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from tui.sync import event_ledger
from tui.sync.history_schema import (
    ACCEPTED,
    FAILED,
    INVALID,
    JOB_PENDING,
    NOT_SENT,
    PENDING,
    REJECTED,
    SKIPPED,
    SKIPPED_PENDING,
    SKIPPED_SENT,
    SUBMITTED,
    UNCONFIRMED,
    UNKNOWN,
    connect,
    upsert_diff_state,
)
from tui.sync.membership_state import confirm
from tui.sync.rejection_index import write_rejections
from tui.sync.sql_rows import insert_rows, update_rows
from tui.sync.written_keys import WrittenKeys

FLUSH_INTERVAL_S = 0.5
FLUSH_ROWS = 50_000


class HistoryWriteError(Exception):
    """The history could not be written (disk full, an I/O error): the send must stop at once, since
    what it sends from here on would not be recorded. What was committed before is consistent."""

    def __init__(self, data_dir: Path, cause: BaseException):
        self.cause = cause
        super().__init__(
            f"the send history in {data_dir} could not be written ({type(cause).__name__}: {cause}); the send "
            "stopped so that nothing goes out unrecorded. Free space in that folder (or fix the error), then "
            "resume the run")


@dataclass
class RunCounts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    invalid: int = 0
    skipped_unchanged: int = 0
    failed: int = 0
    not_sent: int = 0
    submitted: int = 0
    unconfirmed: int = 0
    skipped_pending: int = 0
    skipped_already_sent: int = 0
    unknown: int = 0
    stale_events: int = 0    # not an outcome: events (of any outcome) over 12 hours old

    def add(self, outcome: int, count: int = 1) -> None:
        name = COUNTED.get(outcome)
        if name is not None:
            setattr(self, name, getattr(self, name) + count)

    @property
    def settled(self) -> int:
        """Rows with an outcome of this run (submitted included: the job decides the rest)."""
        return sum(getattr(self, name) for name in COUNTED.values())

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in COUNT_COLUMNS)


# runs columns counted per outcome code (row_outcomes.outcome); the send writes them as deltas so
# a job follower in another process can move rows (submitted -> accepted) at the same time.
COUNTED = {ACCEPTED: "accepted", REJECTED: "rejected", INVALID: "invalid", SKIPPED: "skipped_unchanged",
           FAILED: "failed", NOT_SENT: "not_sent", SUBMITTED: "submitted", UNCONFIRMED: "unconfirmed",
           SKIPPED_PENDING: "skipped_pending", SKIPPED_SENT: "skipped_already_sent", UNKNOWN: "unknown"}
COUNT_COLUMNS = ("rows_read", *COUNTED.values(), "stale_events")
_ADD_COUNTS = ("UPDATE runs SET " + ", ".join(f"{c} = {c} + ?" for c in (*COUNT_COLUMNS, "requests", "throttled"))
               + " WHERE id = ?")


@dataclass(frozen=True)
class Submission:
    """A bulk job Attentive accepted, with the profiles of its batch: (row, identifier, digest, raw digest)."""
    job_id: str
    submitted_at: float          # wall clock
    first_check_at: float
    profiles: list[tuple[int, str, bytes, bytes | None]]


class RunRecorder:
    """Collects planned rows, outcomes, rejections and diff-state changes of one run."""

    def __init__(self, connection: sqlite3.Connection, run_id: int, *, scope: int, verbose: bool, counts: RunCounts,
                 data_dir: Path, membership: bool = False, expected_rows: int = 0):
        self.connection = connection  # for reads, on the caller's thread
        self.data_dir = data_dir
        self.run_id = run_id
        self.scope = scope
        self.verbose = verbose
        self.counts = counts
        self._planned: dict[int, list] = {}       # row -> [key, outcome], not yet written
        self._planned_keys: dict[int, int] = {}   # key -> first row, for rows not yet written
        self._unkeyed: list[int] = []               # rows skipped unchanged, recorded without a key
        self._keyed: list[tuple[int, int, int]] = []  # (key, run, row): a resume keying those rows
        self._updates: list[tuple[int, int, int]] = []
        self._rejections: list[tuple] = []
        self._digests: list[tuple[int, str, bytes, bytes | None, int | None]] = []
        self._submissions: list[Submission] = []
        self.membership = membership              # the run carries an audience: accepted rows change who is a member
        self._confirmed: list[tuple[int, str]] = []
        self._answers: list[tuple[str, int | None]] = []   # event ledger: (event id, new state or None)
        # unchanged rows' raw digests: (raw, identifier key, scope, identifier, digest)
        self._raws: list[tuple[bytes, int, int, str, bytes]] = []
        self._written = (*counts.values(), 0, 0)  # what the runs row holds of this process's counting
        self._last_flush = time.monotonic()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-writer")
        self._writer_connection: sqlite3.Connection | None = None
        self._in_transit: list[tuple[Future, dict[int, int]]] = []
        self._broken: HistoryWriteError | None = None  # set by the writer thread at its first failure
        self.requests = 0
        self.throttled = 0
        self._written_keys = WrittenKeys(connection, run_id, expected_rows)

    def plan(self, row: int, key: int | None, outcome: int = PENDING) -> None:
        """A row read from the source: pending (to be sent) or already terminal."""
        self._planned[row] = [key, outcome]
        if key is not None:
            self._planned_keys.setdefault(key, row)
        if outcome != PENDING:
            self.counts.add(outcome)

    def plan_all(self, rows: list[tuple[int, int]], outcome: int) -> None:
        """Rows read from the source, (row, identifier key) each, all with the same terminal outcome."""
        planned, planned_keys = self._planned, self._planned_keys
        for row, key in rows:
            planned[row] = [key, outcome]
            planned_keys.setdefault(key, row)
        self.counts.add(outcome, len(rows))

    def skip_unkeyed(self, rows: list[int]) -> None:
        """Rows skipped unchanged whose in-run duplicates the planner finds without their key (planner.py):
        written without one, so the random index on keys takes no entry for them."""
        self._unkeyed.extend(rows)
        self.counts.add(SKIPPED, len(rows))

    def key_row(self, row: int, key: int) -> None:
        """A row written without its key (skip_unkeyed, before a resume) gets it."""
        self._keyed.append((key, self.run_id, row))
        self._planned_keys.setdefault(key, row)

    def first_rows(self, keys: list[int]) -> dict[int, int]:
        """key -> the first row of this run that carried it, written or not (in-run duplicates)."""
        found = self._written_keys.first_rows(keys)
        for written in [keys_of for _, keys_of in self._in_transit] + [self._planned_keys]:
            for key in keys:
                row = written.get(key)
                if row is not None and (key not in found or row < found[key]):
                    found[key] = row
        return found

    def settle(self, row: int, outcome: int) -> None:
        planned = self._planned.get(row)
        if planned is not None:
            planned[1] = outcome
        else:
            self._updates.append((outcome, self.run_id, row))
        self.counts.add(outcome)

    def accept(self, row: int, identifier: str, digest: bytes, raw: bytes | None = None, key: int | None = None) -> None:
        self.settle(row, ACCEPTED)
        self._digests.append((self.scope, identifier, digest, raw, key if raw is not None else None))
        if self.membership:
            self._confirmed.append((row, identifier))

    def unchanged(self, row: int, key: int, identifier: str, digest: bytes, raw: bytes | None) -> None:
        """A row whose payload is the one last confirmed (skipped), built because its raw digest was not
        the one on record: its raw digest is recorded, so the next send knows it unchanged unbuilt."""
        self.plan(row, key, SKIPPED)
        if raw is not None:
            self._raws.append((raw, key, self.scope, identifier, digest))

    def submit(self, submission: Submission) -> None:
        """Rows in a bulk job Attentive accepted: submitted until a follower folds its results."""
        for row, *_ in submission.profiles:
            self.settle(row, SUBMITTED)
        self._submissions.append(submission)

    def reject(self, row: int, outcome: int, reason: str, *, identifier: str | None = None,
               status: int | None = None, message: str | None = None) -> None:
        """Settle the row as rejected/invalid/failed and log why. Without verbose logging only the
        reason and the row are kept."""
        if outcome == INVALID and row not in self._planned:
            self.plan(row, None, INVALID)
        else:
            self.settle(row, outcome)
        if self.verbose:
            self._rejections.append((self.run_id, row, reason, identifier, status, message))
        else:
            self._rejections.append((self.run_id, row, reason, None, None, None))

    def answer_event(self, event_id: str, rows: Iterable[int], outcome: int, state: int | None, reason: str | None = None,
                     *, identifier: str | None = None, status: int | None = None, message: str | None = None) -> None:
        """An event's answer: its rows' outcome (with a rejection entry when `reason` is given) and its
        ledger state (None deletes the mark), committed together."""
        for row in rows:
            if reason is None:
                self.settle(row, outcome)
            else:
                self.reject(row, outcome, reason, identifier=identifier, status=status, message=message)
        self._answers.append((event_id, state))

    def release_event(self, event_id: str) -> None:
        """The event's request provably never reached Attentive: its mark goes, its rows stay pending."""
        self._answers.append((event_id, None))

    def mark_in_flight(self, marks: list[tuple[str, tuple[int, ...]]]) -> Future:
        """Commit (event id, rows) as IN_FLIGHT in the ledger, after everything recorded so far (the
        answers of the events before them included: a kill then leaves unknown only what was in flight);
        the request may leave once the returned future is done (its exception: HistoryWriteError)."""
        self.flush()
        return self._writer.submit(self._write_marks, marks)

    def _write_marks(self, marks: list[tuple[str, tuple[int, ...]]]) -> None:
        if self._broken is not None:
            raise self._broken
        try:
            connection = self._writer_db()
            connection.execute("BEGIN IMMEDIATE")
            try:
                event_ledger.write_marks(connection, self.scope, self.run_id, marks)
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise
        except (sqlite3.Error, OSError) as exc:
            self._broken = HistoryWriteError(self.data_dir, exc)
            raise self._broken from exc

    @property
    def pending_writes(self) -> int:
        return (len(self._planned) + len(self._unkeyed) + len(self._updates) + len(self._rejections)
                + len(self._submissions))

    def maybe_flush(self) -> None:
        if self.pending_writes >= FLUSH_ROWS or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Hand what is buffered to the writer thread (returns at once; see sync). Raises
        HistoryWriteError once any write has failed."""
        if self._broken is not None:
            raise self._broken
        self._reap(block=len(self._in_transit) >= 2)  # a writer that falls behind slows the reader
        now = (*self.counts.values(), self.requests, self.throttled)
        deltas = (*(new - old for new, old in zip(now, self._written)), self.run_id)
        self._written = now
        work = (
            [(self.run_id, row, key, outcome) for row, (key, outcome) in self._planned.items()], self._unkeyed,
            self._keyed, self._updates, self._rejections, self._digests, self._submissions, self._confirmed, self._answers,
            self._raws, deltas,
        )
        self._written_keys.add(self._planned_keys)
        self._in_transit.append((self._writer.submit(self._write, *work), self._planned_keys))
        self._planned, self._planned_keys = {}, {}
        self._unkeyed, self._keyed = [], []
        self._updates, self._rejections, self._digests, self._submissions, self._confirmed = [], [], [], [], []
        self._answers, self._raws = [], []
        self._last_flush = time.monotonic()

    def sync(self) -> None:
        """Flush and wait until everything recorded so far is committed."""
        self.flush()
        self._reap(block=True, everything=True)

    def close(self) -> None:
        try:
            self.sync()
        finally:
            self._writer.submit(self._close_writer).result()
            self._writer.shutdown()

    @property
    def broken(self) -> HistoryWriteError | None:
        return self._broken

    def _reap(self, *, block: bool, everything: bool = False) -> None:
        while self._in_transit and (self._in_transit[0][0].done() or block):
            future, _ = self._in_transit[0]
            self._in_transit.pop(0)
            future.result()  # re-raises a failed write here (HistoryWriteError), on the caller's thread
            if not everything:
                block = False

    def _write(self, *work: Any) -> None:
        """On the writer thread. After one failure no later batch is written either: a batch that
        committed after a lost one would leave counts and outcomes that disagree."""
        if self._broken is not None:
            raise self._broken
        try:
            self._commit(*work)
        except (sqlite3.Error, OSError) as exc:
            self._broken = HistoryWriteError(self.data_dir, exc)
            raise self._broken from exc

    def _commit(self, planned: list[tuple[int, int, int | None, int]], unkeyed: list[int], keyed: list[tuple[int, int, int]],
                updates: list, rejections: list, digests: list,
                submissions: list[Submission], confirmed: list[tuple[int, str]], answers: list[tuple[str, int | None]],
                raws: list[tuple[bytes, int, int, str, bytes]], deltas: tuple) -> None:
        connection = self._writer_db()
        connection.execute("BEGIN IMMEDIATE")
        try:
            # In the order of the random index each table has (its rows' primary keys are distinct), so the
            # inserts walk that index's pages in turn instead of jumping (a million-row first send: 42 s, not 57).
            in_key_order = sorted(planned, key=_by_key)
            insert_rows(connection, "INSERT OR REPLACE INTO row_outcomes (run_id, row, key, outcome)", in_key_order)
            if unkeyed:  # one text for all of them: no tuple a row to bind, on this thread or the other
                connection.execute("INSERT OR REPLACE INTO row_outcomes (run_id, row, key, outcome) "
                                   "SELECT ?, value, NULL, ? FROM json_each(?)",
                                   (self.run_id, SKIPPED, "[" + ",".join(map(str, unkeyed)) + "]"))
            update_rows(connection, "row_outcomes", ["key"], ["run_id", "row"], keyed)
            update_rows(connection, "row_outcomes", ["outcome"], ["run_id", "row"], updates)
            if rejections:
                write_rejections(connection, rejections)
            upsert_diff_state(connection, digests)
            # Only where the payload is still the one it was compared with: digest and raw stay a pair.
            update_rows(connection, "diff_state", ["raw", "key"], ["scope", "identifier", "digest"], raws)
            confirm(connection, self.run_id, confirmed)  # with the diff state of the same rows
            event_ledger.write_answers(connection, self.scope, answers)  # with the outcomes of the same rows
            for submission in submissions:
                self._write_submission(connection, submission)
            connection.execute(_ADD_COUNTS, deltas)
            connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise

    def _writer_db(self) -> sqlite3.Connection:
        if self._writer_connection is None:
            self._writer_connection = connect(self.data_dir)
        return self._writer_connection

    def _write_submission(self, connection: sqlite3.Connection, submission: Submission) -> None:
        job = connection.execute(
            "INSERT INTO bulk_jobs (run_id, job_id, scope, rows, submitted_at, state, next_check_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.run_id, submission.job_id, self.scope, len(submission.profiles), submission.submitted_at,
             JOB_PENDING, submission.first_check_at),
        ).lastrowid
        insert_rows(connection, "INSERT OR REPLACE INTO job_rows (job, row, scope, identifier, digest, raw)",
                    sorted(((job, row, self.scope, identifier, digest, raw)
                            for row, identifier, digest, raw in submission.profiles), key=itemgetter(3)))

    def _close_writer(self) -> None:
        if self._writer_connection is not None:
            self._writer_connection.close()
            self._writer_connection = None


def _by_key(outcome: tuple[int, int, int | None, int]) -> int:
    return outcome[2] or 0


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # a full disk can refuse the rollback too
            connection.execute("ROLLBACK")
