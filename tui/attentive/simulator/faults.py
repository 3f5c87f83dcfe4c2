"""Fault injection: which requests fail and how, and which bulk jobs misbehave.

Request faults are drawn here (FaultInjector), from one seeded stream; job faults are drawn by the
JobStore (jobs.py) once per submitted job, from a stream of its own seeded from the same seed, so
a job fault does not shift the request faults. The same seed and the same order of requests and
jobs give the same faults, so a failure replays.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import Enum

from tui.attentive.durations import DurationError, parse_duration_range

FAULT_SPEC_HELP = """\
--faults SPEC: comma-separated items, each optional. Request faults:
  500=0.05          answer 5% of requests with 500
  503=0.02          answer 2% with 503
  429burst=0.01:20  1% of requests start a burst: that request and the next 19 get 429
  latency=5-50ms    add a uniform delay to every request (also latency=20ms, latency=0.1-1s)
  drop=0.01         close the connection of 1% of requests without answering (before acting on them)
  dropafter=0.01    act on 1% of requests (apply, record an event), then close the connection unanswered
  500after=0.01     act on 1% of requests, then answer 500: the answers that leave an event's fate open
  slow=0.01:2s      trickle 1% of response bodies over 2s (default 1s)
  me                apply faults to GET /v1/me too (off by default: "test connection" stays honest)
Bulk job faults (drawn once per job, when it is submitted):
  jobfail=0.1       10% of jobs end FAILED with an errorMessage and no url; they change no profile
  nourl=0.1         10% of jobs end COMPLETED without a url
  job404=30s        a job's status answers 404 for its first 30s, as if not yet visible (or 5s-1m)
  jobstatus=THROTTLED:0.1
                    10% of jobs report THROTTLED (any upper-case word) instead of IN_PROGRESS,
                    then complete as usual (jobstatus=THROTTLED: every job)
  results=foreign   results files in a line format the console does not know:
                    {"input": <user item>, "result": "SUCCESS" | "FAILURE", "reason": ...}
  u2028=0.1         10% of results lines carry a value with raw U+2028, U+2029 and U+0085 in it
Request faults apply to the API endpoints, never to the bulk results download; the job faults
shape what a job's status and its results file say. The same --seed and the same order of
requests and jobs give the same faults."""


class FaultSpecError(ValueError):
    """A --faults spec that cannot be read; the message names the item and the fix."""


@dataclass(frozen=True)
class FaultSpec:
    rate_500: float = 0.0
    rate_503: float = 0.0
    burst_429_rate: float = 0.0
    burst_429_length: int = 10
    latency_ms: tuple[float, float] = (0.0, 0.0)
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_duration_s: float = 1.0
    include_me: bool = False
    drop_after_rate: float = 0.0                    # dropafter: the request is applied, its answer lost
    rate_500_after: float = 0.0                     # 500after: the request is applied, then answered 500
    job_fail_rate: float = 0.0
    job_no_url_rate: float = 0.0
    job_hidden_s: tuple[float, float] = (0.0, 0.0)  # job404: status answers 404 this long after submission
    job_status_word: str = ""                       # jobstatus: reported instead of IN_PROGRESS ...
    job_status_rate: float = 0.0                    # ... by this share of jobs
    foreign_results: bool = False                   # results=foreign
    raw_separator_rate: float = 0.0                 # u2028: share of results lines

    @property
    def active(self) -> bool:
        """Any request fault: only then does a request draw from the fault stream."""
        return any(
            (self.rate_500, self.rate_503, self.burst_429_rate, self.latency_ms[1], self.drop_rate, self.slow_rate,
             self.drop_after_rate, self.rate_500_after)
        )

    @property
    def jobs_active(self) -> bool:
        return any((self.job_fail_rate, self.job_no_url_rate, self.job_hidden_s[1], self.job_status_rate,
                    self.foreign_results, self.raw_separator_rate))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")


def _duration_s(text: str, item: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise FaultSpecError(f"{item!r}: {text!r} is not a duration; write it like 50ms or 2s")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


def _share(text: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"{item!r}: {text!r} is not a share; write a number from 0 to 1, like 0.05") from None
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"{item!r}: {value} is outside 0..1; a share of 5% is written 0.05")
    return value


def _latency(text: str, item: str) -> tuple[float, float]:
    unit = "ms" if text.strip().endswith("ms") else "s"
    low, sep, high = text.partition("-")
    if sep:
        low_ms = _duration_s(low if low.strip().endswith(("ms", "s")) else low + unit, item) * 1000
        high_ms = _duration_s(high, item) * 1000
    else:
        low_ms = high_ms = _duration_s(text, item) * 1000
    if low_ms > high_ms:
        raise FaultSpecError(f"{item!r}: the range runs backwards; write the smaller delay first, like 5-50ms")
    return (low_ms, high_ms)


def _duration_range_s(text: str, item: str) -> tuple[float, float]:
    try:
        return parse_duration_range(text)
    except DurationError as exc:
        raise FaultSpecError(f"{item!r}: {exc}") from None


_STATUS_WORD = re.compile(r"^[A-Z][A-Z_]*$")
_KNOWN = "500, 503, 429burst, latency, drop, slow, me, jobfail, nourl, job404, jobstatus, results, u2028, dropafter, 500after"


def parse_fault_spec(spec: str) -> FaultSpec:
    """Read a --faults spec (see the module docstring). Raises FaultSpecError naming the bad item."""
    values: dict[str, object] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = (part.strip() for part in item.partition("="))
        if name == "me" and not sep:
            values["include_me"] = True
            continue
        if not sep or not value:
            raise FaultSpecError(f"{item!r}: expected NAME=VALUE, like 500=0.05")
        if name in ("500", "503"):
            values[f"rate_{name}"] = _share(value, item)
        elif name == "429burst":
            share, _, length = value.partition(":")
            values["burst_429_rate"] = _share(share, item)
            if length:
                if not length.strip().isdigit() or int(length) < 1:
                    raise FaultSpecError(f"{item!r}: the burst length {length!r} must be a whole number >= 1")
                values["burst_429_length"] = int(length)
        elif name == "latency":
            values["latency_ms"] = _latency(value, item)
        elif name == "drop":
            values["drop_rate"] = _share(value, item)
        elif name == "dropafter":
            values["drop_after_rate"] = _share(value, item)
        elif name == "500after":
            values["rate_500_after"] = _share(value, item)
        elif name == "slow":
            share, _, duration = value.partition(":")
            values["slow_rate"] = _share(share, item)
            if duration:
                values["slow_duration_s"] = _duration_s(duration, item)
        elif name == "jobfail":
            values["job_fail_rate"] = _share(value, item)
        elif name == "nourl":
            values["job_no_url_rate"] = _share(value, item)
        elif name == "job404":
            values["job_hidden_s"] = _duration_range_s(value, item)
        elif name == "jobstatus":
            word, _, share = (part.strip() for part in value.partition(":"))
            if not _STATUS_WORD.match(word) or word in ("PENDING", "IN_PROGRESS", "COMPLETED", "FAILED"):
                raise FaultSpecError(f"{item!r}: write an unknown upper-case status word and a share, like THROTTLED:0.1")
            values["job_status_word"] = word
            values["job_status_rate"] = _share(share, item) if share else 1.0
        elif name == "results":
            if value != "foreign":
                raise FaultSpecError(f"{item!r}: the only other results format is 'foreign' (results=foreign)")
            values["foreign_results"] = True
        elif name == "u2028":
            values["raw_separator_rate"] = _share(value, item)
        else:
            raise FaultSpecError(f"{item!r}: unknown fault {name!r}; known: {_KNOWN}")
    fault = FaultSpec(**values)  # type: ignore[arg-type]
    total = (fault.rate_500 + fault.rate_503 + fault.burst_429_rate + fault.drop_rate + fault.slow_rate
             + fault.drop_after_rate + fault.rate_500_after)
    if total > 1.0:
        raise FaultSpecError(
            f"the shares of 500, 503, 429burst, drop, slow, dropafter and 500after add up to {total:g}; keep them <= 1"
        )
    ends = fault.job_fail_rate + fault.job_no_url_rate
    if ends > 1.0:  # one draw decides how a job ends: failed, completed without url, or normally
        raise FaultSpecError(f"the shares of jobfail and nourl add up to {ends:g}; keep them <= 1")
    return fault


class FaultKind(str, Enum):
    NONE = "none"
    ERROR_500 = "500"
    ERROR_503 = "503"
    BURST_429 = "429"
    DROP = "drop"
    SLOW = "slow"


@dataclass(frozen=True)
class FaultDecision:
    kind: FaultKind
    latency_s: float
    # The fault strikes once the endpoint has acted (dropafter, 500after: DROP or ERROR_500), not
    # instead of it: the request took effect and its answer is lost or wrong.
    after: bool = False


class FaultInjector:
    """Decides each request's fault. Every decision draws the same number of values from the
    stream, so the nth request's fault depends only on the seed and n."""

    def __init__(self, spec: FaultSpec, seed: int | None):
        self.spec = spec
        self._random = random.Random(seed)
        self._burst_left = 0

    def decide(self) -> FaultDecision:
        roll = self._random.random()
        low, high = self.spec.latency_ms
        latency_s = self._random.uniform(low, high) / 1000
        if self._burst_left:
            self._burst_left -= 1
            return FaultDecision(FaultKind.BURST_429, latency_s)
        kind, after = self._pick(roll)
        return FaultDecision(kind, latency_s, after)

    def _pick(self, roll: float) -> tuple[FaultKind, bool]:
        spec = self.spec
        for kind, share, after in (
            (FaultKind.DROP, spec.drop_rate, False),
            (FaultKind.ERROR_500, spec.rate_500, False),
            (FaultKind.ERROR_503, spec.rate_503, False),
            (FaultKind.BURST_429, spec.burst_429_rate, False),
            (FaultKind.SLOW, spec.slow_rate, False),
            # Last, so that a spec without them draws the same faults as before they existed.
            (FaultKind.DROP, spec.drop_after_rate, True),
            (FaultKind.ERROR_500, spec.rate_500_after, True),
        ):
            if roll < share:
                if kind is FaultKind.BURST_429:
                    self._burst_left = spec.burst_429_length - 1
                return kind, after
            roll -= share
        return FaultKind.NONE, False
