"""Durations as people write them: "90s", "1.5m", "2h", "1h30m", "500ms", "2d", or a bare number of
seconds; and ranges "30s-2m" / "30s..2m". Used by options and settings that take a time (the
simulator's --job-delay and its job faults). Also the stopwatch reading of a run's elapsed time and
ETA (format_clock), shared by the CLI and the console."""
from __future__ import annotations

import math
import re

HOW_TO_WRITE = "write it like 90s, 15m, 2h or 30s-2m"
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)")  # "2h 5m" and "90 s" too
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
# ".." before "-": "1s..2s" must not be read as "1s." and ".2s"
_RANGE = re.compile(r"\s*\.\.\s*|\s*-\s*")


class DurationError(ValueError):
    """A duration or range that cannot be read; the message quotes it and shows how to write one."""


def _error(text: str, why: str = "is not a duration") -> DurationError:
    return DurationError(f"{text!r} {why}; {HOW_TO_WRITE}")


def parse_duration(text: str) -> float:
    """Seconds in `text`: units ms, s, m, h, d, combined largest first ("1h30m"); a bare number is
    seconds. Negative, infinite and empty durations are refused."""
    compact = text.strip().lower()
    if _NUMBER.fullmatch(compact):
        return float(compact)
    total, position, last_unit = 0.0, 0, math.inf
    for match in _PART.finditer(compact):
        unit = _UNIT_S[match.group(2)]
        # "1h30m" but not "30m1h" or "1m1m": out-of-order parts are a typo more often than meant
        if match.start() != position or unit >= last_unit:
            raise _error(text)
        total += float(match.group(1)) * unit
        position, last_unit = match.end(), unit
    if position == 0 or position != len(compact):
        raise _error(text)
    return total


def parse_duration_range(text: str) -> tuple[float, float]:
    """(low, high) seconds from "LOW-HIGH", "LOW..HIGH" or a single duration (low == high)."""
    parts = _RANGE.split(text.strip())
    if len(parts) == 1:
        value = parse_duration(text)
        return value, value
    if len(parts) != 2 or not all(parts):
        raise _error(text, "is not a duration or a range")
    try:
        low, high = parse_duration(parts[0]), parse_duration(parts[1])
    except DurationError:
        raise _error(text, "is not a duration or a range") from None
    if low > high:
        raise _error(text, "runs backwards: put the shorter duration first")
    return low, high


def format_duration(seconds: float) -> str:
    """Compact: "250ms", "2.5s", "45s", "1m30s", "12m", "3h05m", "2d4h". The precision shrinks as the
    duration grows (tenths below 10s, seconds below 10m, minutes below a day, then hours): a banner
    or a status line wants the size of a wait, not its digits."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds < 0.9995:
        return f"{round(seconds * 1000)}ms" if seconds else "0s"
    if seconds < 9.95:
        return f"{seconds:.1f}".removesuffix(".0") + "s"
    if seconds < 599.5:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m{secs:02d}s" if minutes and secs else f"{minutes}m" if minutes else f"{secs}s"
    if seconds < 86_370:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours}h{minutes:02d}m" if hours and minutes else f"{hours}h" if hours else f"{minutes}m"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def format_clock(seconds: float | None) -> str:
    """A stopwatch reading: "0:07", "1:32", "2:05:09", and "--:--" when unknown (no ETA yet). One
    format for every watcher of a run (CLI lines, the console's panel), so they read the same."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
