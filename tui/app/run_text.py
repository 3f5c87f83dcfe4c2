"""What the console says about a send: how it ended, why it stopped, how to resume it, and the
rate the +/- keys ask for. No Textual here."""
from __future__ import annotations

from tui.sync.engine import SendResult
from tui.sync.history import RunRecord
from tui.sync.tally import Stop
from tui.sync.terminal_text import escape_controls

TAIL_LINES = 5     # latest rejections under the live run
RATE_STEP = 1.25   # +/- multiply or divide the rate by this


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


def finished_text(result: SendResult) -> str:
    """The run's end for the status line, the notification and the exit after a cancel-and-quit."""
    run = result.run
    submitted = f"submitted {run.submitted:,}, " if run.submitted else ""
    text = (f"Run #{run.id} {run.status}: {submitted}accepted {run.accepted:,}, rejected {run.rejected:,}, "
            f"invalid {run.invalid:,}, unchanged {run.skipped_unchanged:,}")
    if result.stop is not None:
        text += "\n" + stop_text(result.stop, run)
    elif run.status == "awaiting_results":
        text += "\nAttentive is processing its bulk jobs; results arrive in History (4) while the console is open."
    return text


def stepped_rate(rate_limit: float, faster: bool) -> float:
    return round(rate_limit * (RATE_STEP if faster else 1 / RATE_STEP), 2)


QUIT_EXPLANATION = (
    "It runs inside this console: quitting ends it. Cancel it first: the requests in flight finish and are "
    "recorded (a few seconds), the run is saved as cancelled and can be resumed (send --resume), then the "
    "console quits.\nBack leaves the send running.")
