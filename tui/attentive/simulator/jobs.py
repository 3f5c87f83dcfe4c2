"""Bulk jobs: accepted batches, their completion time and their per-record results.

A job keeps the request body as received and the messages of its refused records; the .jsonl is
rendered from them when downloaded, which keeps encoding off the submission path and the memory
compact. Jobs are kept up to a retention measured in records (Attentive keeps them two weeks; a
simulator that runs benchmarks must not grow without bound).
Jobs are not part of the persisted state: after a restart a job id answers 404.
"""
from __future__ import annotations

import json
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
_encode = json.JSONEncoder(ensure_ascii=False).encode
_OK_RESPONSE = ', "response": {"status": 200, "message": "OK"}}\n'


@dataclass(frozen=True)
class BulkJob:
    job_id: str
    company_id: str
    total_records: int
    ready_at: float     # monotonic time the job completes
    token: str          # unguessable part of the results URL (it needs no key, like a signed URL)
    request_body: bytes  # as received; holds the `users` the results echo
    failures: dict[int, str]  # index in `users` -> why that record was refused (400)

    def status(self, now: float) -> str:
        return COMPLETED if now >= self.ready_at else IN_PROGRESS

    def results(self) -> bytes:
        """The .jsonl file: one `{"request": <user item>, "response": {"status", "message"}}` a line."""
        lines = []
        for index, item in enumerate(json.loads(self.request_body)["users"]):
            message = self.failures.get(index)
            if message is None:
                lines.append('{"request": ' + _encode(item) + _OK_RESPONSE)
            else:
                lines.append(
                    '{"request": ' + _encode(item) + ', "response": {"status": 400, "message": ' + _encode(message) + "}}\n"
                )
        return "".join(lines).encode()

    @property
    def results_path(self) -> str:
        return f"/results/{self.job_id}/{self.token}.jsonl"


class JobStore:
    def __init__(self, *, delay_s: float, retention_records: int, clock=time.monotonic):
        self.delay_s = delay_s
        self._retention = retention_records
        self._clock = clock
        self._jobs: OrderedDict[str, BulkJob] = OrderedDict()
        self._records = 0

    def now(self) -> float:
        return self._clock()

    def create(self, company_id: str, total_records: int, request_body: bytes, failures: dict[int, str]) -> BulkJob:
        job = BulkJob(
            job_id=str(uuid.uuid4()),
            company_id=company_id,
            total_records=total_records,
            ready_at=self._clock() + self.delay_s,
            token=secrets.token_urlsafe(16),
            request_body=request_body,
            failures=failures,
        )
        self._jobs[job.job_id] = job
        self._records += total_records
        while self._records > self._retention and len(self._jobs) > 1:
            _, oldest = self._jobs.popitem(last=False)
            self._records -= oldest.total_records
        return job

    def get(self, job_id: str) -> BulkJob | None:
        return self._jobs.get(job_id)
