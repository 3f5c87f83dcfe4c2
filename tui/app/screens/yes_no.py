"""A yes/no question before something that changes Attentive (S sends the whole file, C cancels a run).

`y` (or the Yes button) goes ahead; `n`, `esc` and `q` (or the No button, which has the focus, so an
enter pressed out of habit changes nothing) do not.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.error_guard import ErrorGuard
from tui.app.widgets.key_hints import KeyHints


class YesNoScreen(ErrorGuard, ModalScreen[bool]):
    """Dismissed with True for yes, False otherwise."""

    DEFAULT_CSS = """
    YesNoScreen #yes-no-buttons { height: auto; margin: 1 0 0 0; }
    YesNoScreen Button { margin: 0 2 0 0; }
    """
    AUTO_FOCUS = "#yes-no-no"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="yes_no.yes"),
        Binding("n,escape,q", "answer(False)", "No", id="yes_no.no"),
    ]

    def __init__(self, title: str, explanation: str, yes: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="modal-title", markup=False)
            yield Static(self.explanation, markup=False)
            with Horizontal(id="yes-no-buttons"):
                yield Button(f"{self.yes} (y)", id="yes-no-yes", variant="warning", compact=True)
                yield Button("No (n)", id="yes-no-no", compact=True)
            yield KeyHints(("yes_no.yes", "goes ahead"), ("yes_no.no", "changes nothing"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes-no-yes")
