"""The app's sends: confirm, start in a worker, feed the live run panel and the header, re-send a
run's rejected rows, read back what a run sent. One send runs at a time and keeps running while
the operator looks at other sections."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from tui.app.backend import RunRow
from tui.app.forms.choice import ChoiceScreen
from tui.app.forms.prompt import PromptScreen, must_type
from tui.app.header import ConsoleHeader
from tui.app.messages import RunProgressed
from tui.app.send_runner import RunHandle
from tui.app.sections.history import HistorySection
from tui.app.sections.send import SendSection
from tui.app.widgets.rejection_log import format_row
from tui.app.widgets.run_panel import RunPanel
from tui.app.workers import run_blocking
from tui.sync.engine import SendRequest, SendResult
from tui.sync.history import RESUMABLE, RunRecord
from tui.sync.progress import Progress
from tui.sync.progress_text import verification_summary
from tui.sync.tally import Stop
from tui.sync.terminal_text import escape_controls

if TYPE_CHECKING:
    from tui.app.app import ConsoleApp

TAIL_LINES = 5
CANCEL_AND_QUIT = "cancel-quit"
QUIT_QUESTION = "quit-question"


def resume_hint(run: RunRecord) -> str:
    return f"resume it with: attentive-console send {run.destination} --env {run.environment} --resume {run.id}"


def stop_text(stop: Stop, run: RunRecord) -> str:
    """Why a run stopped, in words (the message holds Attentive's answer or an OS error: escaped)."""
    message = escape_controls(stop.message)
    if stop.reason == "fatal":
        return f"Stopped: Attentive refused the credential: {message}"
    if stop.reason == "history":
        return (f"Stopped: the send history could not be written (is the disk full?), so nothing more was sent: "
                f"{message}. The run can be resumed; {resume_hint(run)}")
    return f"Stopped: {message}"  # unreachable: the message says what kept failing


class RunActions:
    def confirm_send(self: "ConsoleApp", destination: str, source: Path, *, sample: int | None) -> None:
        """Production sends ask for the destination's name to be typed."""
        environment = self.environment
        if environment is None or not self.send_slot_free():
            return
        what = f"a sample of {sample} rows" if sample else "the whole file"
        self.confirm_production(
            f"send {what} to {destination}", f"Source: {source}", destination,
            lambda: self.start_run(destination, f"Sending {source} to {destination}…",
                                   lambda: self.backend.send_request(environment, destination, source,
                                                                     sample=sample, dry_run=False)))

    def resend_rejections(self: "ConsoleApp", run: RunRow) -> None:
        """`attentive-console retry RUN_ID`: a new run of only the rejected and failed rows."""
        if not self.send_slot_free():
            return
        backend = self.backend
        self.confirm_production(
            f"re-send the rejected rows of run #{run.run_id} to {run.destination}",
            "The rejected and failed rows are read again from the run's file (fix it in place first)\n"
            "and sent as a new run.", run.destination,
            lambda: self.start_run(run.destination, f"Re-sending the rejected rows of run #{run.run_id}…",
                                   lambda: backend.retry_request(run.run_id)))

    def send_slot_free(self: "ConsoleApp") -> bool:
        if self.run_handle is not None:
            self.notify("A send is already running; watch it in Send (3), or cancel it there first.",
                        severity="warning")
            return False
        return True

    def confirm_production(self: "ConsoleApp", what: str, detail: str, name: str, go: Callable[[], None]) -> None:
        if not self.session.production:
            go()
            return

        def confirmed(value: str | None) -> None:
            if value is not None:
                go()

        self.push_screen(PromptScreen(f"!! PRODUCTION !! {what}",
                                      f"{detail}\nType the destination's name to go ahead:",
                                      check=must_type(name)), confirmed)

    def start_dry_run(self: "ConsoleApp", destination: str, source: Path) -> None:
        environment = self.environment
        if environment is None:
            return
        section = self.query_one(SendSection)
        section.show_status(f"Dry run of {source} to {destination}…")
        run_blocking(self, "Dry run",
                     lambda: RunHandle().run(self.backend.send_request(environment, destination, source,
                                                                       sample=None, dry_run=True), lambda _: None),
                     section.show_dry_run, failed=lambda: section.show_status(""), group="send-dry")

    def start_run(self: "ConsoleApp", destination: str, status: str, make_request: Callable[[], SendRequest]) -> None:
        """Start a send in a worker and show it live in Send; `make_request` checks access, resolves
        the key and writes send.started (it runs in the worker: it may start the simulator)."""
        section = self.show_section("send")
        assert isinstance(section, SendSection)
        handle = self.run_handle = RunHandle()
        self.query_one(RunPanel).destination = destination
        self.query_one(RunPanel).tail = ()
        section.show_run()
        section.show_status(status)
        self.refresh_bindings()

        def on_progress(progress: Progress) -> None:  # called on the send's thread
            self.post_message(RunProgressed(progress))

        def send() -> tuple[SendResult, SendRequest]:
            request = make_request()
            return handle.run(request, on_progress), request

        def finished(outcome: tuple[SendResult, SendRequest]) -> None:
            self.run_finished(*outcome)

        def failed() -> None:  # refused or a bad file: nothing ran, the slot is free again
            self.run_handle = None
            self.keep_open()
            section.show_status("")
            self.refresh_bindings()

        run_blocking(self, "Send", send, finished, failed=failed, group="send")

    def on_run_progressed(self: "ConsoleApp", message: RunProgressed) -> None:
        self.progress = message.progress
        self.query_one(RunPanel).progress = message.progress
        self.query_one(ConsoleHeader).progress = message.progress
        run_id = message.progress.run_id
        run_blocking(self, "Latest rejections", lambda: self.backend.latest_rejections(run_id, TAIL_LINES),
                     self.show_tail, group="run-tail", exclusive=True)

    def show_tail(self: "ConsoleApp", rows) -> None:
        mask = self.operator.show if self.identifiers_masked else None
        self.query_one(RunPanel).tail = tuple(format_row(row, mask) for row in rows)

    def run_finished(self: "ConsoleApp", result: SendResult, request: SendRequest) -> None:
        run = result.run
        self.run_handle = None
        self.refresh_bindings()
        self.query_one(ConsoleHeader).progress = None  # no send running: the header counts its jobs instead
        if self.job_watch is not None:
            self.job_watch.wake()  # its jobs are new: count them now, check them when due
        submitted = f"submitted {run.submitted:,}, " if run.submitted else ""
        text = (f"Run #{run.id} {run.status}: {submitted}accepted {run.accepted:,}, rejected {run.rejected:,}, "
                f"invalid {run.invalid:,}, unchanged {run.skipped_unchanged:,}")
        if result.stop is not None:
            text += "\n" + stop_text(result.stop, run)
        elif run.status == "awaiting_results":
            text += "\nAttentive is processing its bulk jobs; results arrive in History (4) while the console is open."
        self.query_one(SendSection).show_status(text)
        good = run.status in ("finished", "awaiting_results")
        self.notify(text + ("\nIts rejections are in History (4)." if run.rejected or run.invalid else ""),
                    severity="information" if good else "warning", timeout=10, markup=False)
        backend = self.backend

        def recorded(_: None) -> None:
            self.query_one(HistorySection).action_reload()
            if self.quit_after_run:  # the console outlives the run only to record it
                resumable = f"\n{resume_hint(run)}" if run.status in RESUMABLE else ""
                self.exit(message=Text(text + resumable))

        run_blocking(self, "Record the send", lambda: backend.send_finished(result, request.destination),
                     recorded, failed=self.keep_open, group="send-record")

    def keep_open(self: "ConsoleApp") -> None:
        """A cancel-and-quit met an error: the console stays so it is read; ctrl+q then quits at once."""
        self.quit_after_run = False

    async def action_quit(self: "ConsoleApp") -> None:
        """Without a send running, quit. During one, ask first: the send runs in a thread of this
        process, and quitting without a word left a blank screen while it went on to its end. The
        answers are "Cancel the send and quit" and Back; no "quit and keep it running", since nothing
        would be left to show or steer the send (that takes a background process the console does not
        have). Cancel and quit cancels through the send's control and waits for the drain (seconds: a
        cancel cuts short pacing and 429 back-off), so the run is recorded cancelled, and resumable,
        before the console exits."""
        handle = self.run_handle
        if handle is None:
            self.exit()
        elif self.quit_after_run:
            self.notify("Cancelling: the console quits once the run is recorded.")
        elif not any(screen.id == QUIT_QUESTION for screen in self.screen_stack):

            def answered(answer: str | None) -> None:
                if answer != CANCEL_AND_QUIT:
                    return
                if self.run_handle is not handle:  # it ended while the question was open
                    self.exit()
                    return
                self.quit_after_run = True
                handle.cancel()
                self.show_section("send")
                self.query_one(SendSection).show_status(
                    "Cancelling: in-flight requests drain, the run is recorded, then the console quits.")

            destination = self.query_one(RunPanel).destination
            self.push_screen(ChoiceScreen(
                f"A send to {destination} is running",
                "It runs inside this console: quitting ends it. Cancel it first: the requests in flight "
                "finish and are recorded (a few seconds), the run is saved as cancelled and can be "
                "resumed (send --resume), then the console quits.\nBack leaves the send running.",
                [(CANCEL_AND_QUIT, "Cancel the send and quit")], id=QUIT_QUESTION), answered)

    def runs_reloaded(self: "ConsoleApp", runs: Sequence[RunRow]) -> None:
        """After the send ended its jobs fold: the run panel follows the run in the history rather
        than keep the last progress of a send that ended awaiting results."""
        panel = self.query_one(RunPanel)
        progress = panel.progress
        if self.run_handle is not None or progress is None:
            return
        run = next((run for run in runs if run.run_id == progress.run_id), None)
        if run is not None:
            panel.progress = replace(progress, state=run.status, in_flight=0, accepted=run.accepted,
                                     rejected=run.rejected, failed=run.failed, submitted=run.submitted,
                                     unconfirmed=run.unconfirmed)

    def verify_run(self: "ConsoleApp", run: RunRow) -> None:
        """`attentive-console verify RUN_ID`: read back what the run sent and compare."""
        backend = self.backend

        def verified(result) -> None:
            lines = verification_summary(result)
            if result.verdict != "mismatched":
                self.notify(lines[0].strip(), title=f"Run #{run.run_id}")
            else:
                self.push_screen_message(f"Run #{run.run_id}: read-back FAILED", "\n".join(lines))
            self.query_one(HistorySection).action_reload()

        self.notify(f"Reading back run #{run.run_id}…")
        run_blocking(self, f"Verify run {run.run_id}", lambda: backend.verify_run(run.run_id), verified,
                     group="verify", exclusive=True)
