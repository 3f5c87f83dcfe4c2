"""A modal message for errors that need reading (a worker failure, a refused action)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.widgets.key_hints import KeyHints
from tui.sync.terminal_text import escape_controls, escape_lines


class MessageScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="message.close"),
        Binding("enter", "dismiss", "Close", id="message.ok", show=False),
    ]

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box -error"):
            # Errors quote data (a file name, Attentive's answer): its controls are drawn escaped.
            yield Static(escape_controls(self.title_text), classes="modal-title", markup=False)
            with VerticalScroll():
                yield Static(escape_lines(self.detail), markup=False, id="message-detail")
            yield KeyHints(("message.ok", "closes"), ("message.close", "closes"))
