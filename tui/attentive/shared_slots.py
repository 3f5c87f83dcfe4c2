"""One API key's send slots shared by every process on the host (the console, cron, ad-hoc sends).

Attentive limits requests per key, not per process: two sends on one key that each pace to the
limit together send twice it, and meet 429s. So each (key fingerprint, endpoint) has a small file
in the data directory holding the next free slot and the end of any hold (a 429's Retry-After, an
exhausted x-ratelimit-remaining), on CLOCK_MONOTONIC, which every process of one boot shares.
A reservation is one flock, one pread and one pwrite: microseconds against the 10 ms a slot lasts
at 100 requests a second. The file holds no secret: its name is the key's salted fingerprint.
"""
from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from pathlib import Path

_RECORD = struct.Struct("<dd")   # next free slot, hold until (monotonic seconds)
# No slot or hold is legitimately this far ahead (holds are capped at 300 s): a file written before
# a reboot, when the monotonic clock was further along, must not stall every send.
_STALE_S = 900.0


class SharedSlots:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        self._lock = threading.Lock()  # flock is per open file: threads of this process queue here

    def reserve(self, earliest: float, interval_s: float) -> float:
        """The first slot at or after `earliest` that no process has taken; takes it."""
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                taken, hold = self._read()
                slot = max(earliest, taken, hold)
                os.pwrite(self._fd, _RECORD.pack(slot + interval_s, hold), 0)
                return slot
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def hold(self, until: float) -> None:
        """Nobody on this key sends before `until` (the server said so)."""
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                taken, hold = self._read()
                if until > hold:
                    os.pwrite(self._fd, _RECORD.pack(taken, until), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def give_back(self, reserved_until: float, now: float) -> None:
        """Slots up to `reserved_until` that this process will not use go back (its waiters take new
        ones after a rate change), unless another process reserved after them."""
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                taken, hold = self._read()
                if now < taken <= reserved_until:
                    os.pwrite(self._fd, _RECORD.pack(now, hold), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)

    def _read(self) -> tuple[float, float]:
        data = os.pread(self._fd, _RECORD.size, 0)
        if len(data) != _RECORD.size:
            return 0.0, 0.0
        taken, hold = _RECORD.unpack(data)
        horizon = time.monotonic() + _STALE_S
        return (taken, hold) if taken < horizon and hold < horizon else (0.0, 0.0)
