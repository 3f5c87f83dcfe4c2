"""The one back-off policy: exponential from base_s, capped at cap_s, with jitter.

The client waits between its own attempts at one request; the senders (tui.sync.senders) wait
between delivery rounds of a batch whose client attempts were all spent. Both draw from this, with
their own bounds.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

_SHARED_RNG = random.Random()
# 2 ** 62 times any base is past every cap; a larger exponent would overflow the float.
_MAX_DOUBLINGS = 62


@dataclass(frozen=True)
class Backoff:
    base_s: float
    cap_s: float
    # The share of the ceiling always waited. 0 is "full jitter" (uniform over [0, ceiling]): it
    # spreads many senders of one key best. 0.5 keeps a real pause when a short wait is useless.
    floor: float = 0.0

    def ceiling(self, attempt: int) -> float:
        """The longest wait before attempt `attempt + 1` (attempt counts from 1)."""
        return min(self.cap_s, self.base_s * 2 ** min(max(attempt - 1, 0), _MAX_DOUBLINGS))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = self.ceiling(attempt)
        return (rng or _SHARED_RNG).uniform(ceiling * self.floor, ceiling)
