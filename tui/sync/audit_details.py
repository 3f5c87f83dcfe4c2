"""What the audit ledger records about sends and exports (counts and settings, never identifiers)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.sync.engine import SendRequest, SendResult
from tui.sync.sources import SourceSpec


def send_started_details(request: SendRequest) -> dict[str, Any]:
    details: dict[str, Any] = {
        "source": _source_text(request.source), "sample": request.sample, "full": request.full,
        "rate": request.rate, "resume_run_id": request.resume_run_id, "retry_of": request.retry_of,
        "config_hash": request.destination.config_hash()}
    if request.allow_shrink:
        details["allow_shrink"] = True
    where = request.retry_filter
    if where is not None:  # a retry of the rows a filter shows: which filter (as an export records it)
        details["retry_filter"] = {"reason": where.reason, "status": where.status, "text": where.text}
    if request.send_constants:
        details["constants"] = dict(request.send_constants)
    if request.source_query is not None:
        details["query"] = request.source_query
    return details


def _source_text(source: SourceSpec | None) -> str | list[str] | None:
    if source is None or isinstance(source, Path):
        return None if source is None else str(source)
    return [str(part) for part in source]


def send_finished_details(result: SendResult, exit_code: int) -> dict[str, Any]:
    run = result.run
    details: dict[str, Any] = {
        "run_id": run.id, "mode": run.mode, "status": run.status, "exit_code": exit_code, "rows_read": run.rows_read,
        "accepted": run.accepted, "rejected": run.rejected, "invalid": run.invalid,
        "skipped_unchanged": run.skipped_unchanged, "failed": run.failed, "submitted": run.submitted,
        "unconfirmed": run.unconfirmed, "skipped_pending": run.skipped_pending,
    }
    if run.audience_left:  # leaves sent false on the destination's audience attribute
        details["left"] = run.audience_left
    return details


def export_details(run_id: int, path: str, rows: int, masked: bool, reason: str | None, status: int | None,
                   search: str | None) -> dict[str, Any]:
    # The search text may be an identifier: the entry says a text filter applied, not what it was.
    return {"run_id": run_id, "file": str(Path(path).resolve()), "rows": rows, "masked": masked,
            "filter": {"reason": reason, "status": status, "text": search is not None}}
