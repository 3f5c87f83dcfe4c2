"""Pause and cancel reach requests waiting in pacing or a 429 back-off: a pause holds every request
that has not left, and a cancel ends the send within seconds whatever the rate-limit state, leaving
what was not sent pending for a resume."""
from __future__ import annotations

import asyncio
import time

from sync_kit import loyalty, valid_row, write_csv

from tui.attentive.secret import ApiKey
from tui.sync.control import SendControl
from tui.sync.engine import SendRequest, run_send
from tui.sync.history import HistoryStore
from tui.sync.progress import Progress

ROWS = 3000
DEADLINE_S = 60


class Watch:
    """The engine's progress events, and a way to wait for one (with a deadline, never a sleep)."""

    def __init__(self) -> None:
        self.seen: list[Progress] = []
        self._changed = asyncio.Event()

    def __call__(self, progress: Progress) -> None:
        self.seen.append(progress)
        self._changed.set()

    async def until(self, condition) -> Progress:
        async with asyncio.timeout(DEADLINE_S):
            while True:
                if self.seen and condition(self.seen[-1]):
                    return self.seen[-1]
                self._changed.clear()
                await self._changed.wait()


async def slow_send(start_simulator, tmp_path, control: SendControl, watch: Watch, rate: float | None = None):
    # 2 calls/s: the 48 v1 workers' first requests meet 429s, and then wait in back-off or pacing.
    sim = await start_simulator(limits={"custom-attributes": 2})
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(ROWS)])
    request = SendRequest(environment="sandbox", destination=loyalty("custom-attributes"), source=source,
                          operator="tester", data_dir=tmp_path / "data", base_url=sim.url,
                          api_key=ApiKey(sim.full_key), rate=rate)
    return asyncio.create_task(run_send(request, control=control, on_progress=watch))


async def test_cancel_during_a_429_storm_ends_the_send_in_seconds_leaving_the_rest_pending(start_simulator, tmp_path):
    control, watch = SendControl(), Watch()
    task = await slow_send(start_simulator, tmp_path, control, watch)
    await watch.until(lambda p: p.accepted >= 2)
    asked = time.monotonic()
    control.cancel()
    result = await asyncio.wait_for(task, DEADLINE_S)
    took = time.monotonic() - asked
    assert took < 5, f"cancel took {took:.1f}s"
    run = result.run
    assert run.status == "cancelled" and 0 < run.accepted < ROWS
    with HistoryStore(tmp_path / "data", readonly=True) as store:
        counts = store.outcome_counts(run.id)
    # Rows never sent stay pending for a resume (test_send_crash_resume.py resumes such runs).
    assert counts["accepted"] == run.accepted and counts["failed"] == 0 and sum(counts.values()) == run.rows_read


async def test_a_pause_holds_every_request_that_has_not_left(start_simulator, tmp_path):
    control, watch = SendControl(), Watch()
    task = await slow_send(start_simulator, tmp_path, control, watch, rate=2)  # paced at the limit: no 429s
    await watch.until(lambda p: p.accepted >= 2)
    control.pause()
    paused = await watch.until(lambda p: p.state == "paused")
    ticks = len(watch.seen)
    later = await watch.until(lambda p: len(watch.seen) >= ticks + 8)  # 8 progress ticks: over a second
    assert later.requests == paused.requests  # at 2 calls/s, two or more would have left by now
    control.resume()
    await watch.until(lambda p: p.requests > paused.requests)
    control.cancel()
    assert (await asyncio.wait_for(task, DEADLINE_S)).run.status == "cancelled"
