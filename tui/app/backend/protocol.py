"""What the console asks of the core, in one place.

`ConsoleBackend` is the seam: screens call it from workers and never import the core directly, so
the calls the console makes are exactly the functions the CLI makes (see core.py). All
methods are blocking and run in thread workers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tui.app.backend.edits import KeyView
from tui.app.backend.job_watch import Follower
from tui.attentive.secret import ApiKey
from tui.core.promotion import PromotionPlan, PromotionResult
from tui.core.rejection_detail import RejectionDetail
from tui.core.rejection_pages import RejectionSource
from tui.core.send_choice import SendSource
from tui.core.send_preview import SendPreview
from tui.settings.ledger import LedgerEntry, VerifyResult
from tui.settings.model import Credential, Destination, Environment, EnvironmentName
from tui.sync.engine import SendRequest, SendResult
from tui.sync.history import RunMode, Verification
from tui.sync.job_store import JobLine, JobRecord
from tui.sync.rejections import Rejection, RejectionFilter


@dataclass(frozen=True)
class ConnectionReport:
    """The result of GET /v1/me for one credential, as the operator reads it."""
    credential: str
    ok: bool
    summary: str            # "Acme Sandbox (app: Attentive Console)" or the reason it failed


class ConsoleBackend(Protocol):
    def load_environment(self, name: EnvironmentName) -> Environment: ...

    def test_connection(self, environment: Environment, credential: str) -> ConnectionReport: ...

    def runs(self, environment: EnvironmentName) -> Sequence[RunRow]: ...

    def rejection_source(self, run_id: int) -> RejectionSource: ...

    def latest_rejections(self, run_id: int, limit: int) -> Sequence[Rejection]: ...

    def job_follower(self, environment: EnvironmentName) -> Follower:
        """A follower of the environment's bulk jobs and read-backs, as `jobs --wait --env` runs; made
        and used on the console's watch thread."""

    def run_jobs(self, run_id: int) -> Sequence[JobRecord]: ...

    def job_lines(self, job: int) -> Sequence[JobLine]:
        """The result lines of a job (ours, JobRecord.id) kept raw: unreadable or naming no profile."""

    def send_request(self, environment: Environment, destination: str, source: SendSource, *,
                     sample: int | None, dry_run: bool, constants: Sequence[str] = (),
                     allow_shrink: bool = False) -> SendRequest:
        """`attentive-console send`: a query is spooled here (the request records it), `constants` are
        its `--set` values (checked: SettingsError names the problem), `allow_shrink` its --allow-shrink."""

    def retry_request(self, run_id: int, where: RejectionFilter | None = None, *,
                      include_unknown: bool = False) -> SendRequest:
        """A new run of only the rejected and failed rows of `run_id` (`attentive-console retry`);
        with `where`, only those the filter shows (`retry --reason/--status/--search`); with
        `include_unknown`, its unknown events too (`retry --include-unknown`)."""

    def retry_count(self, run_id: int, where: RejectionFilter | None = None, *, include_unknown: bool = False) -> int:
        """How many rows `retry_request(run_id, where)` would send (the confirmation names it)."""

    def rejection_detail(self, run_id: int, rejection_id: int) -> RejectionDetail:
        """One rejection with the source row's values, as the operator may see them."""

    def send_finished(self, result: SendResult, destination: Destination) -> None:
        """Record the end of a send in the audit ledger, as the CLI does."""

    def verify_run(self, run_id: int) -> Verification: ...

    def preview(self, environment: Environment, destination: str, source: SendSource,
                constants: Sequence[str] = ()) -> SendPreview:
        """The first rows as they will be sent (with this send's constants), and an audience
        destination's joins, stays and leaves; a query's result is spooled for it alone."""

    def sample_audience(self, environment: Environment) -> Path | None: ...

    def key_view(self, environment: Environment, credential: str) -> KeyView: ...

    def add_credential(self, environment: Environment, credential: Credential, key: ApiKey | None) -> str: ...

    def set_credential_key(self, environment: Environment, name: str, key: ApiKey) -> str: ...

    def removal_refusal(self, environment: Environment, name: str) -> str | None: ...

    def remove_credential(self, environment: Environment, name: str) -> str:
        """Refused with the reason (a SettingsError) while a destination uses the credential."""

    def destination_problems(self, environment: EnvironmentName, destination: Destination) -> list[str]:
        """What the settings layer would refuse in the file with this destination in it."""

    def save_destination(self, environment: Environment, before: Destination | None,
                         destination: Destination) -> str:
        """Tests the credential first; raises with the reason and saves nothing when it fails."""

    def plan_promotion(self, destination: str) -> PromotionPlan: ...

    def promote(self, plan: PromotionPlan) -> PromotionResult: ...

    def ledger_entries(self, limit: int) -> Sequence[LedgerEntry]: ...

    def verify_ledger(self) -> VerifyResult: ...

    def export_rejections(self, run_id: int, where: RejectionFilter, path: Path, *, masked: bool,
                          overwrite: bool) -> int:
        """Write the filtered rejections to CSV (atomically); returns the number of rows written. An
        existing file is replaced only with `overwrite`; a link at `path` never (ExportRefused)."""


@dataclass(frozen=True)
class RunRow:
    """A run as the console lists it."""
    run_id: int
    destination: str
    environment: str
    status: str
    started_at: str
    rows_read: int
    accepted: int
    rejected: int
    invalid: int
    skipped_unchanged: int
    verification: str | None = None  # latest read-back of the run: "matched 50/50", "pending 0/20", "pending"
    mode: str = RunMode.SEND         # a RunMode value
    failed: int = 0
    submitted: int = 0               # rows in bulk jobs whose results have not come back
    unconfirmed: int = 0
    jobs: int = 0                    # bulk jobs of the run
    jobs_pending: int = 0
    skipped_already_sent: int = 0    # events the ledger held as sent already
    unknown: int = 0                 # events sent without an answer that says whether they arrived
