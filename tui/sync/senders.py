"""Delivering profiles through the client: bulk batches of up to 256 (v2) or one call each (v1).

Pacing and the HTTP-level retries are the client's. On top of them a delivery that still comes back
retryable is tried again for a few rounds (a 5xx storm outlasting the client's attempts must not
lose rows), then recorded as failed. A 400 on a whole bulk batch is split in halves until the bad
profiles are alone, so healthy neighbours still go through. Bulk jobs are tracked to completion
while sending goes on; their per-record results decide each profile's outcome.

Two windows bound a bulk send. At most BULK_POSTS_IN_FLIGHT batches wait for their POST's answer
(pacing included): enough to keep the endpoint's 100/s busy, and it holds the reading back, so a
paced send does not read ahead of what it can post. At most BULK_BATCHES_IN_FLIGHT batches are
between launch and their last outcome: this must hold every job of one job cycle at the full
100 posts/s, or posting waits on job completion. A cycle is the POST, the job's own time, the
first status call (the client waits about 1.5x the learnt job time, see pacing.BulkJobTimer) and
the results download; 384 batches cover a 3.8-second cycle, that is jobs of up to about 2.3 s
(slower jobs slow the send to about 250 / job seconds posts/s). They hold about 98,000 profiles,
some 60 MB at worst (measured: a 1,000,000-row send peaks below 200 MB with the window full).
"""
from __future__ import annotations

import asyncio
import random
from typing import Protocol

from tui.attentive import payloads
from tui.attentive.client import AttentiveClient
from tui.attentive.endpoints import BULK_MAX_USERS
from tui.attentive.outcomes import Outcome, OutcomeKind
from tui.sync.control import SendControl
from tui.sync.profiles import Profile
from tui.sync.tally import Tally

ROUNDS = 4                      # deliveries of one batch or profile before it is recorded as failed
ROUND_BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
BULK_BATCHES_IN_FLIGHT = 384   # posted or tracked at once: bounds memory and the resume window
BULK_POSTS_IN_FLIGHT = 32      # of those, waiting for their first POST's answer
V1_WORKERS = 48
JOB_TIMEOUT_S = 900.0           # a job still running after this is delivered again (idempotent)


class Sender(Protocol):
    async def put(self, profile: Profile) -> None: ...
    async def drain(self) -> None: ...


def _backoff(round_number: int) -> float:
    ceiling = ROUND_BACKOFF_S[min(round_number, len(ROUND_BACKOFF_S)) - 1]
    return random.uniform(ceiling / 2, ceiling)


class BulkSender:
    def __init__(self, client: AttentiveClient, kind: str, tally: Tally, control: SendControl):
        self.client = client
        self.kind = kind
        self.tally = tally
        self.control = control
        self._batch: list[Profile] = []
        self._slots = asyncio.Semaphore(BULK_BATCHES_IN_FLIGHT)
        self._posting = asyncio.Semaphore(BULK_POSTS_IN_FLIGHT)
        self._tasks: set[asyncio.Task] = set()
        self._error: BaseException | None = None

    async def put(self, profile: Profile) -> None:
        if self._error is not None:
            raise self._error
        self._batch.append(profile)
        if len(self._batch) >= BULK_MAX_USERS:
            await self._launch()

    async def drain(self) -> None:
        if self._batch:
            await self._launch()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._error is not None:
            raise self._error

    async def _launch(self) -> None:
        batch, self._batch = self._batch, []
        await self._slots.acquire()
        await self._posting.acquire()
        self.tally.in_flight += len(batch)
        task = asyncio.create_task(self._deliver(batch))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None and self._error is None:
            self._error = task.exception()

    async def _deliver(self, batch: list[Profile]) -> None:
        parts: list[tuple[list[Profile], int]] = [(batch, 0)]  # (profiles, delivery rounds used)
        posting = True  # the posting slot is held until the first answer
        try:
            while parts:
                part, rounds = parts.pop()
                if rounds:
                    await asyncio.sleep(_backoff(rounds))
                    self.tally.retrying -= len(part)
                await self.control.wait_running()
                if self.control.cancelled or self.tally.stopping:
                    return  # left pending: a resume sends them
                outcome = await self._post(part)
                if posting:
                    posting = False
                    self._posting.release()
                if outcome.ok:
                    if not await self._track(outcome.data, part):
                        self._again(parts, part, rounds, outcome)
                elif outcome.kind is OutcomeKind.REJECTED:
                    if len(part) == 1:
                        self.tally.rejected(part[0], outcome.status, outcome.text)
                    else:
                        middle = len(part) // 2
                        parts.append((part[middle:], rounds))
                        parts.append((part[:middle], rounds))
                elif outcome.kind is OutcomeKind.FATAL:
                    self.tally.fatal(outcome)
                    return
                else:
                    self._again(parts, part, rounds, outcome)
        finally:
            if posting:
                self._posting.release()
            self.tally.in_flight -= len(batch)

    async def _post(self, part: list[Profile]) -> Outcome:
        # The request items live only for the call, not while the job is tracked.
        items = [payloads.bulk_user_item({self.kind: p.identifier}, p.attributes) for p in part]
        return await self.client.post_bulk_attributes(items)

    def _again(self, parts: list, part: list[Profile], rounds: int, outcome: Outcome) -> None:
        if rounds + 1 >= ROUNDS:
            self.tally.failed(part, outcome)
        else:
            self.tally.retrying += len(part)
            parts.append((part, rounds + 1))

    async def _track(self, job_id: str, part: list[Profile]) -> bool:
        """Wait for the job and record each profile's result. False when the job could not be
        followed to the end (the batch is then delivered again: attribute writes are idempotent)."""
        status = await self.client.wait_for_bulk_job(job_id, timeout_s=JOB_TIMEOUT_S)
        if status.kind is OutcomeKind.FATAL:
            self.tally.fatal(status)
            return True
        if not status.ok or status.data.status.upper() != "COMPLETED" or not status.data.url:
            return False
        results = await self.client.download_bulk_results(status.data.url)
        if not results.ok:
            if results.failure is not None and results.failure.kind is OutcomeKind.FATAL:
                self.tally.fatal(results.failure)
                return True
            return False
        by_identifier = {p.identifier: p for p in part}
        folded: dict[str, str] | None = None
        for record in results.records:
            if not record.identifier:
                continue
            profile = by_identifier.pop(record.identifier, None)
            if profile is None:  # the line format is undocumented: Attentive may echo a lower-cased email
                folded = folded if folded is not None else {k.lower(): k for k in by_identifier}
                sent_as = folded.pop(record.identifier.lower(), None)
                profile = by_identifier.pop(sent_as, None) if sent_as is not None else None
            if profile is None:
                continue
            if record.ok:
                self.tally.accepted(profile)
            else:
                self.tally.rejected(profile, record.status, record.message or record.raw)
        for profile in by_identifier.values():
            self.tally.no_result(profile, job_id)
        return True


class V1Sender:
    """One POST /v1/attributes/custom per profile, from a pool of workers."""

    def __init__(self, client: AttentiveClient, kind: str, tally: Tally, control: SendControl):
        self.client = client
        self.kind = kind
        self.tally = tally
        self.control = control
        self._queue: asyncio.Queue[Profile | None] = asyncio.Queue(maxsize=V1_WORKERS * 4)
        self._workers = [asyncio.create_task(self._work()) for _ in range(V1_WORKERS)]

    async def put(self, profile: Profile) -> None:
        if self._queue.full():
            broken = next((w for w in self._workers if w.done()), None)
            if broken is not None:
                await broken  # a worker died: raise its error instead of waiting forever
        self.tally.in_flight += 1
        await self._queue.put(profile)

    async def drain(self) -> None:
        for _ in self._workers:
            await self._queue.put(None)
        await asyncio.gather(*self._workers)

    async def _work(self) -> None:
        while True:
            profile = await self._queue.get()
            if profile is None:
                return
            try:
                await self._deliver(profile)
            finally:
                self.tally.in_flight -= 1

    async def _deliver(self, profile: Profile) -> None:
        for round_number in range(1, ROUNDS + 1):
            await self.control.wait_running()
            if self.control.cancelled or self.tally.stopping:
                return  # left pending: a resume sends it
            outcome = await self.client.post_custom_attributes({self.kind: profile.identifier}, profile.attributes)
            if outcome.ok:
                self.tally.accepted(profile)
                return
            if outcome.kind is OutcomeKind.REJECTED:
                self.tally.rejected(profile, outcome.status, outcome.text)
                return
            if outcome.kind is OutcomeKind.FATAL:
                self.tally.fatal(outcome)
                return
            if round_number == ROUNDS:
                self.tally.failed([profile], outcome)
                return
            self.tally.retrying += 1
            await asyncio.sleep(_backoff(round_number))
            self.tally.retrying -= 1
