"""Send: destination, source (a file, a folder or a glob of an export's parts, or a SELECT/WITH
DuckDB query the backend spools) and this send's constants (`Campaign="Winter 2026" Wave=3`, as
`send --set`), a preview of the first rows as they will be sent (an audience destination's joins,
stays and leaves), dry-run counts, then send or send a sample; the live run.

enter in the file field previews and moves to the preview, where the keys work (the path field gets
the focus only while it is empty, so a key meant for the section never types into it). S (capital:
it changes Attentive) asks first, naming the destination, the environment and the rows (when the
preview showed the shrink guard would refuse, it says so and "Send anyway" allows the shrink); m sends a
sample. Both post SendRequested: the app checks that no send runs and confirms production (a typed
name, with the same details), then starts the run here (as it does a re-send from History). While it
runs: space pauses and resumes, +/- step the rate (the core's steps, up to the endpoint's limit),
C cancels after a yes. The run's worker keeps going while the operator looks at other sections; its
progress, end and record go on up to the app (the header, the history, quitting).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import var
from textual.widgets import ContentSwitcher, DataTable, Input, Select, Static

from tui.app.backend.protocol import ConsoleBackend, RunRow
from tui.app.backend.send_runner import RunHandle
from tui.app.console_view import ConsoleView
from tui.app.messages import (
    DryRunFailed,
    DryRunFinished,
    PreviewFailed,
    PreviewLoaded,
    RecordFailed,
    RunFinished,
    RunOrder,
    RunProgressed,
    RunRecorded,
    SampleFound,
    SendRefused,
    SendRequested,
    TailLoaded,
)
from tui.app.read_only import mutating
from tui.app.run_text import TAIL_LINES, finished_text, send_detail, send_what
from tui.app.screens.yes_no import YesNoScreen
from tui.app.sections.send_choice import (
    HINT,
    choice_fields,
    console_refusal,
    dry_run_text,
    fill_table,
    preview_keys,
    preview_summary,
)
from tui.app.sections.send_steering import RunSteering
from tui.app.widgets.rejection_log import format_row
from tui.app.widgets.run_panel import RunPanel
from tui.app.workers import post_result, reported
from tui.core.send_choice import SendChoice, read_source, shrink_refused, split_constants
from tui.core.send_preview import SendPreview
from tui.core.sends import duration_note
from tui.settings.errors import SettingsError
from tui.settings.model import Environment
from tui.sync.engine import SAMPLE_MAX, SAMPLE_MIN, SendRequest
from tui.sync.engine import SendRefused as EngineRefused
from tui.sync.progress import Progress
from tui.sync.rejections import Rejection

SAMPLE_SIZE = 50
RUN_KEYS = {"pause", "rate", "cancel"}               # shown only while a send runs
START_KEYS = {"dry_run", "send", "sample"}           # shown only while none runs


def no_progress(progress: Progress) -> None:
    """A dry run shows its counts once, at its end."""


class SendSection(RunSteering):
    TITLE = "Send"
    BINDINGS = [
        Binding("d", "dry_run", "Dry run", id="send.dry_run"),
        Binding("m", "sample", "Sample", id="send.sample"),
        Binding("S", "send", "Send all", id="send.send"),
    ]

    running: var[bool] = var(False, bindings=True)   # a send runs: its keys show, d/m/s hide

    def __init__(self, backend: ConsoleBackend, view: ConsoleView, **kwargs: Any) -> None:
        super().__init__(backend, view, **kwargs)
        self.preview: SendPreview | None = None      # the latest preview: its row estimate goes into S's question
        self.preview_choice: SendChoice | None = None  # what it was asked for

    def compose(self) -> ComposeResult:
        yield from choice_fields()
        yield Static(HINT, id="send-status", markup=False)
        with ContentSwitcher(initial="send-preview", id="send-view"):
            with Vertical(id="send-preview"):
                yield Static("No preview yet: choose the destination and the file (tab moves there), then enter.",
                             id="preview-summary", markup=False)
                yield DataTable(id="preview-table", cursor_type="row", zebra_stripes=False)
            yield RunPanel(id="run-panel")

    def refresh_view(self) -> None:
        environment = self.view.environment
        select = self.query_one("#send-destination", Select)
        names = list(environment.destinations) if environment else []
        current = select.value
        select.set_options((name, name) for name in names)
        if current in names:
            select.value = current
        elif names:  # the first in the file, shown in the field and named again by S's question
            select.value = names[0]
        source = self.query_one("#send-source", Input)
        if environment is not None and not source.value:
            self.find_sample(environment)

    @work(thread=True, name="Sample audience", group="send-sample-path", exclusive=True, exit_on_error=False)
    def find_sample(self, environment: Environment) -> None:
        with reported(self, "Sample audience"):
            post_result(self, SampleFound(self.backend.sample_audience(environment)))

    @on(SampleFound)
    def offer_sample(self, message: SampleFound) -> None:
        source = self.query_one("#send-source", Input)
        if message.path is not None and not source.value:
            source.value = str(message.path)
            # Preview at once (when a destination is chosen: no warning before the operator did anything);
            # it moves focus off the path input, so d/m/S act instead of typing.
            if isinstance(self.query_one("#send-destination", Select).value, str):
                self.action_preview()
            elif source.has_focus:
                self.query_one(DataTable).focus()

    def focus_main(self) -> None:
        """The path field only while it is empty, and never in a read-only console: otherwise the keys act
        on the preview, so a key meant for the section (or one a read-only console refuses) never types
        into the path. tab reaches the field when the operator means to type there."""
        source = self.query_one("#send-source", Input)
        if self.query_one(ContentSwitcher).current == "run-panel":
            self.query_one(RunPanel).focus()
        elif self.query_one(DataTable).row_count or source.value or self.read_only:
            self.query_one(DataTable).focus()
        else:
            source.focus()

    def select_destination(self, name: str) -> None:
        self.query_one("#send-destination", Select).value = name
        self.focus_main()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (action in RUN_KEYS and not self.running) or (action in START_KEYS and self.running):
            return False
        return super().check_action(action, parameters)

    def choice(self) -> SendChoice | None:
        destination = self.query_one("#send-destination", Select).value
        source = read_source(self.query_one("#send-source", Input).value)
        if not isinstance(destination, str):
            self.query_one("#send-destination", Select).focus()
            self.notify("Choose a destination first.", severity="warning")
            return None
        if source is None:
            self.notify("Type the source: a file, a folder, a glob or a SELECT query.", severity="warning")
            return None
        try:
            constants = split_constants(self.query_one("#send-constants", Input).value)
        except SettingsError as err:
            self.notify(str(err), title="Constants", severity="warning", timeout=10, markup=False)
            return None
        return SendChoice(destination, source, constants)

    def show_run(self) -> None:
        self.query_one(ContentSwitcher).current = "run-panel"
        if self.display:  # a run started from Send while the operator already went on keeps their focus
            self.query_one(RunPanel).focus()

    # -- preview ---------------------------------------------------------------------------------

    @on(Input.Submitted, "#send-source, #send-constants")
    def source_submitted(self) -> None:
        self.action_preview()

    @on(Select.Changed, "#send-destination")
    def destination_changed(self) -> None:
        if self.query_one(DataTable).row_count:
            self.action_preview()  # the mapping changed: the preview must follow

    def action_preview(self) -> None:
        chosen = self.choice()
        environment = self.view.environment
        if not chosen or environment is None:
            return
        self.show_status(f"Reading the first rows of {chosen.source}…")
        self.load_preview(environment, chosen)

    @work(thread=True, name="Preview", group="send-preview", exclusive=True, exit_on_error=False)
    def load_preview(self, environment: Environment, chosen: SendChoice) -> None:
        with reported(self, "Preview", PreviewFailed):
            preview = self.backend.preview(environment, chosen.destination, chosen.source, chosen.constants)
            post_result(self, PreviewLoaded(preview, chosen))

    @on(PreviewFailed)
    def preview_failed(self) -> None:
        self.show_status(HINT)

    @on(PreviewLoaded)
    def show_preview(self, message: PreviewLoaded) -> None:
        preview = self.preview = message.preview
        self.preview_choice = message.choice
        table = self.query_one(DataTable)
        fill_table(table, preview, self.view.mask)
        self.query_one("#preview-summary", Static).update(preview_summary(preview))
        self.query_one(ContentSwitcher).current = "send-preview"
        self.show_status(preview_keys(preview))
        if self.display:  # the section shown (ContentSwitcher): a preview made in the background must not steal focus
            table.focus()

    # -- d: a dry run (counts, nothing sent) ------------------------------------------------------

    def action_dry_run(self) -> None:
        chosen, environment = self.choice(), self.view.environment
        if chosen and environment is not None:
            self.show_status(f"Dry run of {chosen.source} to {chosen.destination}…")
            self.dry_run(environment, chosen)

    @work(thread=True, name="Dry run", group="send-dry", exit_on_error=False)
    def dry_run(self, environment: Environment, chosen: SendChoice) -> None:
        with reported(self, "Dry run", DryRunFailed):
            request = self.backend.send_request(environment, chosen.destination, chosen.source, sample=None,
                                                dry_run=True, constants=chosen.constants, allow_shrink=False)
            post_result(self, DryRunFinished(RunHandle().run(request, no_progress)))

    @on(DryRunFinished)
    def show_dry_run(self, message: DryRunFinished) -> None:
        self.show_status(dry_run_text(message.result))

    @on(DryRunFailed)
    def dry_run_failed(self) -> None:
        self.show_status("")

    # -- S, m: asked of the app, which starts the run here -------------------------------------------

    def previewed(self, chosen: SendChoice) -> SendPreview | None:
        """The latest preview, while the fields still say what it was asked for."""
        return self.preview if self.preview is not None and self.preview_choice == chosen else None

    @mutating
    def action_send(self) -> None:
        """The whole file, after a yes (production: the app asks for the destination's name instead).
        When the preview showed the shrink guard would refuse, the question says so and "Send anyway"
        sends with allow_shrink; without such a preview the engine's refusal is shown as any other."""
        chosen, environment = self.choice(), self.view.environment
        if not chosen or environment is None:
            return
        preview = self.previewed(chosen)
        shrink = preview.audience if preview is not None and shrink_refused(preview.audience) else None
        request = SendRequested(chosen.destination, chosen.source, sample=None,
                                rows_estimate=preview.rows_estimate if preview else None, constants=chosen.constants,
                                allow_shrink=shrink is not None, audience=shrink)
        if self.view.session.production:
            self.post_message(request)
            return
        self.app.push_screen(
            YesNoScreen(send_what(chosen.destination, None, anyway=request.allow_shrink).capitalize() + "?",
                        send_detail(chosen.destination, environment.name, chosen.source, request.rows_estimate,
                                    chosen.constants, shrink, duration_note(environment.destinations[chosen.destination],
                                                                            request.rows_estimate)),
                        yes="Send anyway" if request.allow_shrink else "Send"),
            partial(self.send_confirmed, request))

    def send_confirmed(self, request: SendRequested, yes: bool | None) -> None:
        if yes:
            self.post_message(request)

    @mutating
    def action_sample(self) -> None:
        if chosen := self.choice():
            sample = max(SAMPLE_MIN, min(SAMPLE_MAX, SAMPLE_SIZE))
            self.post_message(SendRequested(chosen.destination, chosen.source, sample=sample, rows_estimate=sample,
                                            constants=chosen.constants))

    def start_run(self, order: RunOrder, environment: Environment | None) -> None:
        """Claim the send slot, show the run live and start its worker (the app has checked the slot is
        free and had a production send confirmed)."""
        if isinstance(order, SendRequested):
            destination, status = order.destination, f"Sending {order.source} to {order.destination}…"
        else:
            destination, status = order.run.destination, f"Re-sending the rejected rows of run #{order.run.run_id}…"
        handle = self.run_handle = RunHandle()
        panel = self.query_one(RunPanel)
        panel.destination, panel.tail = destination, ()
        self.show_run()
        self.show_status(status)
        self.running = True
        self.run_send(order, environment, handle)

    @work(thread=True, name="Send", group="send", exit_on_error=False)
    def run_send(self, order: RunOrder, environment: Environment | None, handle: RunHandle) -> None:
        """The whole send on this thread: the request (access, key, send.started: it may start the
        simulator), then the engine; its progress comes back as RunProgressed."""
        with reported(self, "Send", SendRefused):
            request = self.send_request(order, environment)
            try:
                result = handle.run(request, self.post_progress)
            except EngineRefused as err:  # the shrink guard names the console's way past it, not --allow-shrink
                raise console_refusal(err) from None
            post_result(self, RunFinished(result, request.destination))

    def send_request(self, order: RunOrder, environment: Environment | None) -> SendRequest:
        if isinstance(order, SendRequested):
            if environment is None:
                raise ValueError("no environment is loaded")  # the app asks only with one: unreachable
            return self.backend.send_request(environment, order.destination, order.source, sample=order.sample,
                                             dry_run=False, constants=order.constants,
                                             allow_shrink=order.allow_shrink)
        return self.backend.retry_request(order.run.run_id, order.where, include_unknown=order.include_unknown)

    def post_progress(self, progress: Progress) -> None:
        """Called on the send's thread, several times a second."""
        self.post_message(RunProgressed(progress))

    @on(SendRefused)
    def send_refused(self) -> None:
        """Refused or a bad file: nothing ran, the slot is free again (the app shows the reason)."""
        self.run_handle = None
        self.show_status("")
        self.running = False

    @on(RunProgressed)
    def run_progressed(self, message: RunProgressed) -> None:
        self.progress = message.progress
        self.query_one(RunPanel).progress = message.progress
        self.load_tail(message.progress.run_id)

    @work(thread=True, name="Latest rejections", group="run-tail", exclusive=True, exit_on_error=False)
    def load_tail(self, run_id: int) -> None:
        with reported(self, "Latest rejections"):
            post_result(self, TailLoaded(self.backend.latest_rejections(run_id, TAIL_LINES)))

    @on(TailLoaded)
    def tail_loaded(self, message: TailLoaded) -> None:
        self.show_tail(message.rows)

    def show_tail(self, rows: Sequence[Rejection]) -> None:
        self.query_one(RunPanel).tail = tuple(format_row(row, self.view.mask) for row in rows)

    @on(RunFinished)
    def run_finished(self, message: RunFinished) -> None:
        """The slot is free; the app hears of it too (the header, the jobs to follow)."""
        run = message.result.run
        self.run_handle = None
        self.running = False
        text = finished_text(message.result)
        self.show_status(text)
        good = run.status in ("finished", "awaiting_results")
        self.notify(text + ("\nIts rejections are in History (4)." if run.rejected or run.invalid else ""),
                    severity="information" if good else "warning", timeout=10, markup=False)
        self.record_send(message)

    @work(thread=True, name="Record the send", group="send-record", exit_on_error=False)
    def record_send(self, finished: RunFinished) -> None:
        """The send.finished audit entry, with the exit code the CLI would return; RunRecorded goes on to
        the app (History reloads, a cancel-and-quit exits)."""
        with reported(self, "Record the send", RecordFailed):
            self.backend.send_finished(finished.result, finished.destination)
            post_result(self, RunRecorded(finished.result))

    def follow_history(self, runs: Sequence[RunRow]) -> None:
        """After the send ended its jobs fold: the panel follows the run in the history rather than
        keep the last progress of a send that ended awaiting results."""
        panel = self.query_one(RunPanel)
        progress = panel.progress
        if self.run_handle is not None or progress is None:
            return
        run = next((run for run in runs if run.run_id == progress.run_id), None)
        if run is not None:
            panel.progress = replace(progress, state=run.status, in_flight=0, accepted=run.accepted,
                                     rejected=run.rejected, failed=run.failed, submitted=run.submitted,
                                     unconfirmed=run.unconfirmed)
