"""What every section shares: a title, read-only awareness, and a hook to redraw from app state."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical

from tui.app.error_guard import ErrorGuard
from tui.app.guard import ReadOnlyAware

if TYPE_CHECKING:
    from tui.app.app import ConsoleApp


class Section(ErrorGuard, ReadOnlyAware, Vertical):
    TITLE: ClassVar[str] = ""

    @property
    def console(self) -> "ConsoleApp":
        return self.app  # type: ignore[return-value]

    def refresh_view(self) -> None:
        """Redraw from the app's current environment, connections and runs."""

    def focus_main(self) -> None:
        """Put the focus where the section's keys work (its main table or input)."""
        focusable = [widget for widget in self.query("*") if widget.focusable]
        if focusable:
            focusable[0].focus()

    def go_back(self) -> None:
        """`esc`: sections with a detail view return to their list; others do nothing."""
