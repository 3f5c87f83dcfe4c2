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
from pathlib import Path

from tui.core.runs import identifiers_masked, shown
from tui.core.workspace import Workspace
from tui.settings.access import mask_identifier
from tui.settings.errors import SettingsError
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.profiles import ProfileBuilder
from tui.sync.rejections import Rejection, RejectionLog
from tui.sync.sources import SourceError, SourceReader, inspect_source

READ_CHUNK = 2000


@dataclass(frozen=True)
class RejectionDetail:
    run_id: int
    destination: str
    environment: str
    rejection: Rejection                            # as the operator may see it
    masked: bool
    source_path: str
    values: tuple[tuple[str, str], ...] | None      # (column, value) the send read, masked like the log
    unavailable: str | None = None                  # why `values` is None


def rejection_detail(workspace: Workspace, run_id: int, rejection_id: int) -> RejectionDetail:
    run = workspace.run(run_id)
    with HistoryStore(workspace.data_dir, readonly=True) as store:
        raw = RejectionLog(store.connection, run.id).get(rejection_id)
    if raw is None:
        raise SettingsError(f"run {run.id} has no rejection {rejection_id}")
    masked = identifiers_masked(workspace, run)
    values, why = _source_values(workspace, run, raw, masked)
    return RejectionDetail(run.id, run.destination, run.environment, shown([raw], masked)[0], masked,
                           run.source_path, values, why)


def _source_values(workspace: Workspace, run: RunRecord, raw: Rejection,
                   masked: bool) -> tuple[tuple[tuple[str, str], ...] | None, str | None]:
    """The row's values read again from the run's file, or None and why not."""
    destination = workspace.load_environment(run.environment).destinations.get(run.destination)
    if destination is None:
        return None, f"the destination {run.destination!r} is no longer configured, so its columns are unknown"
    if destination.config_hash() != run.config_hash:
        return None, (f"the destination {run.destination!r} changed since this run, so today's mapping "
                      "would not show what was sent")
    path = Path(run.source_path)
    if not path.exists():
        return None, f"the source file {path} is no longer there"
    try:
        info = inspect_source(path)
    except SourceError as error:
        return None, f"the source file cannot be read: {error}"
    if info.sha256 != run.source_hash:
        return None, f"the source file {path} changed since the run read it, so row {raw.row} may be another record"
    columns = ProfileBuilder(destination).columns
    hidden = set(destination.identifiers.values()) if masked else set()
    with closing(SourceReader(info, columns).chunks(READ_CHUNK)) as chunks:
        for chunk in chunks:
            if chunk and chunk[-1].row < raw.row:
                continue
            for item in chunk:
                if item.row == raw.row:
                    if item.problem:
                        return None, f"row {raw.row} could not be read: {item.problem}"
                    return tuple((column, _shown_value(column, value, hidden, raw.identifier if masked else None))
                                 for column, value in zip(columns, item.values)), None
                if item.row > raw.row:
                    break
            else:
                continue
            break
    return None, f"the source file has no record at row {raw.row}"


def _shown_value(column: str, value: object, hidden: set[str], identifier: str | None) -> str:
    text = "" if value is None else str(value)
    if column in hidden and text:
        return mask_identifier(text)
    if identifier and identifier in text:
        return text.replace(identifier, mask_identifier(identifier))
    return text
