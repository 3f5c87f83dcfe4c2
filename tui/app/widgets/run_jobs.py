"""`b` on a run (History's list or the run's detail): the run's bulk jobs as the history holds them,
and the result lines kept raw for the job under the cursor (lines that could not be read, or named no
profile of the job), shown as Attentive wrote them. Both are lists as every list (widgets/data_list.py):
sorted, filtered with `/`, `y` copies Attentive's job id. esc or q goes back."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.app.backend.protocol import ConsoleBackend, RunRow
from tui.app.error_guard import ErrorGuard
from tui.app.messages import JobLinesLoaded, JobsLoaded
from tui.app.widgets.data_list import DataList, ListRow, ListTable
from tui.app.widgets.key_hints import KeyHints
from tui.app.workers import post_result, reported
from tui.sync.history_schema import JOB_PENDING
from tui.sync.job_store import JobLine, JobRecord
from tui.sync.terminal_text import escape_controls

JOB_ID_WIDTH = 13     # the table shows Attentive's id cut here (a UUID is 36); the detail shows it whole
LINE_TEXT_MAX = 500   # a raw line is cut here on screen; `jobs --run ID --json` has it whole


def when(timestamp: float | None) -> str:
    if not timestamp:
        return "-"
    moment = datetime.fromtimestamp(timestamp)
    return moment.strftime("%H:%M:%S" if moment.date() == datetime.now().date() else "%Y-%m-%d %H:%M")


def short_id(job_id: str) -> str:
    return job_id if len(job_id) <= JOB_ID_WIDTH else job_id[:JOB_ID_WIDTH - 1] + "…"


def shown_line(text: str) -> str:
    """A raw line for one screen line: characters a terminal would act on (U+2028, tabs, escapes)
    appear as \\uXXXX, and it is cut at LINE_TEXT_MAX."""
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text[:LINE_TEXT_MAX])
    return shown if len(text) <= LINE_TEXT_MAX and len(shown) <= LINE_TEXT_MAX else shown[:LINE_TEXT_MAX - 1] + "…"


def job_detail_text(job: JobRecord) -> str:
    """Attentive's id, status word and message are its data, shown with their controls escaped."""
    next_check = when(job.next_check_at) if job.state == JOB_PENDING else "-"
    return (f"job {job.id}: Attentive job {escape_controls(job.job_id)}\n"
            f"{job.rows:,} rows   state {job.state}   status {escape_controls(job.status or '-')}   "
            f"checks {job.checks}\n"
            f"submitted {when(job.submitted_at)}   last check {when(job.last_checked_at)}   next check {next_check}\n"
            f"message: {escape_controls(job.message or '-')}")


def lines_title(lines: Sequence[JobLine]) -> str:
    if not lines:
        return "no result lines kept raw: every line was read and matched (or the results are not in yet)"
    return f"{len(lines):,} result line(s) kept raw, as Attentive wrote them:"


class RunJobsScreen(ErrorGuard, ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back", id="jobs.close"),
        Binding("r", "reload", "Reload", id="jobs.reload"),
    ]

    def __init__(self, run: RunRow, backend: ConsoleBackend) -> None:
        super().__init__()
        self.run = run
        self.backend = backend
        self.jobs: dict[str, JobRecord] = {}
        self.shown: JobRecord | None = None   # the job whose detail and lines are on screen

    def compose(self) -> ComposeResult:
        with Vertical(id="jobs-box", classes="modal-box"):
            yield Static(f"Bulk jobs of run #{self.run.run_id} {self.run.destination}: loading…",
                         id="jobs-title", classes="modal-title", markup=False)
            yield DataList(ListTable(("Job", "Attentive id", "Rows", "State", "Checks", "Next check", "Status"),
                                     id="jobs-table", key_name="Attentive job id"), noun="jobs", classes="-auto")
            yield Static("", id="job-detail", markup=False)
            yield Static("", id="job-lines-title", markup=False)
            yield DataList(ListTable(("Line", "Problem", "Text"), id="job-lines", key_name="line"), noun="lines")
            yield KeyHints("up/down picks a job", "tab moves to its lines", ("jobs.reload", "reloads"),
                           ("jobs.close", "back"))

    def on_mount(self) -> None:
        self.query_one("#jobs-table", ListTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.load_jobs(self.run.run_id)

    @work(thread=True, name="Load jobs", group="jobs-list", exclusive=True, exit_on_error=False)
    def load_jobs(self, run_id: int) -> None:
        with reported(self, "Load the run's jobs"):
            post_result(self, JobsLoaded(self.backend.run_jobs(run_id)))

    @on(JobsLoaded)
    def show_jobs(self, message: JobsLoaded) -> None:
        jobs = message.jobs
        table = self.query_one("#jobs-table", ListTable)
        self.jobs = {str(job.id): job for job in jobs}
        pending = sum(1 for job in jobs if job.state == JOB_PENDING)
        self.query_one("#jobs-title", Static).update(
            f"Bulk jobs of run #{self.run.run_id} {self.run.destination}: {len(jobs):,} ({pending:,} pending)")
        table.set_rows([ListRow(str(job.id), (str(job.id), Text(short_id(escape_controls(job.job_id))),
                                              f"{job.rows:,}", job.state, str(job.checks),
                                              when(job.next_check_at) if job.state == JOB_PENDING else "-",
                                              Text(escape_controls(job.status or "-"))), copy=job.job_id)
                        for job in jobs])   # the cursor stays on its job
        if not jobs:
            self.query_one("#job-detail", Static).update(
                "No bulk jobs: the run sent nothing through the bulk endpoint (v2), or was a dry run.")
            return
        job = self.jobs.get(table.cursor_key or "")
        if job is not None:
            self.show_job(job)

    @on(DataTable.RowHighlighted, "#jobs-table")
    def job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        job = self.jobs.get(event.row_key.value or "")
        if job is not None:
            self.show_job(job)

    def show_job(self, job: JobRecord) -> None:
        """The detail of the job, and its raw lines read again unless they are on screen already (a
        reload while the operator reads them keeps their place)."""
        if job == self.shown:
            return
        self.shown = job
        self.query_one("#job-detail", Static).update(job_detail_text(job))
        self.load_lines(job.id)

    @work(thread=True, name="Load job lines", group="job-lines", exclusive=True, exit_on_error=False)
    def load_lines(self, job: int) -> None:
        with reported(self, "Load the job's raw lines"):
            post_result(self, JobLinesLoaded(self.backend.job_lines(job)))

    @on(JobLinesLoaded)
    def show_lines(self, message: JobLinesLoaded) -> None:
        lines = message.lines
        self.query_one("#job-lines-title", Static).update(lines_title(lines))
        self.query_one("#job-lines", ListTable).set_rows(
            [ListRow(str(line.line_no), (str(line.line_no), line.problem, Text(shown_line(line.text))))
             for line in lines])
