"""Per-key, per-endpoint rate limits, as Attentive enforces them.

A token bucket holding one second's worth of requests and refilling continuously: the same shape a
well-paced client uses, so a client at the published rate never sees a 429, and a burst beyond it
does. `remaining` is what `x-ratelimit-remaining` reports: requests left in the current second.
"""
from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: float  # until one request is allowed again; 0 when allowed


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, capacity: float, now: float):
        self.tokens = capacity
        self.stamp = now


class RateLimiter:
    def __init__(self, *, enabled: bool = True, clock=time.monotonic):
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def take(self, key: str, endpoint: str, limit: int) -> RateDecision:
        if not self.enabled:
            return RateDecision(True, limit, limit, 0.0)
        now = self._clock()
        bucket = self._buckets.get((key, endpoint))
        if bucket is None:
            bucket = self._buckets[(key, endpoint)] = _Bucket(limit, now)
        else:
            bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.stamp) * limit)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return RateDecision(True, limit, int(bucket.tokens), 0.0)
        return RateDecision(False, limit, 0, (1.0 - bucket.tokens) / limit)
