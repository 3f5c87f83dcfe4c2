"""A send running in its own thread and event loop, steerable from the UI thread.

The engine's SendControl must be called on the send's loop, so every key press is handed over with
call_soon_threadsafe; progress comes back through the callback the caller gives.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial

from tui.sync.control import SendControl
from tui.sync.engine import SendRequest, SendResult, run_send
from tui.sync.progress import Progress


class RunHandle:
    def __init__(self) -> None:
        self.control = SendControl()
        self.loop: asyncio.AbstractEventLoop | None = None
        # Keys pressed while the worker still prepares the request (access, key, simulator start) have
        # no loop to go to yet: they wait here, so a cancel-and-quit then is not lost.
        self._early: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self.paused = False              # as asked from the UI thread (space toggles it)
        self.rate: float | None = None   # the rate asked last (+/- step from it)

    def run(self, request: SendRequest, on_progress: Callable[[Progress], None]) -> SendResult:
        """Blocking: call from a worker thread."""

        async def main() -> SendResult:
            with self._lock:
                self.loop = asyncio.get_running_loop()
                for action in self._early:
                    action()
            return await run_send(request, control=self.control, on_progress=on_progress)

        return asyncio.run(main())

    def _call(self, action: Callable[[], object]) -> None:
        with self._lock:
            if self.loop is None:
                self._early.append(action)
                return
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(action)

    def pause(self) -> None:
        self.paused = True
        self._call(self.control.pause)

    def resume(self) -> None:
        self.paused = False
        self._call(self.control.resume)

    def cancel(self) -> None:
        self._call(self.control.cancel)

    def set_rate(self, per_second: float) -> None:
        self.rate = per_second
        self._call(partial(self.control.set_rate, per_second))
