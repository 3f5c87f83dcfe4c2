"""Progress of a running send, as the engine reports it to whoever watches (console or CLI)."""
from __future__ import annotations

from dataclasses import dataclass

STOPPED = frozenset({"awaiting_results", "finished", "failed", "cancelled"})  # the send is over: no ETA


@dataclass(frozen=True)
class Progress:
    run_id: int
    state: str = "running"          # running | paused | cancelling | awaiting_results | finished | failed | cancelled
    rows_read: int = 0
    invalid: int = 0                # rejected locally by validation, never sent
    skipped_unchanged: int = 0
    in_flight: int = 0
    accepted: int = 0
    rejected: int = 0               # rejected by Attentive
    retrying: int = 0
    rows_per_s: float = 0.0
    requests_per_s: float = 0.0
    rate_limit: float | None = None          # requests/second the pacer is set to
    ratelimit_remaining: int | None = None   # last x-ratelimit-remaining seen
    total_rows_estimate: int | None = None
    eta_s: float | None = None
    elapsed_s: float = 0.0
    failed: int = 0                 # still failing after every retry (retry re-sends them)
    not_sent: int = 0               # dry run: would have been sent
    submitted: int = 0              # in bulk jobs Attentive accepted; their results come later
    unconfirmed: int = 0            # Attentive took them without a job to follow
    skipped_pending: int = 0        # unchanged since a submission still processing
    requests: int = 0               # HTTP requests to the send's endpoint that left so far, retries included
    endpoint_limit: float | None = None      # the endpoint's published limit: `+` stops there
    ratelimit_limit: int | None = None       # last x-ratelimit-limit seen (the server's own figure)
    skipped_already_sent: int = 0   # events the ledger holds as sent already
    unknown: int = 0                # events sent without an answer that says whether they arrived
    stale_events: int = 0           # events over 12 hours old (sent; they trigger no journeys)

    @property
    def stopped(self) -> bool:
        """The send itself is over (bulk results may still arrive): nothing is left to estimate."""
        return self.state in STOPPED

    @property
    def shown_requests_per_s(self) -> float:
        """requests/s as shown: the measurement (meter.py) capped at the rate in force. The meter counts
        departures over its window, and a window can hold one slot more than rate x span (the first
        slot is free, and a late wake-up of the event loop lets due slots leave together): over a
        short window that read 125.8/s against 100/s. The cap hides only that fence-post; a real
        overshoot would show as 429s (Attentive counts them, the client's `throttled`)."""
        if self.rate_limit is None:
            return self.requests_per_s
        return min(self.requests_per_s, self.rate_limit)

    @property
    def done_rows(self) -> int:
        return (self.invalid + self.skipped_unchanged + self.accepted + self.rejected + self.failed + self.not_sent
                + self.submitted + self.unconfirmed + self.skipped_pending + self.skipped_already_sent + self.unknown)

    @property
    def fraction(self) -> float | None:
        if not self.total_rows_estimate:
            return None
        return min(1.0, self.done_rows / self.total_rows_estimate)
