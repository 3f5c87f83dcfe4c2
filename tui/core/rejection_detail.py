"""One rejection with everything known about it, as the operator may see it: the row, the full
identifier, reason, HTTP status and message, and the source row's values as the send read them.

The history keeps no payloads (only outcomes, and digests for the diff), so the values are read
again from the run's source file by row number, and only when the file is still there and its
hash is the run's: a changed file would show another record under the same row number. Masking is
the log's (`runs.identifiers_masked`, `runs.shown`): for a restricted-PII operator the identifier,
the message that quotes it and every value of an identifier column are masked.
"""
from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass

from tui.core.runs import identifiers_masked, shown
from tui.core.workspace import Workspace
from tui.settings.access import mask_identifier
from tui.settings.errors import SettingsError
from tui.settings.model import Destination
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.membership_state import is_leave_row, leave_number
from tui.sync.profiles import ProfileBuilder
from tui.sync.rejections import Rejection, RejectionLog
from tui.sync.run_inputs import run_destination, run_source
from tui.sync.sources import SourceError, SourceInfo, SourceReader, inspect_source

READ_CHUNK = 2000


@dataclass(frozen=True)
class RejectionDetail:
    run_id: int
    destination: str
    environment: str
    rejection: Rejection                            # as the operator may see it
    masked: bool
    source_place: str                               # "row 12 of /path", with its part when the source has several
    values: tuple[tuple[str, str], ...] | None      # (column, value) the send read, masked like the log
    unavailable: str | None = None                  # why `values` is None


def rejection_detail(workspace: Workspace, run_id: int, rejection_id: int) -> RejectionDetail:
    run = workspace.run(run_id)
    with HistoryStore(workspace.data_dir, readonly=True) as store:
        raw = RejectionLog(store.connection, run.id).get(rejection_id)
    if raw is None:
        raise SettingsError(f"run {run.id} has no rejection {rejection_id}")
    masked = identifiers_masked(workspace, run)
    values, why, place = _source_values(workspace, run, raw, masked)
    return RejectionDetail(run.id, run.destination, run.environment, shown([raw], masked)[0], masked,
                           place, values, why)


def _source_values(workspace: Workspace, run: RunRecord, raw: Rejection,
                   masked: bool) -> tuple[tuple[tuple[str, str], ...] | None, str | None, str]:
    """The row's values read again from the run's file, or None and why not; and where the row is."""
    if is_leave_row(raw.row):  # a member absent from the file: there is no line to read again
        return (None, "a leave: a member of the audience absent from this run's source, sent false; it has no "
                "line in the source", f"leave {leave_number(raw.row):,} (not in {run.source_path})")
    place = f"row {raw.row:,} of {run.source_path}"
    configured = workspace.load_environment(run.environment).destinations.get(run.destination)
    if configured is None:
        return None, f"the destination {run.destination!r} is no longer configured, so its columns are unknown", place
    destination = run_destination(configured, run)
    if destination.config_hash() != run.config_hash:
        return None, (f"the destination {run.destination!r} changed since this run, so today's mapping "
                      "would not show what was sent"), place
    try:
        info = inspect_source(run_source(run))
    except SourceError as error:
        return None, f"the source cannot be read again: {error}", place
    if info.sha256 != run.source_hash:
        return None, (f"the source {run.source_path} changed since the run read it, so row {raw.row} may be another "
                      "record"), place
    place = f"{info.describe_row(raw.row)} of {run.source_path}"
    found = _read_row(info, destination, raw, masked)
    return (found, None, place) if isinstance(found, tuple) else (None, found, place)


def _read_row(info: SourceInfo, destination: Destination, raw: Rejection,
              masked: bool) -> tuple[tuple[str, str], ...] | str:
    columns = ProfileBuilder(destination).columns
    hidden = set(destination.identifiers.values()) if masked else set()
    with closing(SourceReader(info, columns).chunks(READ_CHUNK)) as chunks:
        for chunk in chunks:
            if chunk and chunk[-1].row < raw.row:
                continue
            for item in chunk:
                if item.row == raw.row:
                    if item.problem:
                        return f"row {raw.row} could not be read: {item.problem}"
                    return tuple((column, _shown_value(column, value, hidden, raw.identifier if masked else None))
                                 for column, value in zip(columns, item.values))
                if item.row > raw.row:
                    break
            else:
                continue
            break
    return f"the source has no record at row {raw.row}"


def _shown_value(column: str, value: object, hidden: set[str], identifier: str | None) -> str:
    text = "" if value is None else str(value)
    if column in hidden and text:
        return mask_identifier(text)
    if identifier and identifier in text:
        return text.replace(identifier, mask_identifier(identifier))
    return text
