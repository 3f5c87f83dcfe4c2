"""Where the senders report each profile's fate: the recorder (history), the live counters and the
run's stop reasons, in one place."""
from __future__ import annotations

from dataclasses import dataclass

from tui.attentive.outcomes import Outcome
from tui.sync import reasons
from tui.sync.history_schema import FAILED, REJECTED, UNCONFIRMED
from tui.sync.history_writer import RunRecorder, Submission
from tui.sync.profiles import Profile

# A run stops (status failed, exit 3) when this many deliveries in a row still fail after every
# retry: Attentive or the network is down, and grinding through the rest of the file helps no one.
BREAKER = 3


@dataclass
class Stop:
    reason: str          # "fatal" (401/403) | "unreachable" | "history" (it could not be written)
    message: str
    status: int | None = None


class Tally:
    def __init__(self, recorder: RunRecorder):
        self.recorder = recorder
        self.in_flight = 0
        self.retrying = 0
        self.stop: Stop | None = None
        self._failures_in_a_row = 0

    @property
    def stopping(self) -> bool:
        return self.stop is not None

    def accepted(self, profile: Profile) -> None:
        self._failures_in_a_row = 0
        self.recorder.accept(profile.row, profile.identifier, profile.digest, profile.raw, profile.key)

    def rejected(self, profile: Profile, status: int | None, text: str) -> None:
        self._failures_in_a_row = 0
        self.recorder.reject(profile.row, REJECTED, reasons.ATTENTIVE_REJECTED,
                             identifier=profile.identifier, status=status, message=text)

    def submitted(self, profiles: list[Profile], job_id: str, submitted_at: float, first_check_at: float) -> None:
        self._failures_in_a_row = 0
        rows = [(p.row, p.identifier, p.digest, p.raw) for p in profiles]
        self.recorder.submit(Submission(job_id, submitted_at, first_check_at, rows))

    def unconfirmed(self, profiles: list[Profile], status: int | None, text: str) -> None:
        """Attentive took the batch (2xx) but named no job to follow: never re-posted on our own."""
        self._failures_in_a_row = 0
        message = f"HTTP {status} without a readable batchJobId, so its results cannot be followed: {text}"
        for profile in profiles:
            self.recorder.reject(profile.row, UNCONFIRMED, reasons.NO_JOB_ID, identifier=profile.identifier,
                                 status=status, message=message)

    def failed(self, profiles: list[Profile], outcome: Outcome) -> None:
        """Still failing after every retry: recorded as failed (retry sends them again)."""
        for profile in profiles:
            self.recorder.reject(profile.row, FAILED, reasons.SEND_FAILED, identifier=profile.identifier,
                                 status=outcome.status, message=outcome.text)
        self.count_failure(outcome)

    def count_success(self) -> None:
        """An answer that settles a delivery (the event sender records its own outcomes)."""
        self._failures_in_a_row = 0

    def count_failure(self, outcome: Outcome) -> None:
        """A delivery that failed for Attentive's or the network's sake: BREAKER in a row stop the run."""
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= BREAKER and self.stop is None:
            self.stop = Stop("unreachable", f"Attentive keeps failing ({outcome.text}); the run stopped", outcome.status)

    def history_failed(self, error: Exception) -> None:
        """Nothing more may be sent: it would not be recorded. Overrides any other stop reason."""
        if self.stop is None or self.stop.reason != "history":
            self.stop = Stop("history", str(error))

    def fatal(self, outcome: Outcome) -> None:
        if self.stop is None or self.stop.reason == "unreachable":
            self.stop = Stop("fatal", outcome.text, outcome.status)
