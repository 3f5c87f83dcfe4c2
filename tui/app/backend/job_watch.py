"""Following the environment's bulk jobs while the console is open.

A bulk send ends at submission; Attentive takes minutes to hours per job. The watch runs one
follower on its own thread and event loop (its SQLite writes and results downloads must never hold
the screen), wakes when the next job or read-back is due, and hands each round to `report`.
`jobs --wait`, cron and other consoles may follow the same jobs at the same time: the store's
claims fold every result exactly once, so nothing here coordinates with them.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

from tui.app.workers import describe_error
from tui.sync.jobs import FollowProgress

IDLE_POLL_S = 5.0   # nothing due sooner: look again this often for jobs other processes submitted
RETRY_S = 60.0      # after a round that failed (a bad key, a locked database): try again this much later
MIN_WAIT_S = 0.05   # an overdue check (claimed by another follower) never makes the loop spin

Report = Callable[[FollowProgress | None, str | None], object]   # (progress, the round's error), on the thread


class Follower(Protocol):
    async def check_due(self) -> FollowProgress: ...

    async def aclose(self) -> None: ...


def wait_after(progress: FollowProgress, now: float) -> float:
    """Seconds until the next round: when the next check is due, but at most IDLE_POLL_S."""
    if progress.next_check_at is None:
        return IDLE_POLL_S
    return min(IDLE_POLL_S, max(MIN_WAIT_S, progress.next_check_at - now))


class JobWatch:
    def __init__(self, make_follower: Callable[[], Follower], report: Report) -> None:
        self.make_follower = make_follower   # called on the watch's thread: SQLite connections stay in it
        self.report = report
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._stopped = False

    def run(self) -> None:
        """Blocking, in a thread worker, until stop()."""
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._wake = asyncio.Event()
        if self._stopped:  # stop() came before the loop existed
            return
        follower: Follower | None = None
        try:
            while True:
                wait = RETRY_S
                try:
                    follower = follower or self.make_follower()
                    progress = await follower.check_due()
                except Exception as error:  # noqa: BLE001 - a bad key (FatalAttentiveError) too: report, retry later
                    self.report(None, f"{describe_error(error)}; the jobs stay pending, following retries in "
                                      f"{RETRY_S:.0f}s")
                else:
                    self.report(progress, None)
                    wait = wait_after(progress, time.time())
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            if follower is not None:
                await follower.aclose()

    def _call(self, action: Callable[[], object]) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(action)

    def wake(self) -> None:
        """Check now (a send just submitted jobs): thread-safe."""
        self._call(lambda: self._wake.set() if self._wake is not None else None)

    def stop(self) -> None:
        """End following (quit): a check in progress is abandoned and simply made again by the next
        follower once its claim lapses. Thread-safe; the worker's thread ends after aclose."""
        self._stopped = True
        self._call(lambda: self._task.cancel() if self._task is not None else None)
