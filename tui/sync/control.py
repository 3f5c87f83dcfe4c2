"""Steering a running send: pause, resume, change the rate, cancel. Call from the send's event loop
(the console's key bindings, the CLI's signal handlers)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable


class SendControl:
    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self.cancelled_event = asyncio.Event()  # cuts short the client's waits (AttentiveClient steering)
        self._cancelled = False
        self._rate: float | None = None
        self._apply_rate: Callable[[float], None] | None = None
        self._limit: float | None = None

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def limit(self) -> float | None:
        """The endpoint's published limit, once the engine attached the control (the `+` ceiling)."""
        return self._limit

    def pause(self) -> None:
        if not self._cancelled:
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        """Stop reading and sending; what is in flight is drained and recorded."""
        self._cancelled = True
        self.cancelled_event.set()
        self._running.set()  # wake everything waiting on a pause so it can see the cancel

    def set_rate(self, per_second: float) -> float:
        """Requests per second for the send's endpoint; a rate above its published limit stops at
        the limit (the console's `+` steps up to it; the CLI refuses `--rate` above it at once).
        Returns the rate applied."""
        if not per_second > 0:
            raise ValueError("the rate must be a positive number of requests per second")
        if self._limit is not None:
            per_second = min(per_second, self._limit)
        self._rate = per_second
        if self._apply_rate is not None:
            self._apply_rate(per_second)
        return per_second

    async def wait_running(self) -> None:
        await self._running.wait()

    async def sleep(self, seconds: float) -> None:
        """Sleep, cut short by a cancel (a sender's round back-off must not delay a cancel)."""
        try:
            await asyncio.wait_for(self.cancelled_event.wait(), seconds)
        except TimeoutError:
            pass

    async def ready(self) -> bool:
        """Steering for the client: held while paused; False once cancelled."""
        await self._running.wait()
        return not self._cancelled

    def attach(self, apply_rate: Callable[[float], None], limit: float) -> None:
        """The engine connects the control to its client, with the endpoint's published limit."""
        self._apply_rate = apply_rate
        self._limit = limit
        if self._rate is not None:
            self.set_rate(self._rate)
