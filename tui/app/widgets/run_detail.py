"""One run: its summary, the rejection facets, the `/` filter and the rejection log; from here the
operator opens a rejection (enter), copies its identifier (y) or the run's id (i), exports the
rejections (x), re-sends the rows the filter shows (R: confirmed here with their count, then a request
to the app), reads the run back (v) and opens its bulk jobs (b)."""
from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.app.backend.protocol import ConsoleBackend, RunRow
from tui.app.error_guard import ErrorGuard
from tui.app.forms.facet_picker import FacetPicker
from tui.app.messages import RejectionsExported, ResendRequested, VerifyRequested
from tui.app.read_only import action_allowed, mutating
from tui.app.screens.choice import ChoiceScreen
from tui.app.screens.prompt import PromptScreen, not_empty
from tui.app.screens.rejection_detail import RejectionDetailScreen
from tui.app.screens.yes_no import YesNoScreen
from tui.app.widgets.rejection_log import Mask, RejectionLogView
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.app.workers import post_result, reported
from tui.core.rejection_pages import RejectionSource, describe
from tui.sync.reasons import EVENT_UNKNOWN
from tui.sync.rejections import Facets, RejectionFilter, is_everything
from tui.sync.terminal_text import escape_controls

FILTER_DEBOUNCE_S = 0.15


@dataclass
class RetryCounted(Message):
    """How many rows a re-send of the filter would send (the core's count), for the confirmation."""
    where: RejectionFilter
    count: int


def chooses_unknown(where: RejectionFilter) -> bool:
    """The log filtered to the unknown events: R then re-sends them (the console's --include-unknown),
    after a question that says they may arrive twice. Without that filter they are never re-sent."""
    return where.reason == EVENT_UNKNOWN


def run_summary_text(run: RunRow) -> str:
    """Two lines, and a third when the run has bulk jobs, a read-back, or events sent before or unknown."""
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
    if run.skipped_already_sent or run.unknown:
        unknown = f"  UNKNOWN {run.unknown:,}: f picks event_unknown, R re-sends" if run.unknown else ""
        extra.append(f"already sent {run.skipped_already_sent:,}{unknown}")
    return "\n".join(lines + (["   ".join(extra)] if extra else []))


def facets_text(facets: Facets | None, where: RejectionFilter, shown: str) -> str:
    """`facets` None: the first page is shown and the counts are still running."""
    if facets is None:
        reasons = statuses = "counting…"
    else:
        reasons = "  ".join(f"{escape_controls(name)} {count:,}" for name, count in
                            sorted(facets.reasons.items(), key=lambda item: -item[1]))
        statuses = "  ".join(f"{status_name(status)} {count:,}" for status, count in
                             sorted(facets.statuses.items(), key=lambda item: -item[1]))
    return (f"{shown} shown ({describe(where)})   reasons: {reasons or '-'}\n"
            f"http: {statuses or '-'}   f facet  / filter  x export  R re-send  v verify  b jobs")


def status_name(status: int | None) -> str:
    """A facet's HTTP status as the console and `rejections --json` name it: "none" when no answer came."""
    return str(status) if status else "none"


def is_regular_file(path: Path) -> bool:
    """lstat: a symbolic link counts as the link, never as the file it points to."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


class RunDetail(ErrorGuard, Vertical):
    # Each facet line on one line, cut with an ellipsis (wrapped, the first pushed the http line out at 80 columns).
    DEFAULT_CSS = "RunDetail #run-facets { text-wrap: nowrap; text-overflow: ellipsis; }"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="rejections.filter"),
        Binding("f", "facet", "Facet", id="rejections.facet"),
        Binding("x", "export", "Export CSV", id="rejections.export"),
        Binding("R", "resend", "Re-send", id="rejections.resend"),
        Binding("v", "verify", "Verify", id="rejections.verify"),
        Binding("b", "jobs", "Jobs", id="run.jobs"),
        Binding("i", "copy_run_id", "Copy run id", id="run.copy_id", show=False),
    ]

    def __init__(self, run: RunRow, source: RejectionSource, backend: ConsoleBackend, *, mask: Mask | None,
                 read_only: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.source = source
        self.backend = backend
        self.mask = mask
        self.read_only = read_only
        self.facets = Facets(total=0)
        self.debounce: Timer | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action_allowed(self, action, read_only=self.read_only)

    def compose(self) -> ComposeResult:
        yield Static(run_summary_text(self.run), id="run-summary", markup=False)
        yield Static("", id="run-facets", markup=False)
        yield Input(placeholder="/ filter on identifier or message (enter applies, esc leaves)",
                    id="rejection-filter")
        yield RejectionLogView(self.source, mask=self.mask, id="rejection-log")

    @property
    def rejection_log(self) -> RejectionLogView:
        return self.query_one(RejectionLogView)

    def on_rejection_log_view_shown(self, message: RejectionLogView.Shown) -> None:
        page = message.page
        self.query_one("#run-facets", Static).update(facets_text(None, page.where, page.count_text))

    def on_rejection_log_view_queried(self, message: RejectionLogView.Queried) -> None:
        result = message.result
        self.facets = result.facets
        self.query_one("#run-facets", Static).update(facets_text(result.facets, result.where, f"{result.total:,}"))

    def action_filter(self) -> None:
        self.query_one("#rejection-filter", Input).focus()

    def apply(self, where: RejectionFilter) -> None:
        self.rejection_log.set_filter(where)

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
        self.rejection_log.focus()

    def apply_text(self, text: str) -> None:
        current = self.rejection_log.where
        if text != (current.text or ""):
            self.apply(dataclasses.replace(current, text=text))

    def action_facet(self) -> None:
        self.app.push_screen(FacetPicker(self.facets, self.rejection_log.where), self.facet_picked)

    def facet_picked(self, where: RejectionFilter | None) -> None:
        if where is not None:  # in the order shown
            current = self.rejection_log.where
            self.apply(dataclasses.replace(where, order=current.order, descending=current.descending))

    # -- enter, y, i: a rejection, its identifier, the run id -------------------------------------

    @on(RejectionLogView.Opened)
    def open_rejection(self, message: RejectionLogView.Opened) -> None:
        self.app.push_screen(RejectionDetailScreen(self.run, message.rejection, self.backend, mask=self.mask))

    @on(RejectionLogView.CopyEmpty)
    def copy_empty(self) -> None:
        """y on an empty log (or a row without an identifier recorded): the run id."""
        self.action_copy_run_id()

    def action_copy_run_id(self) -> None:
        self.app.copy_to_clipboard(str(self.run.run_id))
        self.notify(f"copied run id {self.run.run_id}")

    # -- R: re-send the rows the filter shows, once the operator has read their count ------------

    @mutating
    def action_resend(self) -> None:
        self.count_retry(self.rejection_log.where.matching)

    @work(thread=True, name="Count re-send", group="retry-count", exclusive=True, exit_on_error=False)
    def count_retry(self, where: RejectionFilter) -> None:
        with reported(self, "Re-send"):
            count = self.backend.retry_count(self.run.run_id, where, include_unknown=chooses_unknown(where))
            post_result(self, RetryCounted(where, count))

    @on(RetryCounted)
    def retry_counted(self, message: RetryCounted) -> None:
        message.stop()
        where, count, run = message.where, message.count, self.run
        if count == 0:
            matching = "" if is_everything(where) else f" match {describe(where)}"
            held = (f" The {run.unknown:,} unknown events go again only from the event_unknown facet (f)."
                    if run.unknown and not chooses_unknown(where) else "")
            self.notify(f"Nothing to re-send: no rejected or failed rows{matching} (duplicates are never re-sent)."
                        + held, severity="warning")
            return
        rows = f"{count:,} row" + ("" if count == 1 else "s")
        question = f"Re-send {rows} ({describe(where)}) to {run.destination} in {run.environment}?"
        if chooses_unknown(where):  # `retry --include-unknown`: said in words, as the flag says it
            body = (f"{question}\nNo answer said whether these events reached Attentive: any that did will arrive "
                    "twice. Check in Attentive first (a custom event by its externalEventId).")
        else:
            body = f"{question}\nThey are read again from the run's file (fix it in place first) and sent as a new run."
        title = f"Re-send {'unknown events' if chooses_unknown(where) else 'rejected rows'} of run #{run.run_id}"
        self.app.push_screen(YesNoScreen(title, body, yes=f"Re-send {rows}"),
                             partial(self.resend_answered, where, count))

    def resend_answered(self, where: RejectionFilter, count: int, yes: bool | None) -> None:
        if yes:
            self.post_message(ResendRequested(self.run, where, count, chooses_unknown(where)))

    def action_jobs(self) -> None:
        self.app.push_screen(RunJobsScreen(self.run, self.backend))

    # -- v: read back what the run sent and compare (`attentive-console verify RUN_ID`) -------------

    def action_verify(self) -> None:
        """History, around this detail, reads the run back: one flow for the list's v and this one."""
        self.post_message(VerifyRequested(self.run))

    # -- x: export the filtered rejections to CSV --------------------------------------------------

    def action_export(self) -> None:
        self.ask_export_path(self.rejection_log.where)

    def export_title(self, where: RejectionFilter) -> str:
        return f"Export rejections of run #{self.run.run_id} ({describe(where)})"

    def ask_export_path(self, where: RejectionFilter, value: str = "") -> None:
        """Ask for the file; a file that exists is replaced only once the operator says so. Anything
        else there (a symbolic link, a folder) goes to the export, which refuses it with the reason."""
        self.app.push_screen(PromptScreen(self.export_title(where), "CSV file to write (asks before replacing a file):",
                                          value=value or f"rejections-run-{self.run.run_id}.csv",
                                          check=not_empty("the file name")), partial(self.export_path_typed, where))

    def export_path_typed(self, where: RejectionFilter, path: str | None) -> None:
        if not path:
            return
        target = Path(path).expanduser()
        if not is_regular_file(target):
            self.export(where, target, overwrite=False)
            return
        self.app.push_screen(ChoiceScreen(self.export_title(where), f"{target} already exists. Replace it with this export?",
                                          [("replace", "Replace the file")]), partial(self.replace_answered, where, path))

    def replace_answered(self, where: RejectionFilter, path: str, answer: str | None) -> None:
        if answer == "replace":
            self.export(where, Path(path).expanduser(), overwrite=True)
        else:  # Back: to the file name, to choose another
            self.ask_export_path(where, path)

    @work(thread=True, name="Export rejections", group="export", exit_on_error=False)
    def export(self, where: RejectionFilter, target: Path, *, overwrite: bool) -> None:
        masked = self.mask is not None
        with reported(self, "Export rejections"):
            count = self.backend.export_rejections(self.run.run_id, where, target, masked=masked, overwrite=overwrite)
            post_result(self, RejectionsExported(target, count, masked))

    @on(RejectionsExported)
    def exported(self, message: RejectionsExported) -> None:
        self.notify(f"Wrote {message.count:,} rejections to {message.path}"
                    + (" (identifiers masked)" if message.masked else ""), markup=False)

    def update_run(self, run: RunRow) -> None:
        """The run changed in the history (a job folded): a new summary, and the log again if the
        fold added rejections."""
        before, self.run = self.run, run
        self.query_one("#run-summary", Static).update(run_summary_text(run))
        if (run.rejected, run.failed) != (before.rejected, before.failed):
            self.apply(self.rejection_log.where)
