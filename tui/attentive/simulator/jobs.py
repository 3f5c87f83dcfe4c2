"""Bulk jobs: accepted batches, their lifecycle and their per-record results.

A job's life, as Attentive documents it (GET /v2/bulk/job/{id}): PENDING, then IN_PROGRESS, then
COMPLETED with a `url` to the results (or FAILED with an error message). PENDING lasts about the
first 10% of the job's duration, and at least MIN_PENDING_S past the moment a status read can first
succeed, so a read sent right after the 202 never finds a job already done: no Attentive job is.
The duration is drawn per job from [min, max] delay, and the job faults (faults.py) per job too,
from a seeded stream of the store's own, so the same seed replays the same jobs.

A bulk attribute job's records are judged and applied when the job runs, not when it is accepted
(the 202 says "accepted for processing"): until then its `failures` are None and nothing of it shows
in the state. The simulator settles due jobs in their order of completion, in the background and
before any request that could see them (AttentiveApi.settle_due), so a job is COMPLETED only once
settled, and the CPU it costs is spent when Attentive would spend it, not while the client sends.
A job keeps the request body as received and the messages of its refused records; the .jsonl is
rendered from them when downloaded, which keeps encoding off the submission path and the memory
compact. Jobs are kept up to a retention measured in records (Attentive keeps them two weeks; a
simulator that runs benchmarks must not grow without bound).
With a state file, jobs are journaled beside it (`<state>.jobs.jsonl`) and come back after a
restart with their age, as Attentive keeps a job two weeks whoever asks: the embedded simulator
lives inside the console, and `jobs --wait` after quitting it must still find the jobs.
"""
from __future__ import annotations

import base64
import heapq
import itertools
import json
import random
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tui.attentive.simulator.faults import FaultSpec

PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
PENDING_SHARE = 0.1
MIN_PENDING_S = 0.05
RETENTION_S = 14 * 86400.0   # Attentive keeps a job two weeks
FAILED_MESSAGE = "the bulk job failed while processing; no record of it was applied, submit the batch again"
# The u2028 fault's value: JSON allows these raw inside strings, and str.splitlines() breaks on them.
RAW_SEPARATORS = "line\u2028paragraph\u2029next line\u0085end"
# Non-ASCII written raw, as most JSON writers do (so the u2028 fault's characters are raw bytes).
_encode = json.JSONEncoder(ensure_ascii=False).encode
_encode_ascii = json.JSONEncoder().encode
_OK_RESPONSE = ', "response": {"status": 200, "message": "OK"}}\n'


@dataclass(frozen=True)
class JobFate:
    """What the job stream decided for one job when it was submitted; times from submission."""

    hidden_s: float       # the status answers 404 until then (job404)
    pending_s: float      # PENDING until then
    done_s: float         # running until then, then COMPLETED or FAILED
    failed: bool          # jobfail
    has_url: bool         # False: nourl
    running_status: str   # IN_PROGRESS, or the jobstatus fault's word
    results_seed: int     # which results lines carry raw separators (u2028)


@dataclass(frozen=True)
class ResultsStyle:
    foreign: bool = False         # results=foreign: {"input", "result", "reason"} lines
    separator_rate: float = 0.0   # u2028: share of lines with RAW_SEPARATORS in a value


@dataclass(frozen=True)
class BulkJob:
    job_id: str
    company_id: str
    total_records: int
    submitted_at: float  # monotonic time
    fate: JobFate
    style: ResultsStyle
    token: str           # unguessable part of the results URL (it needs no key, like a signed URL)
    request_body: bytes  # as received; holds the `users` the results echo
    failures: dict[int, str] | None  # index in `users` -> why that record was refused (400); None: not yet run

    @property
    def done_at(self) -> float:
        return self.submitted_at + self.fate.done_s

    def visible(self, now: float) -> bool:
        return now - self.submitted_at >= self.fate.hidden_s

    def status(self, now: float) -> str:
        elapsed = now - self.submitted_at
        if elapsed < self.fate.pending_s:
            return PENDING
        if elapsed < self.fate.done_s or self.failures is None:
            return self.fate.running_status
        return FAILED if self.fate.failed else COMPLETED

    def results(self) -> bytes:
        """The .jsonl file: one `{"request": <user item>, "response": {"status", "message"}}` a line
        (or the foreign shape)."""
        try:
            return self._render(_encode).encode()
        except UnicodeEncodeError:  # a lone surrogate (a \ud800 escape in the request) has no UTF-8
            return self._render(_encode_ascii).encode()

    def _render(self, encode: Callable[[object], str]) -> str:
        marks = random.Random(self.fate.results_seed) if self.style.separator_rate else None
        lines = []
        for index, item in enumerate(json.loads(self.request_body)["users"]):
            noted = marks is not None and marks.random() < self.style.separator_rate
            lines.append(self._line(encode, item, (self.failures or {}).get(index), noted))
        return "".join(lines)

    def _line(self, encode: Callable[[object], str], item: object, refusal: str | None, noted: bool) -> str:
        if self.style.foreign:
            line: dict[str, object] = {"input": item, "result": "SUCCESS" if refusal is None else "FAILURE"}
            if refusal is not None:
                line["reason"] = refusal
            if noted:
                line["note"] = RAW_SEPARATORS
            return encode(line) + "\n"
        if refusal is None and not noted:
            return '{"request": ' + encode(item) + _OK_RESPONSE
        response: dict[str, object] = {"status": 200, "message": "OK"} if refusal is None else {"status": 400, "message": refusal}
        if noted:
            response["note"] = RAW_SEPARATORS
        return '{"request": ' + encode(item) + ', "response": ' + encode(response) + "}\n"

    @property
    def results_path(self) -> str:
        return f"/results/{self.job_id}/{self.token}.jsonl"


class JobStore:
    def __init__(
        self,
        *,
        delay_s: tuple[float, float],
        faults: FaultSpec,
        seed: int | None,
        retention_records: int,
        clock: Callable[[], float] = time.monotonic,
        journal: Path | None = None,
    ):
        self._delay_s = delay_s
        self._faults = faults
        self._style = ResultsStyle(faults.foreign_results, faults.raw_separator_rate)
        # Not random.Random(seed): the request fault stream uses that, and sharing its numbers would
        # tie the nth job's fate to the nth request's fault.
        self._random = random.Random(None if seed is None else f"bulk-jobs/{seed}")
        self._retention = retention_records
        self._clock = clock
        self._jobs: OrderedDict[str, BulkJob] = OrderedDict()
        self._unsettled: list[tuple[float, int, str]] = []  # heap of (done_at, order, job id)
        self._order = itertools.count()
        self._records = 0
        self._journal = journal
        if journal is not None:
            self._replay(journal)

    def now(self) -> float:
        return self._clock()

    def draw(self) -> JobFate:
        """The next job's fate. Every job draws the same five values whatever the faults, so the
        nth job's fate depends only on the seed and n."""
        draw, faults = self._random, self._faults
        duration = draw.uniform(*self._delay_s)
        hidden = draw.uniform(*faults.job_hidden_s)
        ending, oddity, results_seed = draw.random(), draw.random(), draw.getrandbits(32)
        pending = max(PENDING_SHARE * duration, hidden + MIN_PENDING_S)
        return JobFate(
            hidden_s=hidden,
            pending_s=pending,
            done_s=max(duration, pending),
            failed=ending < faults.job_fail_rate,
            has_url=not (faults.job_fail_rate <= ending < faults.job_fail_rate + faults.job_no_url_rate),
            running_status=faults.job_status_word if oddity < faults.job_status_rate else IN_PROGRESS,
            results_seed=results_seed,
        )

    def create(
        self, company_id: str, total_records: int, request_body: bytes, failures: dict[int, str] | None, fate: JobFate
    ) -> BulkJob:
        """A job; `failures` None: its records are judged when it runs (next_due, settle)."""
        job = BulkJob(
            job_id=str(uuid.uuid4()),
            company_id=company_id,
            total_records=total_records,
            submitted_at=self._clock(),
            fate=fate,
            style=self._style,
            token=secrets.token_urlsafe(16),
            request_body=request_body,
            failures=failures,
        )
        self._keep(job)
        self._journal_line({
            "id": job.job_id, "company": company_id, "total": total_records, "submitted": time.time(),
            "fate": asdict(fate), "token": job.token, "failures": failures,
            "body": base64.b64encode(request_body).decode(),
        })
        return job

    def next_due(self, by: float) -> BulkJob | None:
        """The unsettled job that completes first, if that is by `by` (a time of this store's clock);
        None otherwise. Its caller settles it."""
        while self._unsettled and self._unsettled[0][0] <= by:
            _, _, job_id = heapq.heappop(self._unsettled)
            job = self._jobs.get(job_id)
            if job is not None and job.failures is None:  # not expired, nor run before a restart
                return job
        return None

    @property
    def unsettled(self) -> int:
        return len(self._unsettled)

    def settle(self, job: BulkJob, failures: dict[int, str]) -> None:
        if job.job_id in self._jobs:
            self._jobs[job.job_id] = replace(job, failures=failures)  # keeps its place in the retention order
        self._journal_line({"settled": job.job_id, "failures": failures})

    def _journal_line(self, line: dict) -> None:
        if self._journal is not None:
            self._journal.parent.mkdir(parents=True, exist_ok=True)
            with open(self._journal, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")

    def _keep(self, job: BulkJob) -> None:
        self._jobs[job.job_id] = job
        if job.failures is None:
            heapq.heappush(self._unsettled, (job.done_at, next(self._order), job.job_id))
        self._records += job.total_records
        while self._records > self._retention and len(self._jobs) > 1:
            _, oldest = self._jobs.popitem(last=False)
            self._records -= oldest.total_records

    def _replay(self, journal: Path) -> None:
        """Jobs of earlier runs, with the age they have by the wall clock; older than two weeks: gone."""
        try:
            lines = journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                saved = json.loads(line)
                if "settled" in saved:  # always after its job's own line
                    job = self._jobs.get(saved["settled"])
                    if job is not None:
                        self._jobs[job.job_id] = replace(job, failures={int(k): v for k, v in saved["failures"].items()})
                    continue
                age = time.time() - saved["submitted"]
                if age > RETENTION_S:
                    continue
                self._keep(BulkJob(
                    job_id=saved["id"], company_id=saved["company"], total_records=saved["total"],
                    submitted_at=self._clock() - age, fate=JobFate(**saved["fate"]), style=self._style,
                    token=saved["token"], request_body=base64.b64decode(saved["body"]),
                    failures=None if saved["failures"] is None else {int(k): v for k, v in saved["failures"].items()},
                ))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: that job is lost, as a 404 says

    def get(self, job_id: str) -> BulkJob | None:
        return self._jobs.get(job_id)

    def all(self) -> list[BulkJob]:
        """The jobs kept, oldest first (tests count what was posted)."""
        return list(self._jobs.values())
