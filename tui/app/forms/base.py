"""What the credential and destination forms share: one save at a time, its status line, and how a
form ends (saved: dismiss with the summary; not saved: say so and allow another try; esc: None)."""
from __future__ import annotations

from textual import on
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.error_guard import ErrorGuard
from tui.app.messages import ConfigSaved, SaveFailed


class SettingsForm(ErrorGuard, ModalScreen[str | None]):
    """Dismisses with the save's summary (its ConfigSaved goes on to the app), or None when cancelled."""

    STATUS = ""  # the selector of the form's status line

    def __init__(self) -> None:
        super().__init__()
        self.saving = False

    def show_status(self, text: str) -> None:
        self.query_one(self.STATUS, Static).update(text)

    def begin_save(self, problems: list[str], status: str) -> bool:
        """Whether to start the save worker now: not while one runs, nor with problems on the form."""
        if self.saving:
            return False
        if problems:
            self.notify("Fix the problems shown first: " + problems[0], severity="error", timeout=8)
            return False
        self.show_status(status)
        self.saving = True
        return True

    @on(ConfigSaved)
    def saved(self, message: ConfigSaved) -> None:
        self.dismiss(message.summary)

    @on(SaveFailed)
    def not_saved(self) -> None:
        self.saving = False
        self.show_status("not saved")

    def action_cancel(self) -> None:
        self.dismiss(None)
