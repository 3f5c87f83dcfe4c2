"""History: the environment's runs (a list as every list: widgets/data_list.py) and, under it, the
rejections by reason of the run under the cursor. enter opens the run's detail and rejection log, b its
bulk jobs, v reads it back; esc or q (the app's back) comes back with the cursor where it was. A status
line says how the jobs are being followed. The runs load in a worker whose RunsLoaded goes on to the app (the run
panel and the Destinations' last run follow them); while a send runs they are read again at most
once a second."""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from tui.app.backend.protocol import ConsoleBackend, RunRow
from tui.app.console_view import ConsoleView
from tui.app.messages import JobsFollowed, ReasonsCounted, RunsLoaded, RunVerified, VerifyRequested
from tui.app.screens.message import MessageScreen
from tui.app.sections.base import Section
from tui.app.widgets.data_list import DataList, ListRow, ListTable
from tui.app.widgets.reason_chart import ReasonChart
from tui.app.widgets.run_detail import RunDetail
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.app.workers import describe_error, post_result, reported
from tui.settings.model import EnvironmentName
from tui.sync.history import AWAITING
from tui.sync.history_schema import JOB_PENDING
from tui.sync.jobs import FollowProgress
from tui.sync.progress_text import verification_summary
from tui.sync.rejections import RejectionFilter

RUN_COLUMNS = ("Run", "Started", "Destination", "Mode", "Status", "Jobs", "Read", "Accepted", "Submitted",
               "Rejected", "Invalid", "Read-back")
RELOAD_DURING_RUN_S = 1.0   # the runs read again while a send runs, at most this often
TALL = 30                   # a section this high shows more bars in the reason chart
CHART_ROWS = (3, 8)         # bars below TALL, and from it
READ_ONLY_JOBS = "read-only: not following jobs; run `attentive-console jobs --wait` (r reloads)"
FOLLOW_STARTING = "jobs: following while the console is open…"


def status_cell(run: RunRow) -> str:
    return "awaiting" if run.status == AWAITING else run.status  # the full word is in the run's detail


def jobs_cell(run: RunRow) -> str:
    if not run.jobs:
        return "-"
    return f"{run.jobs_pending:,} pending" if run.jobs_pending else f"{run.jobs:,} done"


def run_cells(run: RunRow) -> tuple[str, ...]:
    return (str(run.run_id), run.started_at, run.destination, run.mode, status_cell(run), jobs_cell(run),
            f"{run.rows_read:,}", f"{run.accepted:,}", f"{run.submitted:,}", f"{run.rejected:,}", f"{run.invalid:,}",
            run.verification or "-")


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
        Binding("r", "reload", "Reload", id="history.reload"),
        Binding("v", "verify", "Verify", id="history.verify"),
        Binding("b", "jobs", "Bulk jobs", id="history.jobs"),
    ]
    LIST_ACTIONS = frozenset({"verify", "jobs"})   # on the run under the list's cursor

    def __init__(self, backend: ConsoleBackend, view: ConsoleView, **kwargs: Any) -> None:
        super().__init__(backend, view, **kwargs)
        self.runs: Sequence[RunRow] = ()
        self.followed: FollowProgress | None = None
        self.jobs_seen: tuple[object, ...] = ()     # what the last round of following found
        self.shown_problems: set[str] = set()       # each following problem is notified once
        self.runs_read, self.runs_read_for = False, self.view.environment   # the environment last read for
        self.reloaded_at = float("-inf")            # time.monotonic() of the last reload asked for
        self.detail_open = False
        self.reasons: dict[int, tuple[tuple[int, ...], Mapping[str, int]]] = {}   # run -> (counted at, counts)
        self.counting: tuple[int, tuple[int, ...]] | None = None   # the count under way

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="history-list", id="history-switcher"):
            with Vertical(id="history-list"):
                yield Static(READ_ONLY_JOBS if self.read_only else FOLLOW_STARTING,
                             id="jobs-status", markup=False)
                yield DataList(ListTable(RUN_COLUMNS, id="runs-table", key_name="run id", descending=True), noun="runs")
                yield ReasonChart(id="run-reasons")

    @property
    def table(self) -> ListTable:
        return self.query_one("#runs-table", ListTable)

    def on_resize(self) -> None:
        self.query_one(ReasonChart).set_rows(CHART_ROWS[self.size.height >= TALL])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LIST_ACTIONS and self.detail_open:
            return False   # the detail's own keys (its v, b) are the ones offered there
        return super().check_action(action, parameters)

    def refresh_view(self) -> None:
        """The runs depend on the environment files, not on connection tests or keys: they are read
        again when the files are (and on r, a send's end, a verification, each round of following)."""
        if self.view.environment is not self.runs_read_for or not self.runs_read:
            self.runs_read, self.runs_read_for = True, self.view.environment
            self.action_reload()

    def action_reload(self) -> None:
        self.reloaded_at = time.monotonic()
        self.load_runs(self.view.session.environment)

    def run_going(self) -> None:
        """A progress tick of the running send (the app passes each on): the runs again, at most once a
        second, so the running run's counts move here and in Destinations' last run."""
        if time.monotonic() - self.reloaded_at >= RELOAD_DURING_RUN_S:
            self.action_reload()

    @work(thread=True, name="Load runs", group="history-runs", exclusive=True, exit_on_error=False)
    def load_runs(self, environment: EnvironmentName) -> None:
        with reported(self, "Load runs"):
            post_result(self, RunsLoaded(self.backend.runs(environment)))

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
        """Refilled on every reload (a job folded, a send running): the cursor stays on its run and
        the filter and the sort stay as they were."""
        self.table.set_rows([ListRow(str(run.run_id), run_cells(run)) for run in self.runs])
        self.show_reasons()

    def run_of(self, key: str | None) -> RunRow | None:
        return next((run for run in self.runs if str(run.run_id) == key), None)

    def cursor_run(self) -> RunRow | None:
        run = self.run_of(self.table.cursor_key)
        if run is None:
            self.notify("No run selected.", severity="warning")
        return run

    def focus_main(self) -> None:
        if self.query_one(ContentSwitcher).current == "history-list":
            self.table.focus()
        else:
            self.query_one(RunDetail).rejection_log.focus()

    # -- the reason chart of the run under the cursor ------------------------------------------------

    @on(DataTable.RowHighlighted, "#runs-table")
    def run_highlighted(self) -> None:
        self.show_reasons()

    def show_reasons(self) -> None:
        """Counted in a worker (a grouped count of the run's rejection log), kept until the run's counts
        change; a running run is counted again as it rejects."""
        chart = self.query_one(ReasonChart)
        run = self.run_of(self.table.cursor_key)
        if run is None:
            chart.show_text("")
            return
        counts = (run.rejected, run.invalid, run.failed, run.unknown)
        cached = self.reasons.get(run.run_id)
        if not any(counts):
            chart.show_reasons(run.run_id, {})
        elif cached is not None and cached[0] == counts:
            chart.show_reasons(run.run_id, cached[1])
        elif self.counting != (run.run_id, counts):   # a reload and the cursor's highlight ask alike
            if cached is None:
                chart.show_text(f"run #{run.run_id}: counting rejections by reason…")
            self.counting = (run.run_id, counts)
            self.count_reasons(run.run_id, counts)

    @work(thread=True, name="Count reasons", group="history-reasons", exclusive=True, exit_on_error=False)
    def count_reasons(self, run_id: int, counts: tuple[int, ...]) -> None:
        """A failure is the chart's line, never a modal: the chart is a picture, not a task."""
        try:
            reasons = dict(self.backend.rejection_source(run_id).facets(RejectionFilter()).reasons)
        except Exception as error:  # noqa: BLE001 - shown in the chart
            post_result(self, ReasonsCounted(run_id, counts, {}, describe_error(error)))
            return
        post_result(self, ReasonsCounted(run_id, counts, reasons))

    @on(ReasonsCounted)
    def reasons_counted(self, message: ReasonsCounted) -> None:
        message.stop()
        if self.counting == (message.run_id, message.counted_at):
            self.counting = None
        if message.problem is None:
            self.reasons[message.run_id] = (message.counted_at, message.reasons)
        if self.table.cursor_key != str(message.run_id):
            return
        chart = self.query_one(ReasonChart)
        if message.problem is None:
            chart.show_reasons(message.run_id, message.reasons)
        else:
            chart.show_text(f"run #{message.run_id}: rejections by reason unavailable ({message.problem})")

    # -- enter, b, v on a run; esc and q back ----------------------------------------------------------

    @on(DataTable.RowSelected, "#runs-table")
    async def run_selected(self, event: DataTable.RowSelected) -> None:
        run = self.run_of(event.row_key.value)
        if run is not None:
            await self.open_run(run)

    async def open_run(self, run: RunRow) -> None:
        source = self.backend.rejection_source(run.run_id)
        switcher = self.query_one(ContentSwitcher)
        await self.query(RunDetail).remove()
        detail = RunDetail(run, source, self.backend, mask=self.view.mask, read_only=self.read_only, id="run-detail")
        await switcher.mount(detail)
        switcher.current = "run-detail"
        self.detail_open = True
        self.refresh_bindings()
        detail.rejection_log.focus()

    def action_jobs(self) -> None:
        """The run's bulk jobs at once, without going through its detail; esc comes back here."""
        if (run := self.cursor_run()) is not None:
            self.app.push_screen(RunJobsScreen(run, self.backend))

    def action_verify(self) -> None:
        """Read the run back (`attentive-console verify RUN_ID`); the Read-back column follows."""
        if (run := self.cursor_run()) is not None:
            self.start_verify(run)

    @on(VerifyRequested)
    def verify_requested(self, message: VerifyRequested) -> None:
        """`v` in a run's detail: the same read-back as the list's."""
        message.stop()
        self.start_verify(message.run)

    def start_verify(self, run: RunRow) -> None:
        self.notify(f"Reading back run #{run.run_id}…")
        self.verify_run(run)

    @work(thread=True, name="Verify run", group="history-verify", exclusive=True, exit_on_error=False)
    def verify_run(self, run: RunRow) -> None:
        with reported(self, f"Verify run {run.run_id}"):
            post_result(self, RunVerified(run, self.backend.verify_run(run.run_id)))

    @on(RunVerified)
    def run_verified(self, message: RunVerified) -> None:
        """Told here, whichever v asked; then the runs again: the run's read-back column."""
        run, lines = message.run, verification_summary(message.verification)
        if message.verification.verdict != "mismatched":
            self.notify(lines[0].strip(), title=f"Run #{run.run_id}")
        else:
            self.app.push_screen(MessageScreen(f"Run #{run.run_id}: read-back FAILED", "\n".join(lines)))
        self.action_reload()

    def go_back(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "run-detail":
            if self.screen.focused is self.query_one("#rejection-filter", Input):
                self.query_one(RunDetail).rejection_log.focus()
                return
            switcher.current = "history-list"
            self.detail_open = False
            self.refresh_bindings()
            self.table.focus()
