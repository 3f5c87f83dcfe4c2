"""Fixed data for console tests: environments built in code and a backend that answers at once,
so snapshots are identical on every machine. Behaviour tests use the real core where it matters."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from textual import events

from tui.app.app import FOLLOW_GROUP, ConsoleApp
from tui.app.backend.edits import KeyView
from tui.app.backend.protocol import ConnectionReport, RunRow
from tui.app.backend.rejection_source import StoreRejections
from tui.app.sections.history import FOLLOW_STARTING
from tui.app.session import Session
from tui.app.widgets.rejection_log import RejectionLogView
from tui.core.promotion import EnvironmentSnapshot, build_plan
from tui.core.rejection_detail import RejectionDetail
from tui.core.send_choice import resolved, with_send_constants
from tui.core.send_preview import build_preview
from tui.core.workspace import Target
from tui.settings.ledger import LedgerEntry, VerifyResult
from tui.settings.model import AccessPolicy, Credential, Destination, Environment
from tui.settings.promotion_gates import CredentialCheck
from tui.sync.history_schema import connect
from tui.sync.job_store import JobLine, JobRecord
from tui.sync.jobs import FollowProgress
from tui.sync.rejections import RejectionFilter, retry_rows
from tui.sync.sample_audience import SAMPLE_PATH

ACCESS = AccessPolicy(admins=("alice",), restricted_pii=("bob",))


def loyalty(credential: str = "attentive-sandbox", **changes) -> Destination:
    fields = dict(
        name="loyalty-attributes", description="Loyalty tier and points", credential=credential,
        primary_identifier="email", endpoint="bulk",
        identifiers={"email": "email", "phone": "phone"},
        attributes={"Loyalty Tier": "tier", "Points": "points"},
    )
    fields.update(changes)
    return Destination(**fields)


def sandbox_environment() -> Environment:
    return Environment(
        name="sandbox", path=Path("/config/sandbox.toml"), api_url="embedded", access=ACCESS,
        credentials={"attentive-sandbox": Credential("attentive-sandbox", "Attentive test company",
                                                     "custom-attributes-api", "demo:sandbox")},
        destinations={
            "loyalty-attributes": loyalty(),
            "sms-optins": loyalty(name="sms-optins", description="SMS preferences",
                                  primary_identifier="phone", endpoint="custom-attributes"),
        },
    )


def production_environment() -> Environment:
    return Environment(
        name="production", path=Path("/config/production.toml"), api_url="embedded", access=ACCESS,
        credentials={"attentive-production": Credential("attentive-production", "Attentive live company",
                                                        "custom-attributes-api", "demo:production")},
        destinations={"loyalty-attributes": loyalty("attentive-production")},
    )


Run = RunRow  # the fixed backend lists the same rows the real one does


REASONS = ("invalid_email", "invalid_phone", "duplicate_identifier", "attribute_type")


def rejection_values(run_id: int, index: int) -> tuple:
    """A deterministic rejection for row `index`: reasons and statuses cycle, identifiers are unique."""
    reason = REASONS[index % len(REASONS)]
    status = 400 if reason == "attribute_type" else None
    return (run_id, index + 2, reason, f"user{index:07d}@example.com", status,
            f"{reason.replace('_', ' ')} at row {index + 2}")


def build_history(data_dir: Path, run_id: int, rejections: int | Iterable[tuple]) -> None:
    """A run with `rejections` rejections in a real history database, written in one transaction:
    a count (rejection_values) or the rows themselves, (run_id, row, reason, identifier, status, message)."""
    rows = list((rejection_values(run_id, index) for index in range(rejections))
                if isinstance(rejections, int) else rejections)
    connection = connect(data_dir)
    with connection:
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO runs (id, operator, environment, destination, endpoint, config_hash, mode, source_path,"
            " source_hash, source_format, started_at, status, rows_read, rejected)"
            " VALUES (?, 'alice', 'sandbox', 'loyalty-attributes', 'bulk', 'h', 'send', 'audience.csv', 's',"
            " 'csv', 0, 'finished', ?, ?)", (run_id, len(rows), len(rows)))
        connection.executemany(
            "INSERT INTO rejections (run_id, row, reason, identifier, status, message) VALUES (?, ?, ?, ?, ?, ?)",
            rows)
    connection.close()


LEDGER = [
    LedgerEntry(2, "2025-11-27T09:14:03+00:00", "alice", "sandbox", "send.finished", "loyalty-attributes",
                {}, "a" * 64, "b" * 64),
    LedgerEntry(1, "2025-11-27T09:12:00+00:00", "alice", "sandbox", "send.started", "loyalty-attributes",
                {}, "0" * 64, "a" * 64),
]

RUNS = [
    Run(3, "loyalty-attributes", "sandbox", "finished", "2025-11-27 09:20", 2400, 2190, 60, 150, 0),
    Run(2, "loyalty-attributes", "sandbox", "finished", "2025-11-27 09:12", 50, 48, 1, 1, 0,
        "matched 48/48", "sample"),
    Run(1, "sms-optins", "sandbox", "cancelled", "2025-11-26 17:40", 900, 850, 10, 40, 0),
]


class FixedFollower:
    """The console's background following over fixed jobs: it finds them as they are and changes nothing."""

    def __init__(self, jobs: list[JobRecord]) -> None:
        self.jobs = jobs

    async def check_due(self) -> FollowProgress:
        return FollowProgress(jobs=dict(Counter(job.state for job in self.jobs)), read_backs_pending=0, checks=0,
                              next_check_at=None)

    async def aclose(self) -> None:
        pass


# A bulk send whose jobs are partly back from Attentive (one completed with two lines it could not match
# to a profile, one failed, two pending), with its jobs and the lines kept raw.
JOB_RUN = Run(4, "loyalty-attributes", "sandbox", "awaiting_results", "2025-11-27 09:31", 1016, 250, 4, 150, 0,
              mode="send", failed=256, submitted=354, unconfirmed=2, jobs=4, jobs_pending=2)
SUBMITTED_AT = 1764234660.0   # 2025-11-27 09:11 UTC
JOBS = [
    JobRecord(1, 4, "0b7c9a52-1f7e-4c1e-9d0e-6a1d2f3b4c5d", 1, 256, SUBMITTED_AT, "completed", "COMPLETED", None,
              "https://results.example/1.jsonl", "2 result lines kept raw (see `attentive-console jobs --run 4 --json`)",
              4, SUBMITTED_AT + 900, SUBMITTED_AT + 900, SUBMITTED_AT + 900),
    JobRecord(2, 4, "5e1d2c3b-7a6f-4b1e-8c2d-3e4f5a6b7c8d", 1, 256, SUBMITTED_AT + 2, "failed", "FAILED", None, None,
              "ingestion backlog, try later", 3, SUBMITTED_AT + 420, SUBMITTED_AT + 420, SUBMITTED_AT + 420),
    JobRecord(3, 4, "9c8b7a6f-5e4d-4c3b-a2e1-0f9e8d7c6b5a", 1, 256, SUBMITTED_AT + 4, "pending", "IN_PROGRESS", None,
              None, "", 5, SUBMITTED_AT + 1860, SUBMITTED_AT + 3780, None),
    JobRecord(4, 4, "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", 1, 98, SUBMITTED_AT + 6, "pending", "THROTTLED_BY_REGION",
              None, None, "status 'THROTTLED_BY_REGION' is not one this tool knows; kept as sent, still pending", 5,
              SUBMITTED_AT + 1860, SUBMITTED_AT + 3780, None),
]
JOB_LINES = [
    JobLine(1, 17, "unreadable", '{"request": {"identifiers": {"email": "ada@example.com"}}, "response": {"status"'),
    JobLine(1, 204, "unmatched", '{"request": {"identifiers": {"email": "nobody@example.com"}}, '
                                 '"response": {"status": 200, "message": "OK"}}'),
]


@dataclass
class FixedBackend:
    environments: dict[str, Environment] = field(default_factory=lambda: {
        "sandbox": sandbox_environment(), "production": production_environment()})
    failing_credentials: set[str] = field(default_factory=set)
    run_rows: list[Run] = field(default_factory=list)
    data_dir: Path | None = None
    exports: list[tuple] = field(default_factory=list)
    jobs: list[JobRecord] = field(default_factory=list)
    lines: list[JobLine] = field(default_factory=list)

    def load_environment(self, name):
        return self.environments[name]

    def test_connection(self, environment, credential):
        if credential in self.failing_credentials:
            return ConnectionReport(credential, False, "unknown key (401): set the key again with e")
        company = "Acme Sandbox" if environment.name == "sandbox" else "Acme Live"
        return ConnectionReport(credential, True, f"{company} (app: Attentive Console)")

    def runs(self, environment):
        return [run for run in self.run_rows if run.environment == environment]

    def rejection_source(self, run_id):
        return StoreRejections(self.data_dir, run_id)

    def job_follower(self, environment):
        return FixedFollower(self.jobs)

    def run_jobs(self, run_id):
        return [job for job in self.jobs if job.run_id == run_id]

    def job_lines(self, job):
        return [line for line in self.lines if line.job == job]

    def export_rejections(self, run_id, where, path, *, masked, overwrite):
        rows = list(StoreRejections(self.data_dir, run_id).log().iter_all(where))
        path.write_text("".join(f"{row.row},{row.identifier}\n" for row in rows))
        self.exports.append((run_id, where, path, masked, overwrite))
        return len(rows)

    def rejection_detail(self, run_id, rejection_id):
        """The recorded rejection, and the source values as the shipped sample audience has them."""
        rejection = StoreRejections(self.data_dir, run_id).log().get(rejection_id)
        values = (("email", rejection.identifier or ""), ("phone", "+12125550114"), ("tier", "Gold"),
                  ("points", "140"))
        return RejectionDetail(run_id, "loyalty-attributes", "sandbox", rejection, False,
                               f"row {rejection.row:,} of audience.csv", values)

    def retry_count(self, run_id, where=None, *, include_unknown=False):
        log = StoreRejections(self.data_dir, run_id).log()
        return len(retry_rows(log.connection, run_id, where, include_unknown=include_unknown))

    def latest_rejections(self, run_id, limit):
        log = StoreRejections(self.data_dir, run_id).log()
        return log.page(RejectionFilter(), limit=limit, offset=max(0, log.count(RejectionFilter()) - limit))

    def plan_promotion(self, destination):
        """The real pure planner over the fixed environments, with no test send on record."""
        sandbox = EnvironmentSnapshot(self.environments["sandbox"], "s" * 64)
        production = EnvironmentSnapshot(self.environments["production"], "p" * 64)
        check = CredentialCheck(True, "Acme Live (Attentive Console)")
        return build_plan(destination, sandbox=sandbox, production=production, operator="alice",
                          test_send=None, credential_check=check, credential="attentive-production")

    def key_view(self, environment, credential):
        reference = environment.credentials[credential].api_key_ref
        return KeyView(reference, "****" + credential[-4:])

    def sample_audience(self, environment):
        return None

    def preview(self, environment, destination, source, constants=()):
        """The real preview with this send's constants (a query spooled for it alone), with no history."""
        target = with_send_constants(Target(environment, environment.destinations[destination], None), constants)
        with TemporaryDirectory() as spool_dir:
            path, _ = resolved(source, Path(spool_dir))
            return build_preview(target.destination, path)

    def destination_problems(self, environment, destination):
        return []

    def ledger_entries(self, limit):
        return LEDGER[:limit]

    def verify_ledger(self):
        return VerifyResult(len(LEDGER), LEDGER[0].seq, LEDGER[0].hash, None)

    def with_history(self, data_dir: Path, rejections: int = 210) -> "FixedBackend":
        """Runs as listed, and run 3's rejections in a real history database under data_dir."""
        self.run_rows = list(RUNS)
        self.data_dir = data_dir
        build_history(data_dir, 3, rejections)
        return self

    def with_jobs(self, data_dir: Path) -> "FixedBackend":
        """As with_history, and a bulk send still awaiting some of its jobs listed first."""
        self.with_history(data_dir)
        self.run_rows.insert(0, JOB_RUN)
        self.jobs, self.lines = list(JOBS), list(JOB_LINES)
        return self


def make_app(environment: str = "sandbox", *, operator: str = "alice", read_only: bool = False,
             backend: FixedBackend | None = None) -> ConsoleApp:
    session = Session(environment=environment, operator=operator, config_dir=Path("/config"),
                      data_dir=Path("/data"), secrets_file=Path("/secrets.toml"), read_only=read_only)
    return ConsoleApp(session, backend or FixedBackend())


def following_reported(app: ConsoleApp) -> bool:
    """The background following has shown its first round (or does not run: read-only)."""
    status = app.query("#jobs-status")
    return not status or str(status.first().content) != FOLLOW_STARTING


DEADLINE_S = 60.0  # far past any honest wait on a loaded machine: a regression fails instead of hanging


async def settle(pilot, *, timeout_s: float = DEADLINE_S) -> None:
    """Wait until every worker has finished and the screen has caught up (no sleeps). The worker that
    follows bulk jobs never finishes while the console is open: its first round is waited for."""
    deadline = time.monotonic() + timeout_s
    while True:
        await pilot.pause()
        running = [worker for worker in pilot.app.workers
                   if not worker.is_finished and worker.group != FOLLOW_GROUP]
        if not running and following_reported(pilot.app):
            return
        left = deadline - time.monotonic()
        assert left > 0, f"the console did not settle in {timeout_s:g} s: {[w.name for w in running]}"
        # a newer filter cancels an older query: cancelled workers count as settled
        waits = asyncio.gather(*(worker.wait() for worker in running), return_exceptions=True)
        try:
            await asyncio.wait_for(waits, left)
        except TimeoutError:
            raise AssertionError(f"workers still running after {timeout_s:g} s: {[w.name for w in running]}") from None


async def wait_until(pilot, condition, *, timeout_s: float = DEADLINE_S) -> None:
    """Let the app run until `condition()` holds (each pause processes the pending messages)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the console did not get there in time"
        await pilot.pause()


def burst(pilot, *keys: str) -> None:
    """Keys as one terminal read delivers them: all queued before the app handles the first (pilot.press
    waits for the app to go idle after each key, which hides races between keys and messages)."""
    app = pilot.app
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def open_send(pilot) -> None:
    """Send (3) with the shipped sample audience as the source, previewed."""
    await settle(pilot)
    await pilot.press("3")
    source = pilot.app.query_one("#send-source")
    source.value = str(SAMPLE_PATH)
    source.focus()
    await pilot.press("enter")
    await settle(pilot)


async def open_run(pilot):
    """History (4), then enter on the first run: its rejection log."""
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    return pilot.app.query_one(RejectionLogView)


async def edit_second_destination(pilot, name: str):
    """The destination form open on the list's second destination (j, e), which is `name`; the
    form's endpoint Select, as the form shows it."""
    from textual.widgets import Select

    from tui.app.forms.destination_form import DestinationForm

    await pilot.press("j", "e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, DestinationForm) and form.before is not None and form.before.name == name
    return form.query_one("#dest-endpoint", Select)


async def save_with_description(pilot, text: str) -> None:
    """The open destination form's description changed to `text`, ctrl+s, and the form closed."""
    from textual.widgets import Input

    from tui.app.forms.destination_form import DestinationForm

    pilot.app.screen.query_one("#dest-description", Input).value = text
    await settle(pilot)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, DestinationForm))
