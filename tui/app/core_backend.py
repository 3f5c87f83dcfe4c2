"""The console's backend over the real core: the same functions the CLI calls, with the same
access checks and audit entries."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tui.app.backend import ConnectionReport, RunRow
from tui.app.config_edits import ConfigEdits
from tui.app.send_preview import SendPreview, build_preview
from tui.app.history_source import StoreRejections
from tui.app.session import Session
from tui.attentive.secret import ApiKey
from tui.settings.audit import record
from tui.sync.audit_details import send_finished_details, send_started_details
from tui.sync.lock import shown_status
from tui.sync.rejection_export import export_csv
from tui.settings.connection import check_connection, resolve_target
from tui.cli.send_cmd import exit_code
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action, Ledger, LedgerEntry, VerifyResult
from tui.settings.loader import load_environment
from tui.settings.model import Destination, Environment, EnvironmentName
from tui.settings.promotion import PromotionPlan, PromotionResult, plan_promotion, promote
from tui.sync.engine import SendRequest, SendResult
from tui.sync.verify import verify_run
from tui.sync.follow_targets import follow_resolver
from tui.sync.history import HistoryStore, RunRecord, Verification
from tui.sync.history_schema import JOB_PENDING, history_path
from tui.sync.job_store import JobLine, JobRecord, JobStore
from tui.sync.jobs import JobFollower
from tui.sync.rejections import Rejection, RejectionFilter
from tui.sync.sample_audience import SAMPLE_PATH


@dataclass
class CoreBackend(ConfigEdits):
    session: Session

    def load_environment(self, name: EnvironmentName) -> Environment:
        return load_environment(self.session.config_dir, name)

    def test_connection(self, environment: Environment, credential: str) -> ConnectionReport:
        result = check_connection(environment, credential, secrets_file=self.session.secrets_file,
                                  data_dir=self.session.data_dir)
        if result.ok:
            return ConnectionReport(credential, True, f"{result.company_name} ({result.application_name})")
        return ConnectionReport(credential, False, result.reason)

    def runs(self, environment: EnvironmentName) -> Sequence[RunRow]:
        data_dir = self.session.data_dir
        with HistoryStore(data_dir, readonly=True) as store:
            jobs = JobStore(store.connection)
            views = []
            for run in store.list_runs(environment=environment):
                states = jobs.state_counts(run_ids=[run.id]) if run.endpoint == "bulk" else {}
                views.append(RunRow(run.id, run.destination, run.environment, shown_status(run, data_dir),
                                    datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M"),
                                    run.rows_read, run.accepted, run.rejected, run.invalid,
                                    run.skipped_unchanged, self._read_back(store, jobs, run), run.mode,
                                    run.failed, run.submitted, run.unconfirmed, sum(states.values()),
                                    states.get(JOB_PENDING, 0)))
            return views

    @staticmethod
    def _read_back(store: HistoryStore, jobs: JobStore, run: RunRecord) -> str | None:
        """The latest read-back's verdict and counts; "pending" while one is scheduled but not yet tried."""
        if run.mode == "dry-run":
            return None
        verification = store.latest_verification(run.id)
        if verification is not None:
            return f"{verification.verdict} {verification.matched}/{verification.checked}"
        return "pending" if jobs.read_back_of(run.id) is not None else None

    def job_follower(self, environment: EnvironmentName) -> JobFollower:
        session = self.session
        return JobFollower(session.data_dir, follow_resolver(session.config_dir, session.secrets_file,
                                                             session.data_dir), environment=environment)

    def run_jobs(self, run_id: int) -> Sequence[JobRecord]:
        with HistoryStore(self.session.data_dir, readonly=True) as store:
            return JobStore(store.connection).jobs(run_ids=[run_id])

    def job_lines(self, job: int) -> Sequence[JobLine]:
        with HistoryStore(self.session.data_dir, readonly=True) as store:
            return JobStore(store.connection).lines(job)

    def rejection_source(self, run_id: int) -> StoreRejections:
        return StoreRejections(self.session.data_dir, run_id)

    def latest_rejections(self, run_id: int, limit: int) -> Sequence[Rejection]:
        log = StoreRejections(self.session.data_dir, run_id).log()
        everything = RejectionFilter()
        return log.page(everything, limit=limit, offset=max(0, log.count(everything) - limit))

    def export_rejections(self, run_id: int, where: RejectionFilter, path: Path, *, masked: bool,
                          overwrite: bool) -> int:
        log = StoreRejections(self.session.data_dir, run_id).log()
        count = export_csv(path, log, where, masked=masked, overwrite=overwrite)
        record(self.context, Action.REJECTIONS_EXPORTED, str(run_id),
               details={"path": str(path), "rows": count, "masked": masked})
        return count

    def send_request(self, environment: Environment, destination: str, source: Path, *,
                     sample: int | None, dry_run: bool) -> SendRequest:
        """Checks and resolves a send as `attentive-console send` does; raises with the reason."""
        target = environment.destinations[destination]
        operator = self.operator(environment)
        operator.require_destination(target, "send")
        request = SendRequest(environment=environment.name, destination=target, source=source,
                              operator=self.session.operator, data_dir=self.session.data_dir,
                              sample=sample, dry_run=dry_run)
        if dry_run:
            return request
        operator.require_writable("send")
        connection = resolve_target(environment, target.credential, secrets_file=self.session.secrets_file,
                                    data_dir=self.session.data_dir)
        request = dataclasses.replace(request, base_url=connection.base_url, api_key=connection.api_key)
        return self._started(environment, request, connection.api_key)

    def retry_request(self, run_id: int) -> SendRequest:
        """`attentive-console retry RUN_ID`: only the rejected and failed rows of a run, as a new run."""
        run = self._run(run_id)
        environment = self.load_environment(run.environment)  # type: ignore[arg-type]
        target = self._destination(environment, run.destination, "retry")
        self.operator(environment).require_writable("retry")
        connection = resolve_target(environment, target.credential, secrets_file=self.session.secrets_file,
                                    data_dir=self.session.data_dir)
        request = SendRequest(environment=run.environment, destination=target, source=None,
                              operator=self.session.operator, data_dir=self.session.data_dir, retry_of=run.id,
                              base_url=connection.base_url, api_key=connection.api_key)
        return self._started(environment, request, connection.api_key)

    def _started(self, environment: Environment, request: SendRequest, key: ApiKey) -> SendRequest:
        record(self.context, Action.SEND_STARTED, request.destination.name, environment=environment.name,
               details=send_started_details(request), secrets=[key])
        return request

    def send_finished(self, result: SendResult, destination: Destination) -> None:
        """The send.finished audit entry the CLI writes, with the exit code the CLI would return."""
        if result.run.mode == "dry-run":
            return
        code = exit_code(result, destination)
        record(self.context, Action.SEND_FINISHED, result.run.destination, environment=result.run.environment,
               details=send_finished_details(result, code))

    def verify_run(self, run_id: int) -> Verification:
        """`attentive-console verify RUN_ID`: read back what a run sent and compare."""
        run = self._run(run_id)
        environment = self.load_environment(run.environment)  # type: ignore[arg-type]
        destination = self._destination(environment, run.destination, "verify")
        connection = resolve_target(environment, destination.credential, secrets_file=self.session.secrets_file,
                                    data_dir=self.session.data_dir)
        with HistoryStore(self.session.data_dir) as store:
            return asyncio.run(verify_run(store, run, destination, connection.base_url, connection.api_key))

    def preview(self, environment: Environment, destination: str, source: Path) -> SendPreview:
        return build_preview(environment.destinations[destination], source)

    def sample_audience(self, environment: Environment) -> Path | None:
        """The shipped sample audience, offered as the source on the embedded default."""
        return SAMPLE_PATH if environment.embedded and SAMPLE_PATH.is_file() else None

    def _run(self, run_id: int) -> RunRecord:
        with HistoryStore(self.session.data_dir, readonly=True) as store:
            run = store.get_run(run_id)
        if run is None:
            raise SettingsError(f"there is no run {run_id} in the history")
        return run

    def _destination(self, environment: Environment, name: str, action: str) -> Destination:
        destination = environment.destinations.get(name)
        if destination is None:
            raise SettingsError(f"{environment.name} has no destination {name!r} any more")
        self.operator(environment).require_destination(destination, action)
        return destination

    def plan_promotion(self, destination: str) -> PromotionPlan:
        session = self.session
        return plan_promotion(destination, config_dir=session.config_dir, data_dir=session.data_dir,
                              secrets_file=session.secrets_file, operator=session.operator)

    def promote(self, plan: PromotionPlan) -> PromotionResult:
        return promote(plan, config_dir=self.session.config_dir, data_dir=self.session.data_dir)

    def ledger_entries(self, limit: int) -> Sequence[LedgerEntry]:
        return list(reversed(Ledger(history_path(self.session.data_dir)).entries(limit=limit)))

    def verify_ledger(self) -> VerifyResult:
        return Ledger(history_path(self.session.data_dir)).verify()
