"""When bulk jobs and read-backs are checked: Attentive's own timings, scaled only on request.

Attentive's v2 spec: the first 10,000 records a day "typically complete within 4 hours", the rest
"within 12 hours", and a job can be fetched for two weeks. A job is first checked about a minute
after it was accepted, then at doubling intervals up to an hour, so a job of many hours costs a few
dozen status calls, and one of seconds is seen within a minute.

ATTENTIVE_CONSOLE_POLL_SCALE (a positive factor, default 1) shrinks every interval of this module
(not the two-week retention): it is for rehearsing against a simulator whose jobs take seconds.
"""
from __future__ import annotations

import os

FIRST_CHECK_S = 60.0
MAX_INTERVAL_S = 3600.0
LEASE_S = 300.0                  # a follower that dies mid-check leaves the job to others after this
JOB_RETENTION_S = 14 * 86400.0   # Attentive keeps jobs two weeks; after that a job is `expired`
V1_SETTLE_S = 60.0               # v1 writes answer 200 at once, but read-back may lag: wait this first
READ_BACK_WINDOW_S = 24 * 3600.0  # Attentive may take up to 24 hours to show changes
SCALE_VARIABLE = "ATTENTIVE_CONSOLE_POLL_SCALE"


def scale() -> float:
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not 0 < factor <= 1000:
        raise ValueError(f"{SCALE_VARIABLE}={text!r} must be a positive number such as 0.01 (or unset)")
    return factor


def first_check_delay() -> float:
    return FIRST_CHECK_S * scale()


def next_check_delay(checks: int) -> float:
    """Seconds from a job's `checks`-th status call (1-based) to its next one."""
    return min(MAX_INTERVAL_S, FIRST_CHECK_S * 2 ** min(max(0, checks - 1), 16)) * scale()


def lease() -> float:
    return LEASE_S * scale()


def v1_settle_delay() -> float:
    return V1_SETTLE_S * scale()
