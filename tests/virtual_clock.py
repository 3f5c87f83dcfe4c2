"""A clock for pacing tests: sleeping advances virtual time at once, and records what was asked."""
from __future__ import annotations

import asyncio
from collections.abc import Callable


class VirtualClock:
    def __init__(self, start: float = 1000.0, wall_start: float = 1_700_000_000.25):
        self.now = start
        self._wall_offset = wall_start - start
        self.sleeps: list[float] = []
        self._alarms: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self._wall_offset

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [alarm for alarm in self._alarms if alarm[0] <= self.now]
        self._alarms = [alarm for alarm in self._alarms if alarm[0] > self.now]
        for _, action in due:
            action()

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run `action` once virtual time reaches `when` (lets a test act "while" a sender sleeps)."""
        self._alarms.append((when, action))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
