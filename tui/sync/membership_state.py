"""Audience membership in the history: who is a confirmed member, and how confirmations change it.

Membership follows Attentive's confirmations, never the sending: a `true` accepted (a v1 200, or a
bulk job's result line) makes a member, a `false` accepted (a leave) ends it. Both are folded in the
transaction that writes the diff state for the same rows (history_writer.py for v1, job_store.py for
bulk jobs), so each is counted exactly once, across processes and kill -9. A row of a run that
carries the audience is a leave when its number is LEAVE_ROW_BASE or more: leaves have no source line,
and no file has a trillion lines.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from tui.sync.history_schema import JOB_PENDING, PENDING
from tui.sync.profiles import identifier_key
from tui.sync.sql_rows import insert_rows

LEAVE_ROW_BASE = 1_000_000_000_000


def is_leave_row(row: int) -> bool:
    return row >= LEAVE_ROW_BASE


def leave_number(row: int) -> int:
    """1 for the first leave of a run: how a leave row is shown (it has no line in the file)."""
    return row - LEAVE_ROW_BASE + 1


@dataclass(frozen=True)
class AudienceRun:
    """A run that carries an audience attribute, with what its start computed."""
    run_id: int
    scope: int
    audience: str
    computed: bool               # leaves computed (a send or dry run); False for a sample or a retry
    members: int
    joins: int
    stays: int
    leaves: int


_COLUMNS = "run_id, scope, audience, computed, members, joins, stays, leaves"


def audience_run(connection: sqlite3.Connection, run_id: int) -> AudienceRun | None:
    row = connection.execute(f"SELECT {_COLUMNS} FROM audience_runs WHERE run_id = ?", (run_id,)).fetchone()
    return AudienceRun(row[0], row[1], row[2], bool(row[3]), *row[4:]) if row else None


def save_audience_run(connection: sqlite3.Connection, run: AudienceRun) -> None:
    connection.execute(f"INSERT OR REPLACE INTO audience_runs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (run.run_id, run.scope, run.audience, int(run.computed), run.members, run.joins, run.stays,
                        run.leaves))


def member_count(connection: sqlite3.Connection, scope: int, audience: str) -> int:
    return connection.execute("SELECT count(*) FROM audience_members WHERE scope = ? AND audience = ?",
                              (scope, audience)).fetchone()[0]


def is_member(connection: sqlite3.Connection, scope: int, audience: str, identifier: str) -> bool:
    return connection.execute("SELECT 1 FROM audience_members WHERE scope = ? AND audience = ? AND key = ?",
                              (scope, audience, identifier_key(identifier))).fetchone() is not None


def confirm(connection: sqlite3.Connection, run_id: int, accepted: Sequence[tuple[int, str]]) -> None:
    """Rows of a run Attentive accepted, as (row, identifier): joins and stays become members, leaves
    stop being ones. Call inside the transaction that records the acceptance; a run that carries no
    audience changes nothing."""
    if not accepted:
        return
    found = connection.execute("SELECT scope, audience FROM audience_runs WHERE run_id = ?", (run_id,)).fetchone()
    if found is None:
        return
    scope, audience = found
    insert_rows(connection, "INSERT INTO audience_members (scope, audience, key, identifier)",
                [(scope, audience, identifier_key(identifier), identifier) for row, identifier in accepted
                 if not is_leave_row(row)],
                "ON CONFLICT (scope, audience, key) DO UPDATE SET identifier = excluded.identifier")
    connection.executemany(
        "DELETE FROM audience_members WHERE scope = ? AND audience = ? AND key = ?",
        [(scope, audience, identifier_key(identifier)) for row, identifier in accepted if is_leave_row(row)])


def awaiting(connection: sqlite3.Connection, scope: int, audience: str) -> tuple[int, int] | None:
    """(run id, jobs pending) of the newest run carrying the audience whose bulk jobs Attentive is
    still processing: until they resolve, who is a member is not known."""
    row = connection.execute(
        "SELECT a.run_id, count(*) FROM audience_runs a JOIN bulk_jobs j ON j.run_id = a.run_id "
        "WHERE a.scope = ? AND a.audience = ? AND j.state = ? GROUP BY a.run_id ORDER BY a.run_id DESC LIMIT 1",
        (scope, audience, JOB_PENDING)).fetchone()
    return (row[0], row[1]) if row else None


def newer_audience_run(connection: sqlite3.Connection, run: AudienceRun) -> int | None:
    """A later run (not a dry run) that changed the same audience, if any: after it, `run`'s stored
    leaves are out of date."""
    row = connection.execute(
        "SELECT a.run_id FROM audience_runs a JOIN runs r ON r.id = a.run_id WHERE a.scope = ? AND a.audience = ? "
        "AND a.run_id > ? AND r.mode != 'dry-run' ORDER BY a.run_id LIMIT 1",
        (run.scope, run.audience, run.run_id)).fetchone()
    return row[0] if row else None


def save_leaves(connection: sqlite3.Connection, run_id: int, scope: int, audience: str) -> int:
    """Store as `run_id`'s leaves the members whose key is not in temp.audience_file (the file's
    identifiers), numbered from LEAVE_ROW_BASE in identifier order; returns how many."""
    cursor = connection.execute(
        "INSERT INTO audience_leaves (run_id, row, identifier) "
        "SELECT ?, ? + row_number() OVER (ORDER BY m.identifier) - 1, m.identifier FROM audience_members m "
        "WHERE m.scope = ? AND m.audience = ? AND m.key NOT IN (SELECT key FROM temp.audience_file)",
        (run_id, LEAVE_ROW_BASE, scope, audience))
    return cursor.rowcount


def leaves_to_send(connection: sqlite3.Connection, run_id: int) -> list[tuple[int, str, bool]]:
    """(row, identifier, planned before) of the run's leaves with no outcome yet, or pending (in
    flight when the run stopped: sent again, as the file's rows are)."""
    return [(row, identifier, bool(planned)) for row, identifier, planned in connection.execute(
        "SELECT l.row, l.identifier, o.outcome IS NOT NULL FROM audience_leaves l LEFT JOIN row_outcomes o "
        "ON o.run_id = l.run_id AND o.row = l.row WHERE l.run_id = ? AND (o.outcome IS NULL OR o.outcome = ?) "
        "ORDER BY l.row", (run_id, PENDING))]

