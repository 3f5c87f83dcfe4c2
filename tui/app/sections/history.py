"""History: the environment's runs; enter opens a run's detail and rejection log, esc comes back."""
from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input

from tui.app.backend import RunRow
from tui.app.sections.base import Section
from tui.app.widgets.run_detail import RunDetail
from tui.app.workers import run_blocking


def run_matches(run: RunRow, text: str) -> bool:
    needle = text.lower()
    return any(needle in str(value).lower() for value in (run.run_id, run.destination, run.status, run.mode))


class HistorySection(Section):
    TITLE = "History"
    BINDINGS = [
        Binding("slash", "filter_runs", "Filter", id="history.filter"),
        Binding("r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: Sequence[RunRow] = ()

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="history-list", id="history-switcher"):
            with Vertical(id="history-list"):
                yield Input(placeholder="/ filter runs by destination, status or id; enter opens a run",
                            id="runs-filter")
                table: DataTable = DataTable(id="runs-table", cursor_type="row")
                table.add_columns("Run", "Started", "Destination", "Mode", "Status", "Read", "Accepted",
                                  "Rejected", "Invalid", "Read-back")
                yield table

    def refresh_view(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        console = self.console
        run_blocking(self, "Load runs", lambda: console.backend.runs(console.session.environment),
                     self.show_runs, group="history-runs", exclusive=True)

    def show_runs(self, runs: Sequence[RunRow]) -> None:
        self.runs = runs
        self.fill_table()

    def fill_table(self) -> None:
        text = self.query_one("#runs-filter", Input).value.strip()
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        for run in self.runs:
            if text and not run_matches(run, text):
                continue
            table.add_row(str(run.run_id), run.started_at, run.destination, run.mode, run.status,
                          f"{run.rows_read:,}", f"{run.accepted:,}", f"{run.rejected:,}",
                          f"{run.invalid:,}", run.verification or "-", key=str(run.run_id))

    def focus_main(self) -> None:
        if self.query_one(ContentSwitcher).current == "history-list":
            self.query_one("#runs-table", DataTable).focus()
        else:
            self.query_one(RunDetail).log.focus()

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
        console = self.console
        source = console.backend.rejection_source(run.run_id)
        mask = console.operator.show if console.identifiers_masked else None
        switcher = self.query_one(ContentSwitcher)
        await self.query(RunDetail).remove()
        detail = RunDetail(run, source, mask, id="run-detail")
        await switcher.mount(detail)
        switcher.current = "run-detail"
        detail.log.focus()

    def go_back(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "run-detail":
            if self.screen.focused is self.query_one("#rejection-filter", Input):
                self.query_one(RunDetail).log.focus()
                return
            switcher.current = "history-list"
            self.query_one("#runs-table", DataTable).focus()
