"""Gathering what the promotion gates judge: the latest sandbox test send from the history store,
and the production credential's connection test."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from tui.settings.connection import check_connection
from tui.settings.model import KIND_ENDPOINTS, SEND_ONCE_KINDS, Environment
from tui.settings.promotion_gates import CredentialCheck, SampleSendEvidence, VerificationEvidence
from tui.sync.history import HistoryStore
from tui.sync.job_store import JobStore


def latest_test_send(data_dir: Path, destination: str) -> SampleSendEvidence | None:
    """The newest finished sandbox `send --sample` run of the destination, with its newest
    read-back. The threshold share is the history store's own, the one the send's exit code uses."""
    with HistoryStore(data_dir, readonly=True) as history:
        run = history.latest_test_send(destination, "sandbox")
        if run is None:
            return None
        check = history.latest_verification(run.id)
        jobs = JobStore(history.connection)
        jobs_pending = jobs.pending_counts([run.id]).get(run.id, 0)
        scheduled = jobs.read_back_of(run.id) is not None
    return SampleSendEvidence(
        run_id=run.id,
        started_at=datetime.fromtimestamp(run.started_at, timezone.utc).isoformat(),
        config_hash=run.config_hash,
        status=run.status,
        sample_size=run.sample_size or 0,
        attempted=run.rows_read,
        rejected=run.problem_rows,
        verification=(VerificationEvidence(check.checked, check.mismatched, check.missing, check.verdict)
                      if check else None),
        jobs_pending=jobs_pending,
        read_back_scheduled=scheduled,
        sends_once=run.endpoint in {KIND_ENDPOINTS[kind] for kind in SEND_ONCE_KINDS},
        segment=run.endpoint == KIND_ENDPOINTS["segment"],
        accepted=run.accepted,
        unknown=run.unknown,
        unconfirmed=run.unconfirmed,
        failed=run.failed,
    )


def check_production_credential(environment: Environment, credential: str, *, secrets_file: Path,
                                data_dir: Path) -> CredentialCheck:
    """Tests the credential's connection (GET /v1/me and a read) exactly as `credentials test` does."""
    result = check_connection(environment, credential, secrets_file=secrets_file, data_dir=data_dir)
    if result.ok:
        return CredentialCheck(True, f"company {result.company_name!r}, application {result.application_name!r}")
    return CredentialCheck(False, result.reason,
                           f"once fixed, check it: attentive-console credentials test {credential} --env {environment.name}")
