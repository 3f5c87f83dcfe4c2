"""What an operator does with a run once it exists: read back and compare it, look at its
rejections as their access allows, export them. The same checks and the same audit entry for the
CLI (`verify`, `rejections`) and the console (History, the run panel)."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.core.workspace import Workspace
from tui.settings.audit import record
from tui.settings.connection import resolve_target
from tui.settings.ledger import Action
from tui.sync.audit_details import export_details
from tui.sync.history import HistoryStore, RunRecord, Verification
from tui.sync.job_store import JobStore
from tui.sync.rejection_export import export_csv, shown_fields
from tui.sync.rejections import Rejection, RejectionFilter, RejectionLog
from tui.sync.verify import CannotVerify, verify_run

READ_BACK_MAX = 100   # profiles one verify reads back (GET /v1/attributes/custom is paced per profile)


class ResultsPending(CannotVerify):
    """The run's bulk jobs are still processing: there is nothing settled to read back yet."""


def verify(workspace: Workspace, run_id: int, *, limit: int = READ_BACK_MAX) -> tuple[RunRecord, Verification]:
    """Read back what a run sent and compare it; the verification is recorded, since promotion reads
    it, so a read-only session is refused. Raises CannotVerify (ResultsPending while jobs process)
    and FatalAttentiveError (a refused key, an unreachable server)."""
    run = workspace.run(run_id)
    target = workspace.target(run.environment, run.destination, "verify")
    target.operator.require_writable("verify")
    if not target.destination.reads_back:
        raise CannotVerify(f"{run.destination} is a {target.destination.kind} destination: Attentive has no endpoint "
                           f"that reads back what run {run.id} sent, so promotion judges its test send by Attentive's "
                           "answers instead")
    connection = resolve_target(target.environment, target.destination.credential,
                                secrets_file=workspace.secrets_file, data_dir=workspace.data_dir)
    with HistoryStore(workspace.data_dir) as store:
        pending = JobStore(store.connection).pending_counts([run.id]).get(run.id, 0)
        if pending:
            raise ResultsPending(f"run {run.id}: {pending} bulk job(s) still processing at Attentive; the read-back "
                                 f"needs their results first: attentive-console jobs --run {run.id} --wait")
        verification = asyncio.run(verify_run(store, run, target.destination, connection.base_url,
                                              connection.api_key, limit=max(1, min(limit, READ_BACK_MAX))))
    return run, verification


def identifiers_masked(workspace: Workspace, run: RunRecord) -> bool:
    """Operators with restricted PII access see identifiers masked, wherever they are shown."""
    return workspace.operator_in(workspace.load_environment(run.environment)).restricted_pii


def shown(rejections: Sequence[Rejection], masked: bool) -> list[Rejection]:
    """The rejections as the operator may see them: masking reaches into the messages too."""
    if not masked:
        return list(rejections)
    out = []
    for rejection in rejections:
        identifier, message = shown_fields(rejection, True)
        out.append(dataclasses.replace(rejection, identifier=identifier or None, message=message or None))
    return out


@dataclass(frozen=True)
class Exported:
    rows: int
    masked: bool


def export_rejections(workspace: Workspace, run_id: int, where: RejectionFilter, path: Path, *,
                      masked: bool, overwrite: bool) -> Exported:
    """Write the matching rejections to a CSV and record rejections.exported. An operator with
    restricted PII access may export only masked (they are refused unmasked, never silently masked)."""
    run = workspace.run(run_id)
    if not masked:
        workspace.operator_in(workspace.load_environment(run.environment)).require_unmasked_export()
    with HistoryStore(workspace.data_dir, readonly=True) as store:
        rows = export_csv(path, RejectionLog(store.connection, run.id), where, masked=masked, overwrite=overwrite)
    record(workspace, Action.REJECTIONS_EXPORTED, run.destination, environment=run.environment,
           details=export_details(run.id, str(path), rows, masked, where.reason, where.status, where.text))
    return Exported(rows, masked)
