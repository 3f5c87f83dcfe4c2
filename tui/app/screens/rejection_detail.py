"""One rejection with everything known about it (enter on the rejection log): row, the full
identifier, reason, HTTP status, the full message and the source row's values as the send read them,
masked for a restricted-PII operator as the log is (the core decides: tui.core.rejection_detail).

What the log row holds shows at once; the source values follow from a worker (the core re-reads the
run's file, checked against its hash). esc or q closes it; y copies the identifier as shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.error_guard import ErrorGuard
from tui.app.widgets.key_hints import KeyHints
from tui.app.widgets.rejection_log import Mask, shown_identifier
from tui.app.workers import post_result, reported
from tui.sync.rejections import Rejection
from tui.sync.terminal_text import escape_controls, escape_lines

if TYPE_CHECKING:
    from tui.app.backend.protocol import ConsoleBackend, RunRow
    from tui.core.rejection_detail import RejectionDetail


def known_text(run: RunRow, row: Rejection, identifier: str) -> str:
    status = str(row.status) if row.status else "none (never sent, or no answer)"
    return "\n".join([
        f"run #{run.run_id}  {run.destination} ({run.environment})",
        f"row          {row.row:,}",
        f"identifier   {escape_controls(identifier) or '- (not recorded: verbose logging is off)'}",
        f"reason       {escape_controls(row.reason)}",
        f"http status  {status}",
        "message",
        escape_lines(row.message or "-"),
    ])


def values_text(detail: RejectionDetail | None) -> str:
    if detail is None:
        return "source row: reading the run's file…"
    if detail.values is None:
        return f"source row: not available: {escape_lines(detail.unavailable or 'unknown')}"
    width = max((len(column) for column, _ in detail.values), default=0)
    lines = [f"source {escape_controls(detail.source_place)}"
             + ("  (identifiers masked)" if detail.masked else "")]
    lines += [f"  {escape_controls(column):<{width}}  {escape_controls(value)}" for column, value in detail.values]
    return "\n".join(lines)


class RejectionDetailScreen(ErrorGuard, ModalScreen[None]):
    DEFAULT_CSS = """
    RejectionDetailScreen > .modal-box { width: 90%; max-height: 90%; }
    RejectionDetailScreen VerticalScroll { height: auto; max-height: 1fr; }
    RejectionDetailScreen #rejection-values { margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="rejection.close"),
        Binding("y", "copy", "Copy id", id="rejection.copy"),
    ]

    @dataclass
    class Loaded(Message):
        detail: RejectionDetail

    def __init__(self, run: RunRow, row: Rejection, backend: ConsoleBackend, *, mask: Mask | None) -> None:
        super().__init__()
        self.run = run
        self.row = row
        self.backend = backend
        self.identifier = shown_identifier(row, mask)
        self.detail: RejectionDetail | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(f"Rejection at row {self.row.row:,}", classes="modal-title", markup=False)
            with VerticalScroll():
                yield Static(known_text(self.run, self.row, self.identifier), id="rejection-known", markup=False)
                yield Static(values_text(None), id="rejection-values", markup=False)
            yield KeyHints(("rejection.copy", "copies the identifier"), ("rejection.close", "closes"))

    def on_mount(self) -> None:
        self.load(self.run.run_id, self.row.id)

    @work(thread=True, name="Read rejection", group="rejection-detail", exclusive=True, exit_on_error=False)
    def load(self, run_id: int, rejection_id: int) -> None:
        with reported(self, "Read rejection"):
            post_result(self, self.Loaded(self.backend.rejection_detail(run_id, rejection_id)))

    @on(Loaded)
    def loaded(self, message: RejectionDetailScreen.Loaded) -> None:
        self.detail = detail = message.detail
        self.identifier = detail.rejection.identifier or ""   # as the core shows it to this operator
        self.query_one("#rejection-known", Static).update(known_text(self.run, detail.rejection, self.identifier))
        self.query_one("#rejection-values", Static).update(values_text(detail))

    def action_copy(self) -> None:
        if not self.identifier:
            self.notify("This rejection has no identifier recorded.", severity="warning")
            return
        self.app.copy_to_clipboard(self.identifier)
        self.notify(f"copied {escape_controls(self.identifier)}", markup=False)
