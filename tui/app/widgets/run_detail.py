"""One run: its summary, the rejection facets, the `/` filter and the rejection log."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.app.backend import RunRow
from tui.app.error_guard import ErrorGuard
from tui.app.forms.facet_picker import FacetPicker
from tui.app.guard import ReadOnlyAware, mutating
from tui.app.rejections import RejectionSource, describe
from tui.sync.rejections import Facets, RejectionFilter
from tui.sync.terminal_text import escape_controls
from tui.app.widgets.rejection_log import HEADER, Mask, RejectionLog
from tui.app.widgets.run_jobs import RunJobsScreen

FILTER_DEBOUNCE_S = 0.15


def run_summary_text(run: RunRow) -> str:
    """Two lines, and a third when the run has bulk jobs or a read-back."""
    failed = f"  failed {run.failed:,}" if run.failed else ""
    lines = [f"run #{run.run_id} {run.destination} ({run.environment}) {run.status}  started {run.started_at}",
             f"read {run.rows_read:,}  accepted {run.accepted:,}  rejected {run.rejected:,}  invalid {run.invalid:,}  "
             f"unchanged {run.skipped_unchanged:,}{failed}"]
    extra = []
    if run.jobs:
        unconfirmed = f", unconfirmed {run.unconfirmed:,}" if run.unconfirmed else ""
        extra.append(f"jobs: {run.jobs_pending:,} of {run.jobs:,} pending, submitted {run.submitted:,}{unconfirmed}")
    if run.verification:
        extra.append(f"read-back: {run.verification}")
    return "\n".join(lines + (["   ".join(extra)] if extra else []))


def facets_text(facets: Facets | None, where: RejectionFilter, shown: str) -> str:
    """`facets` None: the first page is shown and the counts are still running."""
    if facets is None:
        reasons = statuses = "counting…"
    else:
        reasons = "  ".join(f"{escape_controls(name)} {count:,}" for name, count in
                            sorted(facets.reasons.items(), key=lambda item: -item[1]))
        statuses = "  ".join(f"{status or 'none'} {count:,}" for status, count in
                             sorted(facets.statuses.items(), key=lambda item: -item[1]))
    return (f"{shown} shown ({describe(where)})   reasons: {reasons or '-'}\n"
            f"http: {statuses or '-'}   f facet  / filter  x export  R re-send  v verify  j jobs")


class RunDetail(ErrorGuard, ReadOnlyAware, Vertical):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="rejections.filter"),
        Binding("f", "facet", "Facet", id="rejections.facet"),
        Binding("x", "export", "Export CSV", id="rejections.export"),
        Binding("R", "resend", "Re-send", id="rejections.resend"),
        Binding("v", "verify", "Verify", id="rejections.verify"),
        Binding("j", "jobs", "Jobs", id="run.jobs"),
    ]

    def __init__(self, run: RunRow, source: RejectionSource, mask: Mask | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.source = source
        self.mask = mask
        self.facets = Facets(total=0)
        self.debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(run_summary_text(self.run), id="run-summary", markup=False)
        yield Static("", id="run-facets", markup=False)
        yield Input(placeholder="/ filter on identifier or message (enter applies, esc leaves)",
                    id="rejection-filter")
        yield Static(HEADER, id="rejection-header", markup=False)
        yield RejectionLog(self.source, mask=self.mask, id="rejection-log")

    @property
    def log(self) -> RejectionLog:
        return self.query_one(RejectionLog)

    def on_rejection_log_shown(self, message: RejectionLog.Shown) -> None:
        page = message.page
        self.query_one("#run-facets", Static).update(facets_text(None, page.where, page.count_text))

    def on_rejection_log_queried(self, message: RejectionLog.Queried) -> None:
        result = message.result
        self.facets = result.facets
        self.query_one("#run-facets", Static).update(facets_text(result.facets, result.where, f"{result.total:,}"))

    def action_filter(self) -> None:
        self.query_one("#rejection-filter", Input).focus()

    def apply(self, where: RejectionFilter) -> None:
        self.log.set_filter(where)

    @on(Input.Changed, "#rejection-filter")
    def filter_typed(self, event: Input.Changed) -> None:
        if self.debounce is not None:
            self.debounce.stop()
        text = event.value.strip()
        self.debounce = self.set_timer(FILTER_DEBOUNCE_S, lambda: self.apply_text(text))

    @on(Input.Submitted, "#rejection-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if self.debounce is not None:
            self.debounce.stop()
        self.apply_text(event.value.strip())
        self.log.focus()

    def apply_text(self, text: str) -> None:
        current = self.log.where
        if text != (current.text or ""):
            self.apply(RejectionFilter(text=text, reason=current.reason, status=current.status))

    def action_facet(self) -> None:
        def picked(where: RejectionFilter | None) -> None:
            if where is not None:
                self.apply(where)

        self.app.push_screen(FacetPicker(self.facets, self.log.where), picked)

    def action_export(self) -> None:
        self.app.export_rejections(self.run, self.log.where)  # type: ignore[attr-defined]

    @mutating
    def action_resend(self) -> None:
        self.app.resend_rejections(self.run)  # type: ignore[attr-defined]

    def action_verify(self) -> None:
        self.app.verify_run(self.run)  # type: ignore[attr-defined]

    def action_jobs(self) -> None:
        self.app.push_screen(RunJobsScreen(self.run))

    def update_run(self, run: RunRow) -> None:
        """The run changed in the history (a job folded): a new summary, and the log again if the
        fold added rejections."""
        before, self.run = self.run, run
        self.query_one("#run-summary", Static).update(run_summary_text(run))
        if (run.rejected, run.failed) != (before.rejected, before.failed):
            self.apply(self.log.where)
