"""The event ledger: every event sent to a scope (destination, environment), by its deterministic
id, so that each is sent once.

An event's id is a UUIDv5 of the destination's name and its event key's values (custom events send
it as `externalEventId`; purchases have no such field, so it only keys the ledger). The same event in
a later file, a re-run or a resume has the same id.

States: IN_FLIGHT is committed before the request leaves (RunRecorder.mark_in_flight); the answer
makes it SENT (2xx), UNKNOWN (no answer that says whether it arrived), or deletes it (a 4xx, or a
request that provably never reached Attentive: the event may be sent again). A mark still IN_FLIGHT
when a send of the scope starts belongs to a process that died mid-request (the send lock keeps two
sends of one scope apart): it becomes UNKNOWN, with its rows (`settle_orphans`).
"""
from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence

from tui.sync import reasons
from tui.sync.history_schema import UNKNOWN
from tui.sync.rejection_index import write_rejections
from tui.sync.sql_rows import rows_in

IN_FLIGHT, SENT, UNKNOWN_STATE = 1, 2, 3
# Fixed for ever: changing it would give every event a new id and send it again.
NAMESPACE = uuid.UUID("5b0c2a57-2f0e-4f55-9a8e-6a1f3b2c7d10")
_SEPARATOR = "\x1f"   # the ASCII unit separator: cannot occur in a trimmed CSV value by accident

ORPHAN_MESSAGE = ("in flight when run {run} stopped (killed, or the machine went down): it may or may not have "
                  "reached Attentive, so it is not sent again on its own; check in Attentive, then "
                  "`attentive-console retry {run} --include-unknown` sends it (custom events with the same externalEventId)")


def event_id(destination: str, key: Sequence[str]) -> str:
    """The event's deterministic id: the same destination and key values give the same UUID."""
    return str(uuid.uuid5(NAMESPACE, _SEPARATOR.join((destination, *key))))


def states(connection: sqlite3.Connection, scope: int, ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """event id -> (state, run id) for the ids the ledger holds."""
    return {event: (state, run) for event, state, run in rows_in(
        connection, "SELECT event_id, state, run_id FROM event_ledger WHERE scope = ? AND event_id IN ({marks})",
        (scope,), ids)}


def write_marks(connection: sqlite3.Connection, scope: int, run_id: int, marks: Iterable[tuple[str, Sequence[int]]]) -> None:
    """(event id, rows) now IN_FLIGHT for `run_id`, inside the caller's transaction."""
    now = time.time()
    connection.executemany(
        "INSERT INTO event_ledger (scope, event_id, state, run_id, rows, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (scope, event_id) DO UPDATE SET state = excluded.state, run_id = excluded.run_id, "
        "rows = excluded.rows, updated_at = excluded.updated_at",
        [(scope, event, IN_FLIGHT, run_id, ",".join(map(str, rows)), now) for event, rows in marks])


def write_answers(connection: sqlite3.Connection, scope: int, answers: Iterable[tuple[str, int | None]]) -> None:
    """(event id, SENT | UNKNOWN_STATE | None) inside the caller's transaction; None deletes the mark."""
    now = time.time()
    kept, dropped = [], []
    for event, state in answers:
        if state is None:
            dropped.append((scope, event))
        else:
            kept.append((state, now, scope, event))
    if kept:
        connection.executemany("UPDATE event_ledger SET state = ?, updated_at = ? WHERE scope = ? AND event_id = ?", kept)
    if dropped:
        connection.executemany("DELETE FROM event_ledger WHERE scope = ? AND event_id = ?", dropped)


def settle_orphans(connection: sqlite3.Connection, scope: int) -> list[int]:
    """Marks left IN_FLIGHT by a process that died become UNKNOWN, and so do their rows (with a
    rejection entry saying why). Call holding the scope's send lock. Returns the runs changed (their
    counters need a recount)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        orphans = connection.execute(
            "SELECT event_id, run_id, rows FROM event_ledger WHERE scope = ? AND state = ?", (scope, IN_FLIGHT)).fetchall()
        rows = [(run, int(row)) for _, run, text in orphans for row in text.split(",")]
        connection.executemany("INSERT OR REPLACE INTO row_outcomes (run_id, row, key, outcome) VALUES (?, ?, NULL, ?)",
                               [(run, row, UNKNOWN) for run, row in rows])
        write_rejections(connection, [(run, row, reasons.EVENT_UNKNOWN, None, None, ORPHAN_MESSAGE.format(run=run))
                                      for run, row in rows])
        connection.execute("UPDATE event_ledger SET state = ?, updated_at = ? WHERE scope = ? AND state = ?",
                           (UNKNOWN_STATE, time.time(), scope, IN_FLIGHT))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return sorted({run for run, _ in rows})
