"""Audience membership sends: `audience = "NAME"` on a destination.

Every valid profile of the file carries NAME = true (ProfileBuilder adds it, so it is part of the
payload and its digest: unchanged members are diff-skipped). A send (not a sample, not a retry)
also computes at its start who leaves: the confirmed members (membership_state.py) whose identifier
is nowhere in the file. A member whose row is invalid this time is still in the export, so does not
leave. The leaves are stored with the run before anything is sent, so a resume sends exactly these,
and go out after the file's rows, through the same senders, as NAME = false.

Refusals, before the run exists:
- while a run carrying the audience still has bulk jobs pending: until Attentive's results are
  folded, who is a member is not known, and a leave computed now could be wrong;
- when more than `audience_shrink_limit` of the members would leave (a truncated export would tell
  Attentive that they left), unless the request allows the shrink.
A dry run and the preview compute the same counts and report the refusal a send would meet.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

from tui.settings.model import Destination
from tui.sync.history_schema import ACCEPTED, PENDING, UNCONFIRMED
from tui.sync.history_writer import RunRecorder
from tui.sync.membership_state import (
    AudienceRun,
    audience_run,
    awaiting,
    leaves_to_send,
    member_count,
    newer_audience_run,
    save_audience_run,
    save_leaves,
)
from tui.sync.profiles import Profile, ProfileBuilder, identifier_key, payload_digest
from tui.sync.sources import SourceInfo, SourceReader

SCAN_CHUNK = 2000


class MembershipRefused(Exception):
    """A send of an audience destination that must not start (the engine raises it as SendRefused;
    `shrinking`: the shrink guard's refusal, which each front end says how to override)."""

    def __init__(self, message: str, *, shrinking: bool = False):
        super().__init__(message)
        self.shrinking = shrinking


@dataclass(frozen=True)
class AudienceCounts:
    """What a membership send of a file does to the audience (crosses to the CLI and the console)."""
    audience: str
    members: int                 # confirmed members before it
    joins: int                   # valid profiles of the file not yet members (sent true)
    stays: int                   # valid profiles of the file that are members (true; skipped when unchanged)
    leaves: int                  # members absent from the file (sent false)
    limit: float                 # the destination's audience_shrink_limit
    refusal: str | None = None   # why a send would be refused (pending jobs, or too many leaves)
    shrinking: bool = False      # the refusal is the shrink guard's, which allow_shrink overrides
    label: str = ""              # how it is named to the operator: "audience 'VIP'" or "segment 'VIP' (externalId ...)"
    awaiting_run: int | None = None  # the refusal is this run's bulk jobs, still pending at Attentive

    @property
    def leave_share(self) -> float:
        return self.leaves / self.members if self.members else 0.0


@dataclass
class MembershipStart:
    """A run's membership, from its start to its record (engine._Plan keeps it)."""
    audience: str
    scope: int
    computed: bool               # leaves computed: a send or a dry run
    counts: AudienceCounts | None = None


def scope_of(connection: sqlite3.Connection, destination: str, environment: str) -> int | None:
    row = connection.execute("SELECT id FROM diff_scopes WHERE destination = ? AND environment = ?",
                             (destination, environment)).fetchone()
    return row[0] if row else None


def begin(connection: sqlite3.Connection, scope: int, destination: Destination, info: SourceInfo,
          builder: ProfileBuilder, *, compute: bool, allow_shrink: bool, dry_run: bool) -> MembershipStart | None:
    """A new run's membership: None when the destination has no audience. With `compute`, reads the
    file once and counts; MembershipRefused when a send must not go on (a dry run shows the refusal
    in `counts.refusal` instead). Leaves the file's keys in a temporary table for `record`."""
    audience = destination.audience
    if not audience:
        return None
    if not compute:
        return MembershipStart(audience, scope, False)
    counts = count(connection, scope, destination, info, builder, allow_shrink=allow_shrink)
    if counts.refusal is not None and not dry_run:
        raise MembershipRefused(counts.refusal, shrinking=counts.shrinking)
    return MembershipStart(audience, scope, True, counts)


def count(connection: sqlite3.Connection, scope: int | None, destination: Destination, info: SourceInfo,
          builder: ProfileBuilder, *, allow_shrink: bool = False) -> AudienceCounts:
    """Joins, stays and leaves of sending `info` now (also on a read-only connection)."""
    audience = destination.audience
    assert audience, "only a destination with an audience has members"
    label = members_label(destination)
    _scan(connection, info, builder)
    if scope is None:  # never sent: everyone valid joins
        valid = connection.execute("SELECT count(*) FROM temp.audience_file WHERE valid").fetchone()[0]
        return AudienceCounts(audience, 0, valid, 0, 0, destination.audience_shrink_limit, label=label)
    members = member_count(connection, scope, audience)
    valid, stays = connection.execute(
        "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM audience_members m WHERE m.scope = ? AND m.audience = ? "
        "AND m.key = f.key)), 0) FROM temp.audience_file f WHERE f.valid", (scope, audience)).fetchone()
    leaves = connection.execute(
        "SELECT count(*) FROM audience_members WHERE scope = ? AND audience = ? "
        "AND key NOT IN (SELECT key FROM temp.audience_file)", (scope, audience)).fetchone()[0]
    counts = AudienceCounts(audience, members, valid - stays, stays, leaves, destination.audience_shrink_limit,
                            label=label)
    pending = awaiting(connection, scope, audience)
    if pending is not None:
        run_id, jobs = pending
        refusal = (f"run {run_id} (it changes {label}) is still awaiting Attentive's results for {jobs} "
                   f"bulk job{'s' if jobs != 1 else ''}, so who is a member is not known yet; wait for them with "
                   f"`attentive-console jobs --run {run_id} --wait` (or keep the console open), then send again")
        return dataclasses.replace(counts, refusal=refusal, awaiting_run=run_id)
    if members and counts.leave_share > counts.limit and not allow_shrink:
        refusal = (f"{leaves:,} of the {members:,} members of {label} would leave "
                   f"({counts.leave_share:.0%}, above the {counts.limit:.0%} limit of destination "
                   f"{destination.name!r}): a truncated export would tell Attentive they left. Nothing was sent; "
                   "if the export really is smaller, allow the shrink")
        return dataclasses.replace(counts, refusal=refusal, shrinking=True)
    return counts


def members_label(destination: Destination) -> str:
    """The audience attribute, or the segment (whose externalId is the destination's bound audience)."""
    if destination.segment is not None:
        return f"segment {destination.segment.name!r} (externalId {destination.audience})"
    return f"audience {destination.audience!r}"


def _scan(connection: sqlite3.Connection, info: SourceInfo, builder: ProfileBuilder) -> None:
    """The file's identifier keys into temp.audience_file: valid = 1 when a row with the key would be
    sent. In SQLite, not in memory: a million-member audience is compared there."""
    connection.execute("DROP TABLE IF EXISTS temp.audience_file")
    connection.execute("CREATE TEMP TABLE audience_file (key INTEGER PRIMARY KEY, valid INTEGER NOT NULL)")
    insert = ("INSERT INTO temp.audience_file (key, valid) VALUES (?, ?) "
              "ON CONFLICT (key) DO UPDATE SET valid = max(valid, excluded.valid)")
    connection.execute("BEGIN")
    try:
        with closing(SourceReader(info, builder.columns).chunks(SCAN_CHUNK)) as chunks:
            for chunk in chunks:
                keys: list[tuple[int, int]] = []
                for source in chunk:
                    built = builder.build(source)
                    if isinstance(built, Profile):
                        keys.append((built.key, 1))
                    else:
                        key = builder.key_of(source)
                        if key is not None:
                            keys.append((key, 0))
                connection.executemany(insert, keys)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def record(connection: sqlite3.Connection, run_id: int, start: MembershipStart, *, dry_run: bool) -> int:
    """Store the run's membership and, for a send, its leaves (one transaction, before anything is
    sent); returns the leaves (a dry run: those it would send)."""
    counts = start.counts
    leaves = counts.leaves if counts is not None else 0
    connection.execute("BEGIN IMMEDIATE")
    try:
        if start.computed and not dry_run:
            leaves = save_leaves(connection, run_id, start.scope, start.audience)
        save_audience_run(connection, AudienceRun(
            run_id, start.scope, start.audience, start.computed, counts.members if counts else 0,
            counts.joins if counts else 0, counts.stays if counts else 0, leaves))
        connection.execute("UPDATE runs SET audience_left = ? WHERE id = ?", (leaves, run_id))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("DROP TABLE IF EXISTS temp.audience_file")
    return leaves


def resumed(connection: sqlite3.Connection, run_id: int, destination: Destination) -> MembershipStart | None:
    """The membership of a run being resumed, or the reason (raised by the caller) it cannot be."""
    if not destination.audience:
        return None
    found = audience_run(connection, run_id)
    if found is None:
        raise MembershipRefused(f"run {run_id} stopped before its audience membership was recorded, so nothing of it was "
                         "sent; start a new send of the file instead")
    newer = newer_audience_run(connection, found) if found.computed else None
    if newer is not None:
        raise MembershipRefused(f"run {newer} changed audience {found.audience!r} after run {run_id} computed who leaves, so "
                         f"run {run_id}'s leaves are out of date; start a new send of the file instead of resuming")
    counts = AudienceCounts(found.audience, found.members, found.joins, found.stays, found.leaves,
                            destination.audience_shrink_limit, label=members_label(destination))
    return MembershipStart(found.audience, found.scope, found.computed, counts)


def leave_chunks(connection: sqlite3.Connection, run_id: int, audience: str, recorder: RunRecorder,
                 size: int) -> Iterator[list[Profile]]:
    """The run's leaves still to send, as profiles (audience = false), each recorded as pending when
    it is handed out. A leave in flight when the run stopped was counted then: not counted again."""
    leaves = leaves_to_send(connection, run_id)
    for start in range(0, len(leaves), size):
        profiles = []
        for row, identifier, planned in leaves[start:start + size]:
            recorder.plan(row, None, PENDING)
            if not planned:
                recorder.counts.rows_read += 1
            profiles.append(_leave(row, identifier, audience))
        yield profiles


def leave_profiles(connection: sqlite3.Connection, run_id: int, audience: str, limit: int) -> list[Profile]:
    """Leaves of a run that Attentive may hold (accepted or unconfirmed), as sent: what a read-back checks."""
    return [_leave(row, identifier, audience) for row, identifier in connection.execute(
        "SELECT l.row, l.identifier FROM audience_leaves l JOIN row_outcomes o ON o.run_id = l.run_id AND o.row = l.row "
        "WHERE l.run_id = ? AND o.outcome IN (?, ?) ORDER BY l.row LIMIT ?", (run_id, ACCEPTED, UNCONFIRMED, limit))]


def _leave(row: int, identifier: str, audience: str) -> Profile:
    attributes = {audience: False}
    return Profile(row, identifier, attributes, payload_digest(identifier, attributes), identifier_key(identifier))
