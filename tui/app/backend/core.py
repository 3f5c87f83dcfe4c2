"""The console's backend over the real core: the same functions the CLI calls, with the same
access checks and audit entries."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from tui.app.backend.edits import ConfigEdits
from tui.app.backend.protocol import ConnectionReport, RunRow
from tui.app.backend.rejection_source import StoreRejections
from tui.app.session import Session
from tui.core import runs, sends
from tui.core.promotion import PromotionPlan, PromotionResult, plan_promotion, promote
from tui.core.rejection_detail import RejectionDetail, rejection_detail
from tui.core.send_choice import SendSource, resolved, with_send_constants
from tui.core.send_preview import SendPreview, build_preview
from tui.core.workspace import Target
from tui.settings.attribute_tables import parse_set
from tui.settings.connection import check_connection
from tui.settings.ledger import Ledger, LedgerEntry, LedgerError, VerifyResult
from tui.settings.model import Destination, Environment, EnvironmentName
from tui.settings.paths import history_path
from tui.sync.engine import SendRequest, SendResult
from tui.sync.follow_targets import follow_resolver
from tui.sync.history import HistoryStore, RunMode, RunRecord, Verification
from tui.sync.history_schema import JOB_PENDING
from tui.sync.job_store import JobLine, JobRecord, JobStore
from tui.sync.jobs import JobFollower
from tui.sync.lock import shown_status
from tui.sync.rejections import RECORDED_ORDER, Rejection, RejectionFilter
from tui.sync.sample_audience import SAMPLE_PATH


@dataclass
class CoreBackend(ConfigEdits):
    session: Session
    # Whether a run's identifiers are masked, per run: the live run's tail asks at every progress tick,
    # and the answer (the operator's access in the run's environment) needs the TOML file and the run.
    _masked_runs: dict[int, bool] = field(default_factory=dict, repr=False)

    def load_environment(self, name: EnvironmentName) -> Environment:
        self._masked_runs.clear()  # the files are read again: so is who may see what
        return self.session.load_environment(name)

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
                                    states.get(JOB_PENDING, 0), run.skipped_already_sent, run.unknown))
            return views

    @staticmethod
    def _read_back(store: HistoryStore, jobs: JobStore, run: RunRecord) -> str | None:
        """The latest read-back's verdict and counts; "pending" while one is scheduled but not yet tried."""
        if run.mode == RunMode.DRY_RUN:
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
        return StoreRejections(self.session.data_dir, run_id, masked=self._masked(run_id))

    def latest_rejections(self, run_id: int, limit: int) -> Sequence[Rejection]:
        log = StoreRejections(self.session.data_dir, run_id, masked=self._masked(run_id))
        everything = RejectionFilter(order=RECORDED_ORDER)   # the latest recorded, not the highest rows
        return log.page(everything, limit=limit, offset=max(0, log.count(everything) - limit))

    def _masked(self, run_id: int) -> bool:
        if run_id not in self._masked_runs:
            self._masked_runs[run_id] = runs.identifiers_masked(self.session, self.session.run(run_id))
        return self._masked_runs[run_id]

    def export_rejections(self, run_id: int, where: RejectionFilter, path: Path, *, masked: bool,
                          overwrite: bool) -> int:
        return runs.export_rejections(self.session, run_id, where, path, masked=masked, overwrite=overwrite).rows

    def send_request(self, environment: Environment, destination: str, source: SendSource, *,
                     sample: int | None, dry_run: bool, constants: Sequence[str] = (),
                     allow_shrink: bool = False) -> SendRequest:
        """Checks and resolves a send as `attentive-console send` does; raises with the reason."""
        target = with_send_constants(self.session.target(environment, destination, "send"), constants)
        path, query = resolved(source, self.session.data_dir)
        request = sends.send_request(self.session, target, path, sample=sample, dry_run=dry_run,
                                     send_constants=parse_set(list(constants))[0], allow_shrink=allow_shrink,
                                     source_query=query)
        return sends.connected(self.session, target, request)

    def retry_request(self, run_id: int, where: RejectionFilter | None = None, *,
                      include_unknown: bool = False) -> SendRequest:
        """`attentive-console retry RUN_ID [--reason ...] [--include-unknown]`: only the rejected and
        failed rows of a run (those the filter shows), as a new run."""
        target, request = sends.retry_request(self.session, run_id, where, include_unknown=include_unknown)
        return sends.connected(self.session, target, request)

    def retry_count(self, run_id: int, where: RejectionFilter | None = None, *, include_unknown: bool = False) -> int:
        return sends.retry_count(self.session, run_id, where, include_unknown=include_unknown)

    def rejection_detail(self, run_id: int, rejection_id: int) -> RejectionDetail:
        return rejection_detail(self.session, run_id, rejection_id)

    def send_finished(self, result: SendResult, destination: Destination) -> None:
        """The send.finished audit entry the CLI writes, with the exit code the CLI would return."""
        closed = sends.send_finished(self.session, result, destination)
        if closed.warning is not None:
            raise LedgerError(closed.warning)

    def verify_run(self, run_id: int) -> Verification:
        """`attentive-console verify RUN_ID`: read back what a run sent and compare."""
        return runs.verify(self.session, run_id)[1]

    def preview(self, environment: Environment, destination: str, source: SendSource,
                constants: Sequence[str] = ()) -> SendPreview:
        operator = self.session.operator_in(environment)
        target = with_send_constants(Target(environment, environment.destinations[destination], operator), constants)
        with TemporaryDirectory(prefix="attentive-preview-") as spool_dir:  # a query's result, read and gone
            path, _ = resolved(source, Path(spool_dir))
            return build_preview(target.destination, path, masked=operator.restricted_pii,
                                 data_dir=self.session.data_dir, environment=environment.name)

    def sample_audience(self, environment: Environment) -> Path | None:
        """The shipped sample audience, offered as the source on the embedded default."""
        return SAMPLE_PATH if environment.embedded and SAMPLE_PATH.is_file() else None

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
