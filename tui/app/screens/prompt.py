"""A one-field modal: a path, a key (password input), or a name typed to confirm a risky action.

`check` returns the problem with the current value (None when it is fine); it runs as the operator
types, so the reason is on screen before enter is pressed.
"""
from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tui.app.error_guard import ErrorGuard
from tui.app.widgets.key_hints import KeyHints

Check = Callable[[str], str | None]


def must_type(expected: str) -> Check:
    """Confirmation by typing the destination's name (production sends, promotion)."""
    return lambda value: None if value == expected else f"type {expected} exactly to confirm"


def not_empty(what: str) -> Check:
    return lambda value: None if value.strip() else f"{what} cannot be empty"


class PromptScreen(ErrorGuard, ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, explanation: str, *, value: str = "", password: bool = False,
                 check: Check | None = None, suggester: Suggester | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.initial = value
        self.password = password
        self.check = check
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="modal-title", markup=False)
            yield Static(self.explanation, markup=False)
            yield Input(value=self.initial, password=self.password, suggester=self.suggester,
                        id="prompt-input")
            yield Static("", id="prompt-problem", classes="problem", markup=False)
            yield KeyHints("enter confirms", ("prompt.cancel", "cancels"))

    def problem(self, value: str) -> str | None:
        return self.check(value) if self.check else None

    @on(Input.Changed)
    def show_problem(self, event: Input.Changed) -> None:
        self.query_one("#prompt-problem", Static).update(self.problem(event.value) or "")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        problem = self.problem(event.value)
        if problem:
            self.query_one("#prompt-problem", Static).update(problem)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
