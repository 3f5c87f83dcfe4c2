"""Turns the engine's counters into Progress snapshots: rates over a sliding window, and the ETA.

The window (WINDOW_S, the samples of the last seconds) measures what left: rows settled and requests
to the send's endpoint (its limit is the one shown beside them; `me` and other endpoints are not
counted against it). It starts again when the rate in force changes, so it never mixes two paces;
the figure is honest, and Progress.shown_requests_per_s caps only its fence-post at the rate.
A stopped run (or a paused or cancelling one) has no ETA."""
from __future__ import annotations

import time
from collections import deque

from tui.attentive.client import AttentiveClient
from tui.sync.control import SendControl
from tui.sync.history_writer import RunCounts
from tui.sync.progress import Progress
from tui.sync.tally import Tally

WINDOW_S = 3.0


class ProgressMeter:
    def __init__(self, run_id: int, counts: RunCounts, tally: Tally, control: SendControl,
                 total_rows_estimate: int | None, endpoint: str):
        self.run_id = run_id
        self.counts = counts
        self.tally = tally
        self.control = control
        self.total = total_rows_estimate
        self.endpoint = endpoint
        self.client: AttentiveClient | None = None
        self._started = time.monotonic()
        self._samples: deque[tuple[float, int, int]] = deque()  # (time, rows done, requests)
        self._rate: float | None = None   # the rate in force when the window started

    def snapshot(self, state: str | None = None) -> Progress:
        now = time.monotonic()
        c = self.counts
        done = c.settled
        client = self.client
        stats = client.stats.of(self.endpoint) if client is not None else None
        requests = stats.requests if stats is not None else 0
        limit = client.rate(self.endpoint) if client is not None else None
        if limit != self._rate:  # a new pace: measure it afresh, from the last sample on
            self._rate = limit
            while len(self._samples) > 1:
                self._samples.popleft()
        self._samples.append((now, done, requests))
        while len(self._samples) > 2 and now - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()
        then, done_then, requests_then = self._samples[0]
        span = now - then
        rows_per_s = (done - done_then) / span if span > 0 else 0.0
        requests_per_s = (requests - requests_then) / span if span > 0 else 0.0
        if state is None:
            state = "cancelling" if self.control.cancelled else "paused" if self.control.paused else "running"
        eta = None
        if state == "running" and self.total and rows_per_s > 0:
            eta = max(0.0, (self.total - done) / rows_per_s)
        return Progress(
            run_id=self.run_id,
            state=state,
            rows_read=c.rows_read,
            invalid=c.invalid,
            skipped_unchanged=c.skipped_unchanged,
            in_flight=self.tally.in_flight,
            accepted=c.accepted,
            rejected=c.rejected,
            retrying=self.tally.retrying,
            rows_per_s=rows_per_s,
            requests_per_s=requests_per_s,
            rate_limit=limit,
            ratelimit_remaining=stats.ratelimit_remaining if stats is not None else None,
            total_rows_estimate=self.total,
            eta_s=eta,
            elapsed_s=now - self._started,
            failed=c.failed,
            not_sent=c.not_sent,
            submitted=c.submitted,
            unconfirmed=c.unconfirmed,
            skipped_pending=c.skipped_pending,
            requests=requests,
            endpoint_limit=self.control.limit,
            ratelimit_limit=stats.ratelimit_limit if stats is not None else None,
            skipped_already_sent=c.skipped_already_sent,
            unknown=c.unknown,
            stale_events=c.stale_events,
        )
