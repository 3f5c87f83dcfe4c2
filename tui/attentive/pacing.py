"""Client-side pacing: one token bucket per (API key, endpoint), shared by every sender of that key.

Attentive limits requests per key, per endpoint, per second. Every AttentiveClient in the process that
holds the same key draws from the same bucket, so two concurrent sends (or a send and a verify) cannot
add up to more than the endpoint's limit. Buckets are found by a fingerprint (a salted hash) of the key:
the registry never holds the key itself.
"""
from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from pathlib import Path
from typing import NamedTuple, Protocol

from tui.attentive.secret import ApiKey
from tui.attentive.shared_slots import SharedSlots


class Clock(Protocol):
    """Time source for pacing and back-off; tests inject a virtual one."""

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def key_fingerprint(api_key: ApiKey, origin: str = "") -> str:
    """A stable, non-reversible name for a key (at a server's origin), to share buckets without
    holding the secret."""
    at = b"\0" + origin.encode() if origin else b""  # without one, the name audit entries have always used
    return hashlib.sha256(b"attentive-console/pacing\0" + api_key.value.encode() + at).hexdigest()[:24]


class SendStamp(NamedTuple):
    """When a request left, on both clocks: the monotonic one paces, the wall one finds the
    server's one-second window."""

    monotonic: float
    wall: float


_RECHECK_S = 0.2  # longest a waiter sleeps before re-checking for a rate change or a hold


class TokenBucket:
    """Hands out send slots to every sender of one key on one endpoint.

    Capacity is one token: Attentive counts requests per one-second window, so any burst allowance
    spills over a window boundary into 429s. A sender reserves the next free slot (under a thread lock,
    so the bucket works across event loops and threads) and sleeps until it, in steps of at most
    _RECHECK_S so that a rate change or a hold made meanwhile reaches it promptly.

    Each client that uses the bucket claims a rate (its destination's limit, changed live by
    set_rate); the bucket runs at the lowest claim, lowered again when the server announces a lower
    x-ratelimit-limit. A claim of `math.inf` turns pacing off altogether, server limit included: it
    is for benchmarks against a simulator whose limits are off (it still announces them).
    """

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK):
        self._clock = clock
        self._lock = threading.Lock()
        self._claims: dict[int, float] = {}
        self._server_limit: float | None = None
        self._interval_s = 0.0  # 1 / rate, kept in step with every change of rate
        self._next_slot = 0.0
        self._hold_until = 0.0
        self._generation = 0  # bumped by rate changes and holds: sleeping reservations re-reserve
        self._shared: SharedSlots | None = None

    @property
    def rate(self) -> float:
        """Requests per second in force now."""
        rate = min(self._claims.values(), default=math.inf)
        if self._server_limit is not None and not math.isinf(rate):
            rate = min(rate, self._server_limit)
        return rate

    def claim(self, owner: object, rate: float) -> None:
        """Set (or change) the rate `owner` wants; the bucket follows the lowest claim."""
        checked = _checked_rate(rate)
        with self._lock:
            self._claims[id(owner)] = checked
            self._reschedule()

    def release(self, owner: object) -> None:
        with self._lock:
            if self._claims.pop(id(owner), None) is not None:
                self._reschedule()

    def share(self, path: Path) -> None:
        """Take slots from a file every process on the host uses for this key and endpoint (only
        with the system clock: the file holds CLOCK_MONOTONIC times). Kept for the process's life."""
        with self._lock:
            if self._shared is None and isinstance(self._clock, SystemClock):
                self._shared = SharedSlots(path)

    def reserve(self) -> tuple[float, int]:
        """Claim the next send slot; returns (monotonic time to send at, generation)."""
        with self._lock:
            now = self._clock.monotonic()
            slot = max(self._next_slot, self._hold_until, now)
            if self._shared is not None and self._interval_s > 0:
                slot = self._shared.reserve(slot, self._interval_s)
            self._next_slot = slot + self._interval_s
            return slot, self._generation

    async def acquire(self) -> SendStamp:
        """Wait for this sender's slot; returns the moment the request may leave."""
        slot, generation = self.reserve()
        while True:
            now = self._clock.monotonic()
            if now >= slot:
                return SendStamp(now, self._clock.wall())
            await self._clock.sleep(min(slot - now, _RECHECK_S))
            if generation != self._generation:
                slot, generation = self.reserve()

    def observe(self, *, remaining: int | None, limit: int | None, sent: SendStamp) -> None:
        """Correct the pace from a response's x-ratelimit-limit / x-ratelimit-remaining."""
        with self._lock:
            if limit is not None and limit > 0 and float(limit) != self._server_limit:
                self._server_limit = float(limit)
                self._reschedule()
            if remaining is not None and remaining <= 0:
                # The window this request landed in is used up (perhaps by another process with the
                # same key): nothing more until the next one-second window. Windows are taken as
                # whole seconds of wall time; a response that arrives after that boundary holds nothing.
                boundary = sent.monotonic + (math.floor(sent.wall) + 1.0 - sent.wall)
                self._hold(boundary)

    def hold_for(self, seconds: float) -> None:
        """Pause every sender of this bucket (the server asked, e.g. with Retry-After)."""
        with self._lock:
            self._hold(self._clock.monotonic() + seconds)

    def _hold(self, until: float) -> None:
        if until > self._hold_until and until > self._clock.monotonic():
            self._hold_until = until
            self._generation += 1
            if self._shared is not None:
                self._shared.hold(until)

    def _reschedule(self) -> None:
        # Slots already handed out were spaced for the old rate; from now on space for the new one.
        rate = self.rate
        now = self._clock.monotonic()
        if self._shared is not None:  # the sleeping waiters re-reserve: their old slots go back
            self._shared.give_back(self._next_slot, now)
        self._interval_s = 0.0 if math.isinf(rate) else 1.0 / rate
        self._next_slot = min(self._next_slot, now + self._interval_s)
        self._generation += 1


def _checked_rate(rate: float) -> float:
    if not rate > 0:
        raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
    return float(rate)


class PacingRegistry:
    """Buckets by (key fingerprint, endpoint name); one registry per process is the point."""

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def bucket(self, fingerprint: str, endpoint: str) -> TokenBucket:
        with self._lock:
            key = (fingerprint, endpoint)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(clock=self.clock)
            return bucket


DEFAULT_REGISTRY = PacingRegistry()
