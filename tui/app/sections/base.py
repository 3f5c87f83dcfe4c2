"""What every section shares: a title, the backend for its own reads, the view the app hands down,
and read-only awareness."""
from __future__ import annotations

from typing import Any, ClassVar

from textual.containers import Vertical

from tui.app.backend.protocol import ConsoleBackend
from tui.app.console_view import ConsoleView
from tui.app.error_guard import ErrorGuard
from tui.app.read_only import action_allowed


class Section(ErrorGuard, Vertical):
    TITLE: ClassVar[str] = ""

    def __init__(self, backend: ConsoleBackend, view: ConsoleView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self.view = view

    @property
    def read_only(self) -> bool:
        return self.view.session.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action_allowed(self, action, read_only=self.read_only)

    def show_view(self, view: ConsoleView) -> None:
        """The app's state changed: keep the new view and redraw from it."""
        self.view = view
        self.refresh_view()

    def refresh_view(self) -> None:
        """Redraw from the view's environment, connections and runs."""

    def focus_main(self) -> None:
        """Put the focus where the section's keys work (its main table or input)."""
        focusable = [widget for widget in self.query("*") if widget.focusable]
        if focusable:
            focusable[0].focus()

    def go_back(self) -> None:
        """`esc`: sections with a detail view return to their list; others do nothing."""
