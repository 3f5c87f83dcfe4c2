"""What the console says about a send: the questions before it starts and before a cancel, how it
ended, why it stopped, how to resume it, and the per-second series the live run draws. No Textual here.
(The rate the +/- keys ask for is the core's: tui.core.sends.stepped_rate.)"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from tui.settings.model import KIND_ENDPOINTS
from tui.sync.engine import SendResult
from tui.sync.history import RunRecord
from tui.sync.membership import AudienceCounts
from tui.sync.tally import Stop
from tui.sync.terminal_text import escape_controls

TAIL_LINES = 4      # latest rejections under the live run (the panel keeps to 80x24)
SERIES_S = 60       # the sparklines show the last minute, one value a second


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
    # An event run has nothing unchanged: what it skipped was sent before.
    skipped = (f"already sent {run.skipped_already_sent:,}" if run.endpoint in KIND_ENDPOINTS.values()
               else f"unchanged {run.skipped_unchanged:,}")
    text = (f"Run #{run.id} {run.status}: {submitted}accepted {run.accepted:,}, rejected {run.rejected:,}, "
            f"invalid {run.invalid:,}, {skipped}")
    if run.unknown:
        text += f"\n{run.unknown:,} UNKNOWN (no answer said if they arrived): held back; History (4) lists them"
    if result.stop is not None:
        text += "\n" + stop_text(result.stop, run)
    elif run.status == "awaiting_results":
        text += "\nAttentive is processing its bulk jobs; results arrive in History (4) while the console is open."
    return text


def send_what(destination: str, sample: int | None, *, anyway: bool = False) -> str:
    what = f"a sample of {sample} rows" if sample else "the whole file"
    return f"send {what} to {destination}" + (" anyway" if anyway else "")


def send_detail(destination: str, environment: str, source: object, rows_estimate: int | None,
                constants: Sequence[str] = (), shrink: AudienceCounts | None = None, duration: str | None = None) -> str:
    """What a send's confirmation names: the destination, the environment, the source (a path, a glob or
    a query), how many rows, this send's constants, the leaves the shrink guard would refuse, and how
    long Attentive's limits make it take when that is hours (sends.duration_note)."""
    rows = f"~{rows_estimate:,} (from the preview)" if rows_estimate is not None else "not counted yet (enter previews)"
    text = f"Destination: {destination}\nEnvironment: {environment}\nSource: {source}\nRows: {rows}"
    if constants:
        text += "\nConstants: " + " ".join(constants)
    if shrink is not None:
        text += "\n" + shrink_detail(shrink)
    if duration is not None:
        text += f"\nTime: {duration}"
    return text


def shrink_detail(counts: AudienceCounts) -> str:
    """Why S asks "Send anyway": the guard would refuse, with the numbers."""
    return (f"The shrink guard would refuse this send: {counts.leaves:,} of the {counts.members:,} members of "
            f"{counts.label} would leave ({counts.leave_share:.0%}, above the {counts.limit:.0%} "
            f"limit); {counts.joins:,} join, {counts.stays:,} stay. A truncated export would "
            "tell Attentive they left: send anyway only if the export really is smaller.")


def cancel_detail(run_id: int, destination: str) -> str:
    return (f"Cancel run #{run_id} to {destination}? The requests in flight finish and are recorded; the run is "
            f"saved as cancelled and can be resumed (send --resume {run_id}).")


class Series:
    """One value a second over the last SERIES_S seconds, from progress that arrives several times a
    second: the samples of one second are combined (`combine`: the latest, or the lowest)."""

    def __init__(self, combine: Callable[[float, float], float] = lambda old, new: new) -> None:
        self.combine = combine
        self.values: list[float] = []
        self.second: int | None = None

    def add(self, elapsed_s: float, value: float) -> None:
        second = int(elapsed_s)
        if self.second is not None and second == self.second and self.values:
            self.values[-1] = self.combine(self.values[-1], value)
        elif self.second is None or second > self.second:
            gap = 0 if self.second is None else min(second - self.second - 1, SERIES_S)
            self.values.extend([value] * (gap + 1))  # seconds without progress took the next value
            del self.values[:-SERIES_S]
            self.second = second

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None


QUIT_EXPLANATION = (
    "It runs inside this console: quitting ends it. Cancel it first: the requests in flight finish and are "
    "recorded (a few seconds), the run is saved as cancelled and can be resumed (send --resume), then the "
    "console quits.\nBack leaves the send running.")
