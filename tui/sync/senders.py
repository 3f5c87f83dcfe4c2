"""Delivering profiles through the client: bulk batches of up to 256 (v2) or one call each (v1).

Pacing and the HTTP-level retries are the client's. On top of them a delivery that still comes back
retryable is tried again for a few rounds (a 5xx storm outlasting the client's attempts must not
lose rows), then recorded as failed. A 400 on a whole bulk batch is split in halves until the bad
profiles are alone, so healthy neighbours still go through.

A bulk batch ends at its POST's answer: a 202 with a batchJobId makes its rows `submitted`, and the
job is stored for a follower (jobs.py) to fold its results in whenever they come, which can be hours.
A submitted profile is never posted again by the tool on its own; a 2xx without a readable job id
makes the rows `unconfirmed` (nothing to follow, and not ours to re-post). At most
BULK_POSTS_IN_FLIGHT batches wait for their answer (pacing included): enough to keep the
endpoint's 100/s busy, and it holds the reading back, so a paced send does not read ahead of what
it can post.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Generic, Protocol, TypeVar

from tui.attentive import payloads
from tui.attentive.backoff import Backoff
from tui.attentive.client import AttentiveClient
from tui.attentive.endpoints import BULK_MAX_USERS, SEGMENT_MEMBERS_MAX
from tui.attentive.outcomes import Outcome, OutcomeKind
from tui.attentive.segment_calls import add_segment_members, remove_segment_members
from tui.sync import job_schedule
from tui.sync.control import SendControl
from tui.sync.membership_state import is_leave_row
from tui.sync.profiles import Profile
from tui.sync.source_files import SourceChunk
from tui.sync.tally import Tally

ROUNDS = 4                      # deliveries of one batch or profile before it is recorded as failed
# 0.5, 1, 2, 4 s at most. A round comes only after the client spent all its attempts, so it always
# waits at least half its ceiling: a near-zero draw would spend a round inside the same storm.
ROUND_BACKOFF = Backoff(base_s=0.5, cap_s=4.0, floor=0.5)
BULK_POSTS_IN_FLIGHT = 32      # batches waiting for their POST's answer: bounds memory and the resume window
V1_WORKERS = 48


T_contra = TypeVar("T_contra", contravariant=True)
T = TypeVar("T")


class Sender(Protocol[T_contra]):
    async def put(self, item: T_contra, /) -> None: ...
    async def drain(self) -> None: ...


class RowPlanner(Protocol[T]):
    """What the engine reads rows through (planner.Planner, event_planner.EventPlanner)."""

    chunk_rows: int  # how many rows it takes in the next chunk

    def plan(self, chunk: SourceChunk) -> list[T]: ...
    def finish(self) -> list[T]: ...


class BulkSender:
    """Profiles in batches of BATCH, each one POST /v2/bulk/users, POSTS_IN_FLIGHT batches at once."""

    BATCH = BULK_MAX_USERS
    POSTS_IN_FLIGHT = BULK_POSTS_IN_FLIGHT

    def __init__(self, client: AttentiveClient, kind: str, tally: Tally, control: SendControl):
        self.client = client
        self.kind = kind
        self.tally = tally
        self.control = control
        self._batch: list[Profile] = []
        self._slots = asyncio.Semaphore(self.POSTS_IN_FLIGHT)
        self._tasks: set[asyncio.Task] = set()
        self._error: BaseException | None = None

    async def put(self, profile: Profile) -> None:
        if self._error is not None:
            raise self._error
        self._batch.append(profile)
        if len(self._batch) >= self.BATCH:
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
        try:
            while parts:
                part, rounds = parts.pop()
                if rounds:
                    await self.control.sleep(ROUND_BACKOFF.delay(rounds))
                    self.tally.retrying -= len(part)
                await self.control.wait_running()
                if self.control.cancelled or self.tally.stopping:
                    return  # left pending: a resume sends them
                outcome = await self._post(part)
                if self.control.cancelled and outcome.status is None:
                    return  # never left, or no answer: left pending, a resume sends them
                if outcome.ok:
                    if outcome.data:
                        submitted_at = time.time()
                        self.tally.submitted(part, outcome.data, submitted_at,
                                             submitted_at + job_schedule.first_check_delay())
                    else:
                        self.tally.unconfirmed(part, outcome.status, outcome.text)
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
            self.tally.in_flight -= len(batch)

    async def _post(self, part: list[Profile]) -> Outcome:
        # The request items live only for the call, not while the job is tracked.
        items = payloads.bulk_items(self.kind, [(p.identifier, p.attributes, p.external) for p in part])
        return await self.client.post_bulk_attributes(items)

    def _again(self, parts: list, part: list[Profile], rounds: int, outcome: Outcome) -> None:
        if rounds + 1 >= ROUNDS:
            self.tally.failed(part, outcome)
        else:
            self.tally.retrying += len(part)
            parts.append((part, rounds + 1))


class SegmentSender(BulkSender):
    """A segment's members: the file's people added, the leavers (rows from LEAVE_ROW_BASE, after
    the file's) removed, 10,000 a call, each call a job Attentive applies later, followed and folded
    like a bulk attribute job. A batch is all adds or all removes."""

    BATCH = SEGMENT_MEMBERS_MAX
    POSTS_IN_FLIGHT = 4   # 40,000 members waiting for an answer: far above what the CPU builds a second

    def __init__(self, client: AttentiveClient, kind: str, tally: Tally, control: SendControl, external_id: str):
        super().__init__(client, kind, tally, control)
        self.external_id = external_id

    async def put(self, profile: Profile) -> None:
        if self._batch and is_leave_row(self._batch[0].row) != is_leave_row(profile.row):
            await self._launch()
        await super().put(profile)

    async def _post(self, part: list[Profile]) -> Outcome:
        members = [p.user(self.kind) for p in part]
        change = remove_segment_members if is_leave_row(part[0].row) else add_segment_members
        outcome = await change(self.client, self.external_id, members)
        if outcome.status == 404:  # the segment itself is gone: every other batch would meet the same
            return replace(outcome, kind=OutcomeKind.FATAL,
                           text=f"segment {self.external_id!r} is not at Attentive any more (archived?): {outcome.text}")
        return outcome


class WorkerPool(Generic[T]):
    """Items handed to `deliver` by `workers` tasks, each item `rows(item)` rows in flight meanwhile;
    the queue holds a few items per worker, so reading waits for sending."""

    def __init__(self, tally: Tally, workers: int, deliver: Callable[[T], Awaitable[None]],
                 rows: Callable[[T], int] = lambda _: 1):
        self.tally = tally
        self._deliver = deliver
        self._rows = rows
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(maxsize=workers * 4)
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def put(self, item: T) -> None:
        if self._queue.full():
            broken = next((w for w in self._workers if w.done()), None)
            if broken is not None:
                await broken  # a worker died: raise its error instead of waiting forever
        self.tally.in_flight += self._rows(item)
        await self._queue.put(item)

    async def drain(self) -> None:
        for _ in self._workers:
            await self._queue.put(None)
        await asyncio.gather(*self._workers)

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self._deliver(item)
            finally:
                self.tally.in_flight -= self._rows(item)


class V1Sender:
    """One POST /v1/attributes/custom per profile, from a pool of workers."""

    def __init__(self, client: AttentiveClient, kind: str, tally: Tally, control: SendControl):
        self.client = client
        self.kind = kind
        self.tally = tally
        self.control = control
        self._pool = WorkerPool(tally, V1_WORKERS, self._deliver)

    async def put(self, profile: Profile) -> None:
        await self._pool.put(profile)

    async def drain(self) -> None:
        await self._pool.drain()

    async def _deliver(self, profile: Profile) -> None:
        for round_number in range(1, ROUNDS + 1):
            await self.control.wait_running()
            if self.control.cancelled or self.tally.stopping:
                return  # left pending: a resume sends it
            outcome = await self.client.post_custom_attributes(profile.user(self.kind), profile.attributes)
            if self.control.cancelled and outcome.status is None:
                return  # never left, or no answer: left pending, a resume sends it
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
            await self.control.sleep(ROUND_BACKOFF.delay(round_number))
            self.tally.retrying -= 1
