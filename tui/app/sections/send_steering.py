"""Steering the running send from the Send section: space pauses and resumes (one toggle), +/- step
the rate through the core's steps (tui.core.sends.stepped_rate: 1, 2, 5, 10, 25, 50, 100 and the
endpoint's published limit, never above it), C cancels after a yes. SendSection builds on this."""
from __future__ import annotations

from functools import partial
from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from tui.app.backend.send_runner import RunHandle
from tui.app.read_only import mutating
from tui.app.run_text import cancel_detail
from tui.app.screens.yes_no import YesNoScreen
from tui.app.sections.base import Section
from tui.app.widgets.run_panel import RunPanel
from tui.core.sends import stepped_rate
from tui.sync.progress import Progress


class RunSteering(Section):
    BINDINGS = [
        Binding("space", "pause", "Pause/resume", id="send.pause"),
        Binding("plus", "rate(1)", "Rate+", id="send.rate_up"),
        Binding("minus", "rate(-1)", "Rate-", id="send.rate_down"),
        Binding("C", "cancel", "Cancel", id="send.cancel"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_handle: RunHandle | None = None    # the send running, if one is: one at a time
        self.progress: Progress | None = None

    def show_status(self, text: str) -> None:
        self.query_one("#send-status", Static).update(text)

    def running_handle(self) -> RunHandle | None:
        if self.run_handle is None:
            self.notify("No send is running.", severity="warning")
        return self.run_handle

    @mutating
    def action_pause(self) -> None:
        """space: pause, and space again resumes."""
        if handle := self.running_handle():
            if handle.paused:
                handle.resume()
                self.show_status("Resumed.")
            else:
                handle.pause()
                self.show_status("Paused: nothing more leaves until space resumes (C cancels).")

    @mutating
    def action_rate(self, direction: int) -> None:
        """+/-: the next step up or down from the rate asked last (or the one in force)."""
        handle, progress = self.running_handle(), self.progress
        if handle is None or progress is None or progress.rate_limit is None:
            return
        current = handle.rate if handle.rate is not None else progress.rate_limit
        limit = progress.endpoint_limit or max(current, progress.rate_limit)
        rate = stepped_rate(current, direction > 0, limit)
        handle.set_rate(rate)
        self.show_status(f"Rate: {rate:g} requests/s" + (" (the endpoint's published limit)" if rate >= limit
                                                         else f" (the endpoint's limit is {limit:g})"))

    @mutating
    def action_cancel(self) -> None:
        """C: after a yes; the run drains and is recorded cancelled (resumable)."""
        if (handle := self.running_handle()) is None:
            return
        run_id = self.progress.run_id if self.progress is not None else 0
        self.app.push_screen(YesNoScreen("Cancel the send?", cancel_detail(run_id, self.query_one(RunPanel).destination),
                                         yes="Cancel it"), partial(self.cancel_confirmed, handle))

    def cancel_confirmed(self, handle: RunHandle, yes: bool | None) -> None:
        if yes and self.run_handle is handle:  # not a run that ended while the question was open
            handle.cancel()
            self.show_status("Cancelling: in-flight requests drain, then the run is recorded.")
