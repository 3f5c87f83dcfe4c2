"""A question with its answers as buttons (quit during a send, replace an existing file).

Back is always one of the answers and has the focus, so an enter pressed out of habit changes
nothing; esc and q are Back too.
"""
from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.error_guard import ErrorGuard
from tui.app.widgets.key_hints import KeyHints

BACK = "back"


class ChoiceScreen(ErrorGuard, ModalScreen[str | None]):
    """Dismissed with the chosen answer's key, or None for Back."""

    DEFAULT_CSS = """
    ChoiceScreen #choice-buttons { height: auto; margin: 1 0 0 0; }
    ChoiceScreen Button { margin: 0 2 0 0; }
    """
    AUTO_FOCUS = f"#choice-{BACK}"
    BINDINGS = [Binding("escape,q", "dismiss", "Back", id="choice.back")]

    def __init__(self, title: str, explanation: str, answers: Sequence[tuple[str, str]], *,
                 id: str | None = None) -> None:
        """`answers`: (key, button label) of each answer besides Back, in the order shown."""
        super().__init__(id=id)
        self.title_text = title
        self.explanation = explanation
        self.answers = answers

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="modal-title", markup=False)
            yield Static(self.explanation, markup=False)
            with Horizontal(id="choice-buttons"):
                for key, label in self.answers:
                    yield Button(label, id=f"choice-{key}", variant="warning", compact=True)
                yield Button("Back", id=f"choice-{BACK}", compact=True)
            yield KeyHints("tab moves between the answers", "enter chooses", ("choice.back", "goes back"))

    @on(Button.Pressed)
    def chosen(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("choice-")
        self.dismiss(None if key == BACK else key)
