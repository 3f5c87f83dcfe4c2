"""History: the environment's runs and their bulk jobs; enter opens a run's detail and rejection
log, esc comes back. A status line says how the jobs are being followed. The runs load in a worker
whose RunsLoaded goes on to the app (the run panel and the Destinations' last run follow them)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from tui.app.backend.protocol import ConsoleBackend, RunRow
from tui.app.console_view import ConsoleView
from tui.app.messages import JobsFollowed, RunsLoaded, RunVerified
from tui.app.sections.base import Section
from tui.app.widgets.run_detail import RunDetail
from tui.app.workers import post_result, reported
from tui.settings.model import EnvironmentName
from tui.sync.history import AWAITING
from tui.sync.history_schema import JOB_PENDING
from tui.sync.jobs import FollowProgress

READ_ONLY_JOBS = "read-only: not following jobs; run `attentive-console jobs --wait` (r reloads)"
FOLLOW_STARTING = "jobs: following while the console is open…"


def run_matches(run: RunRow, text: str) -> bool:
    needle = text.lower()
    return any(needle in str(value).lower() for value in (run.run_id, run.destination, run.status, run.mode))


def status_cell(run: RunRow) -> str:
    return "awaiting" if run.status == AWAITING else run.status  # the full word is in the run's detail


def jobs_cell(run: RunRow) -> str:
    if not run.jobs:
        return "-"
    return f"{run.jobs_pending:,} pending" if run.jobs_pending else f"{run.jobs:,} done"


def follow_text(progress: FollowProgress | None, problem: str | None) -> str:
    """What the follower last found (one line), and a second for a problem."""
    if progress is None:
        text = FOLLOW_STARTING
    else:
        text = ", ".join([f"jobs: {progress.pending:,} pending"] + [
            f"{count:,} {state}" for state, count in sorted(progress.jobs.items()) if state != JOB_PENDING])
        if progress.read_backs_pending:
            text += f"; read-backs pending {progress.read_backs_pending:,}"
        if progress.next_check_at is not None:
            text += f"; next check {datetime.fromtimestamp(progress.next_check_at):%H:%M:%S}"
    return text + (f"\nproblem: {problem}" if problem else "")


class HistorySection(Section):
    TITLE = "History"
    BINDINGS = [
        Binding("slash", "filter_runs", "Filter", id="history.filter"),
        Binding("r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, backend: ConsoleBackend, view: ConsoleView, **kwargs: Any) -> None:
        super().__init__(backend, view, **kwargs)
        self.runs: Sequence[RunRow] = ()
        self.followed: FollowProgress | None = None
        self.jobs_seen: tuple[object, ...] = ()     # what the last round of following found
        self.shown_problems: set[str] = set()       # each following problem is notified once
        self.runs_read, self.runs_read_for = False, self.view.environment   # the environment last read for

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="history-list", id="history-switcher"):
            with Vertical(id="history-list"):
                yield Static(READ_ONLY_JOBS if self.read_only else FOLLOW_STARTING,
                             id="jobs-status", markup=False)
                yield Input(placeholder="/ filter runs by destination, status or id; enter opens a run",
                            id="runs-filter")
                table: DataTable[str] = DataTable(id="runs-table", cursor_type="row")
                table.add_columns("Run", "Started", "Destination", "Mode", "Status", "Jobs", "Read", "Accepted",
                                  "Submitted", "Rejected", "Invalid", "Read-back")
                yield table

    def refresh_view(self) -> None:
        """The runs depend on the environment files, not on connection tests or keys: they are read
        again when the files are (and on r, a send's end, a verification, each round of following)."""
        if self.view.environment is not self.runs_read_for or not self.runs_read:
            self.runs_read, self.runs_read_for = True, self.view.environment
            self.action_reload()

    def action_reload(self) -> None:
        self.load_runs(self.view.session.environment)

    @work(thread=True, name="Load runs", group="history-runs", exclusive=True, exit_on_error=False)
    def load_runs(self, environment: EnvironmentName) -> None:
        with reported(self, "Load runs"):
            post_result(self, RunsLoaded(self.backend.runs(environment)))

    @on(RunVerified)
    def run_verified(self) -> None:
        self.action_reload()  # the run's read-back column

    @on(RunsLoaded)
    def show_runs(self, message: RunsLoaded) -> None:
        runs = self.runs = message.runs
        self.fill_table()
        detail = next(iter(self.query(RunDetail)), None)
        if detail is not None:
            run = next((run for run in runs if run.run_id == detail.run.run_id), None)
            if run is not None and run != detail.run:
                detail.update_run(run)

    def post_followed(self, progress: FollowProgress | None, problem: str | None) -> None:
        """The app's job watch reports each round here, on the watch's thread."""
        self.post_message(JobsFollowed(progress, problem))

    @on(JobsFollowed)
    def jobs_followed(self, message: JobsFollowed) -> None:
        """A round of following: its progress, or (None) the last one shown and why this one failed;
        the runs again when the jobs changed. It goes on to the app (the header, the jobs view)."""
        progress = message.progress
        problem = message.problem or (progress.problem if progress is not None else None)
        if problem and problem not in self.shown_problems:
            self.shown_problems.add(problem)
            self.notify(problem, title="Following bulk jobs", severity="error" if message.problem else "warning",
                        timeout=10)
        self.followed = progress or self.followed
        self.query_one("#jobs-status", Static).update(follow_text(self.followed, problem))
        if progress is None:
            return
        seen = (tuple(sorted(progress.jobs.items())), progress.read_backs_pending, progress.checks)
        # A read-back attempt changes its run's verdict without changing these counts: reload while any is due.
        if seen != self.jobs_seen or progress.read_backs_pending:
            self.jobs_seen = seen
            self.action_reload()

    def fill_table(self) -> None:
        """Refilled on every reload (a job folded): the cursor stays on its run."""
        text = self.query_one("#runs-filter", Input).value.strip()
        table = self.query_one("#runs-table", DataTable)
        chosen = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        scroll_x = table.scroll_x
        table.clear()
        for run in self.runs:
            if text and not run_matches(run, text):
                continue
            table.add_row(str(run.run_id), run.started_at, run.destination, run.mode, status_cell(run), jobs_cell(run),
                          f"{run.rows_read:,}", f"{run.accepted:,}", f"{run.submitted:,}", f"{run.rejected:,}",
                          f"{run.invalid:,}", run.verification or "-", key=str(run.run_id))
        if chosen is not None and chosen in table.rows:
            table.move_cursor(row=table.get_row_index(chosen), animate=False)
        table.scroll_x = scroll_x

    def focus_main(self) -> None:
        if self.query_one(ContentSwitcher).current == "history-list":
            self.query_one("#runs-table", DataTable).focus()
        else:
            self.query_one(RunDetail).rejection_log.focus()

    def action_filter_runs(self) -> None:
        self.query_one("#runs-filter", Input).focus()

    @on(Input.Changed, "#runs-filter")
    def runs_filter_changed(self) -> None:
        self.fill_table()

    @on(Input.Submitted, "#runs-filter")
    def runs_filter_submitted(self) -> None:
        self.query_one("#runs-table", DataTable).focus()

    @on(DataTable.RowSelected, "#runs-table")
    async def run_selected(self, event: DataTable.RowSelected) -> None:
        run = next(run for run in self.runs if str(run.run_id) == event.row_key.value)
        await self.open_run(run)

    async def open_run(self, run: RunRow) -> None:
        source = self.backend.rejection_source(run.run_id)
        switcher = self.query_one(ContentSwitcher)
        await self.query(RunDetail).remove()
        detail = RunDetail(run, source, self.backend, mask=self.view.mask, read_only=self.read_only, id="run-detail")
        await switcher.mount(detail)
        switcher.current = "run-detail"
        detail.rejection_log.focus()

    def go_back(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "run-detail":
            if self.screen.focused is self.query_one("#rejection-filter", Input):
                self.query_one(RunDetail).rejection_log.focus()
                return
            switcher.current = "history-list"
            self.query_one("#runs-table", DataTable).focus()
