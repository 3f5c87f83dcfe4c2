"""How a send steers its client's requests: a pause holds those that have not left, a cancel cuts
short every wait (a paced slot or a 429 back-off can be seconds away; a cancel must not wait)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Protocol, TypeVar

from tui.attentive.pacing import SendStamp, TokenBucket

T = TypeVar("T")


class Steering(Protocol):
    """Who may hold or stop a client's requests (a send's control): `ready()` waits while paused and
    says False once cancelled; `cancelled_event` is set at cancel."""

    cancelled_event: asyncio.Event

    @property
    def paused(self) -> bool: ...

    async def ready(self) -> bool: ...


class Cancelled(Exception):
    """The steering cancelled before the request left."""


async def unless_cancelled(steering: Steering | None, wait: Awaitable[T]) -> T | None:
    """`wait`, or None as soon as the steering cancels."""
    if steering is None:
        return await wait
    if steering.cancelled_event.is_set():
        if isinstance(wait, Coroutine):
            wait.close()
        return None
    waiting = asyncio.ensure_future(wait)
    stop = asyncio.ensure_future(steering.cancelled_event.wait())
    try:
        await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, stop):
            if not task.done():
                task.cancel()
    return waiting.result() if waiting.done() and not waiting.cancelled() else None


async def take_slot(bucket: TokenBucket | None, steering: Steering | None) -> SendStamp | None:
    """A request's send slot (None when unpaced); Cancelled when the send was cancelled. A pause holds
    the request here, so it takes effect within one request; a request held by a pause takes a fresh
    slot after it, so a resume is no burst."""
    while True:
        if steering is not None and not await steering.ready():
            raise Cancelled
        sent = await unless_cancelled(steering, bucket.acquire()) if bucket is not None else None
        if steering is None:
            return sent
        if steering.cancelled_event.is_set():
            raise Cancelled
        if not steering.paused:
            return sent
