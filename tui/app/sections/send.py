"""Send: destination and source file, a preview of the first rows as they will be sent, dry-run
counts, then send or send a sample; the live run.

enter in the file field previews and moves to the preview, where the keys work. The run keeps
going while the operator looks at other sections; the header shows its state.
"""
from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Select, Static

from tui.app.guard import mutating
from tui.app.path_suggester import PathSuggester
from tui.app.sections.base import Section
from tui.app.send_preview import SendPreview
from tui.app.widgets.run_panel import RunPanel
from tui.app.workers import run_blocking
from tui.sync.engine import SAMPLE_MAX, SAMPLE_MIN, SendResult

SAMPLE_SIZE = 50
RATE_STEP = 1.25   # +/- multiply or divide the rate by this
RUN_KEYS = {"pause", "resume", "rate", "cancel"}      # shown only while a send runs
START_KEYS = {"dry_run", "send", "sample"}           # shown only while none runs
HINT = "enter previews the first rows; then d dry run, m sample of 50, s send"


def dry_run_text(result: SendResult) -> str:
    run = result.run
    return (f"Dry run: read {run.rows_read:,}: would send {run.not_sent:,}, invalid {run.invalid:,}, "
            f"unchanged {run.skipped_unchanged:,}. Nothing was sent.")


class SendSection(Section):
    TITLE = "Send"
    BINDINGS = [
        Binding("d", "dry_run", "Dry run", id="send.dry_run"),
        Binding("m", "sample", "Sample", id="send.sample"),
        Binding("s", "send", "Send", id="send.send"),
        Binding("p", "pause", "Pause", id="send.pause"),
        Binding("r", "resume", "Resume", id="send.resume"),
        Binding("plus", "rate(1)", "Rate+", id="send.rate_up"),
        Binding("minus", "rate(-1)", "Rate-", id="send.rate_down"),
        Binding("c", "cancel", "Cancel", id="send.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="section-fields"):
            with Horizontal(classes="form-row"):
                yield Label("Destination", classes="form-label")
                yield Select[str]([], prompt="choose", id="send-destination", allow_blank=True, compact=True,
                                      type_to_search=False)
            with Horizontal(classes="form-row"):
                yield Label("Source file", classes="form-label")
                yield Input(placeholder="path to a CSV, TSV or JSONL file (tab completes)",
                            suggester=PathSuggester(), id="send-source", compact=True)
        yield Static(HINT, id="send-status", markup=False)
        with ContentSwitcher(initial="send-preview", id="send-view"):
            with Vertical(id="send-preview"):
                yield Static("No preview yet: choose the destination and the file, then enter.",
                             id="preview-summary", markup=False)
                yield DataTable(id="preview-table", cursor_type="row", zebra_stripes=False)
            yield RunPanel(id="run-panel")

    def refresh_view(self) -> None:
        console = self.console
        environment = console.environment
        select = self.query_one("#send-destination", Select)
        names = list(environment.destinations) if environment else []
        current = select.value
        select.set_options((name, name) for name in names)
        if current in names:
            select.value = current
        elif len(names) == 1:
            select.value = names[0]
        source = self.query_one("#send-source", Input)
        if environment is not None and not source.value:
            backend = console.backend
            run_blocking(self, "Sample audience", lambda: backend.sample_audience(environment),
                         self.offer_sample, group="send-sample-path", exclusive=True)

    def offer_sample(self, path: Path | None) -> None:
        source = self.query_one("#send-source", Input)
        if path is not None and not source.value:
            source.value = str(path)
            # Preview at once: it moves focus off the path input, so d/m/s act instead of typing.
            self.action_preview()

    def focus_main(self) -> None:
        if self.query_one(ContentSwitcher).current == "run-panel":
            self.query_one(RunPanel).focus()
        elif self.query_one(DataTable).row_count:
            self.query_one(DataTable).focus()
        else:
            self.query_one("#send-source", Input).focus()

    def select_destination(self, name: str) -> None:
        self.query_one("#send-destination", Select).value = name
        self.query_one("#send-source", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.console.run_handle is not None
        if (action in RUN_KEYS and not running) or (action in START_KEYS and running):
            return False
        return super().check_action(action, parameters)

    def choice(self) -> tuple[str, Path] | None:
        destination = self.query_one("#send-destination", Select).value
        source = self.query_one("#send-source", Input).value.strip()
        if not isinstance(destination, str):
            self.notify("Choose a destination first.", severity="warning")
            return None
        if not source:
            self.notify("Type the source file's path.", severity="warning")
            return None
        return destination, Path(source).expanduser()

    def show_status(self, text: str) -> None:
        self.query_one("#send-status", Static).update(text)

    def show_run(self) -> None:
        self.query_one(ContentSwitcher).current = "run-panel"
        self.query_one(RunPanel).focus()

    # -- preview ---------------------------------------------------------------------------------

    @on(Input.Submitted, "#send-source")
    def source_submitted(self) -> None:
        self.action_preview()

    @on(Select.Changed, "#send-destination")
    def destination_changed(self) -> None:
        if self.query_one(DataTable).row_count:
            self.action_preview()  # the mapping changed: the preview must follow

    def action_preview(self) -> None:
        chosen = self.choice()
        environment = self.console.environment
        if not chosen or environment is None:
            return
        destination, source = chosen
        backend = self.console.backend
        self.show_status(f"Reading the first rows of {source}…")
        run_blocking(self, "Preview", lambda: backend.preview(environment, destination, source), self.show_preview,
                     failed=lambda: self.show_status(HINT), group="send-preview", exclusive=True)

    def show_preview(self, preview: SendPreview) -> None:
        mask = self.console.operator.show if self.console.identifiers_masked else None
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns("Row", preview.identifier_kind, *preview.attribute_names, "Problem")
        for row in preview.rows:
            identifier = mask(row.identifier) if mask and row.identifier else row.identifier
            values = [row.attributes.get(name, "") for name in preview.attribute_names]
            problem = f"{row.reason}: {row.message}" if row.reason else ""
            table.add_row(str(row.row), identifier or "-", *values, problem)
        self.query_one("#preview-summary", Static).update(
            f"First {len(preview.rows)} of ~{preview.rows_estimate:,} rows ({preview.format}) as they will be "
            f"sent to {preview.destination}: {preview.invalid} invalid")
        self.query_one(ContentSwitcher).current = "send-preview"
        self.show_status("Keys: d dry run (counts, sends nothing), m sample of 50, s send the whole file.")
        if self.console.current_section is self:  # a preview made in the background must not steal focus
            table.focus()

    def show_dry_run(self, result: SendResult) -> None:
        self.show_status(dry_run_text(result))

    # -- starting and steering -------------------------------------------------------------------

    def action_dry_run(self) -> None:
        chosen = self.choice()
        if chosen:
            self.console.start_dry_run(*chosen)

    @mutating
    def action_send(self) -> None:
        chosen = self.choice()
        if chosen:
            self.console.confirm_send(*chosen, sample=None)

    @mutating
    def action_sample(self) -> None:
        chosen = self.choice()
        if chosen:
            self.console.confirm_send(*chosen, sample=max(SAMPLE_MIN, min(SAMPLE_MAX, SAMPLE_SIZE)))

    def running(self):
        handle = self.console.run_handle
        if handle is None:
            self.notify("No send is running.", severity="warning")
        return handle

    @mutating
    def action_pause(self) -> None:
        if handle := self.running():
            handle.pause()

    @mutating
    def action_resume(self) -> None:
        if handle := self.running():
            handle.resume()

    @mutating
    def action_rate(self, direction: int) -> None:
        handle = self.running()
        progress = self.console.progress
        if handle is None or progress is None or progress.rate_limit is None:
            return
        rate = progress.rate_limit * (RATE_STEP if direction > 0 else 1 / RATE_STEP)
        try:
            handle.set_rate(round(rate, 2))
        except ValueError as error:
            self.notify(str(error), severity="error")

    @mutating
    def action_cancel(self) -> None:
        if handle := self.running():
            handle.cancel()
            self.show_status("Cancelling: in-flight requests drain, then the run is recorded.")
