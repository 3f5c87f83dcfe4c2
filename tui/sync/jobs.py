"""Following bulk jobs to their results, and test sends to their read-back, from any process.

A send stores each job Attentive accepted (job_store.py) and ends; a JobFollower then checks the
jobs whose time has come (job_schedule.py), folds each result into its run exactly once, and runs
the read-back of test sends whose jobs have all resolved. The CLI's `jobs --wait` and
`send --wait`, and the open console, each run one; they share the work through the database.

What each answer means (the spec's status list is "common values include", so nothing is guessed):
- COMPLETED with a url: download, match lines to profiles (job_results.py), fold.
- COMPLETED without a url: the rows are `unconfirmed`.
- FAILED: the rows are `failed`, with the job's own message; `retry` is what sends them again.
- PENDING, IN_PROGRESS, or a word we do not know (kept verbatim and shown): still pending.
- 404, 5xx, timeouts, an unreadable body, a failed download: check again later; never re-post.
- no final status two weeks after submission (Attentive's retention): `expired`, rows `unconfirmed`.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import FatalAttentiveError, OutcomeKind
from tui.attentive.pacing import SYSTEM_CLOCK, Clock
from tui.attentive.secret import ApiKey
from tui.settings.model import Destination
from tui.sync import job_results, job_schedule
from tui.sync.history import HistoryStore, RunRecord, Verification
from tui.sync.history_schema import JOB_PENDING, pacing_dir
from tui.sync.job_store import JobRecord, JobRow, JobStore, ReadBackDue
from tui.sync.verify import read_back_run, record_attempt

CONCURRENCY = 16   # status checks at once; the client paces them at the endpoint's limit


class FollowError(Exception):
    """A run's jobs cannot be checked from here (its destination or credential is gone)."""


@dataclass(frozen=True)
class FollowTarget:
    """Where a run's jobs are checked, and what its read-back compares against."""
    base_url: str
    api_key: ApiKey
    destination: Destination


Resolve = Callable[[RunRecord], FollowTarget]   # raises FollowError


@dataclass(frozen=True)
class FollowProgress:
    jobs: Mapping[str, int]                     # state -> jobs in scope
    read_backs_pending: int
    checks: int                                 # status calls this follower made
    next_check_at: float | None                 # wall clock
    problem: str | None = None                  # the latest check that could not be made, in words

    @property
    def pending(self) -> int:
        return self.jobs.get(JOB_PENDING, 0)


@dataclass
class FollowResult:
    progress: FollowProgress
    timed_out: bool
    verifications: dict[int, Verification] = field(default_factory=dict)


class JobFollower:
    """Checks the jobs and read-backs of one scope (some runs, or an environment)."""

    def __init__(self, data_dir: Path, resolve: Resolve, *, run_ids: Sequence[int] | None = None,
                 environment: str | None = None, clock: Clock = SYSTEM_CLOCK,
                 client_options: Mapping[str, Any] | None = None):
        self.data_dir = Path(data_dir)
        self.resolve = resolve
        self.run_ids = list(run_ids) if run_ids is not None else None
        self.environment = environment
        self.clock = clock
        self.client_options = dict(client_options or {})
        self._history = HistoryStore(self.data_dir)
        self._jobs = JobStore(self._history.connection)
        self._clients: dict[tuple[str, str], AttentiveClient] = {}
        self._checks = 0
        self._problem: str | None = None
        self.verifications: dict[int, Verification] = {}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self._history.close()

    async def __aenter__(self) -> "JobFollower":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # one round -----------------------------------------------------------------------------
    async def check_due(self) -> FollowProgress:
        """Check every job and read-back whose time has come, once. Raises FatalAttentiveError on a
        401/403 (the key is wrong: following cannot go on)."""
        gate = asyncio.Semaphore(CONCURRENCY)
        self._problem = None  # a problem is shown while it lasts: the round that meets it again says so

        async def check(job: JobRecord) -> None:
            async with gate:
                await self._check_job(job)

        while True:
            due = self._jobs.due(self.clock.wall(), run_ids=self.run_ids, environment=self.environment,
                                 limit=CONCURRENCY * 8)
            if not due:
                break
            await asyncio.gather(*(check(job) for job in due))
        for read_back in self._jobs.due_read_backs(self.clock.wall(), run_ids=self.run_ids,
                                                   environment=self.environment):
            await self._read_back(read_back)
        return self.progress()

    def progress(self) -> FollowProgress:
        run_ids, environment = self.run_ids, self.environment
        return FollowProgress(
            jobs=self._jobs.state_counts(run_ids=run_ids, environment=environment),
            read_backs_pending=len(self._jobs.read_backs(run_ids=run_ids, environment=environment)),
            checks=self._checks,
            next_check_at=self._jobs.next_due(run_ids=run_ids, environment=environment),
            problem=self._problem,
        )

    # until done ----------------------------------------------------------------------------
    async def follow(self, *, timeout_s: float | None = None, wait_read_backs: bool = False,
                     on_progress: Callable[[FollowProgress], None] | None = None) -> FollowResult:
        """Check until no job of the scope is pending (and, with wait_read_backs, every read-back
        has been tried at least once), or until timeout_s passes."""
        deadline = None if timeout_s is None else self.clock.monotonic() + timeout_s
        while True:
            progress = await self.check_due()
            if on_progress is not None:
                on_progress(progress)
            if not self._waiting_for(progress, wait_read_backs):
                return FollowResult(progress, False, dict(self.verifications))
            wake = progress.next_check_at if progress.next_check_at is not None else self.clock.wall() + 1.0
            delay = max(wake - self.clock.wall(), 0.05)
            if deadline is not None:
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    return FollowResult(progress, True, dict(self.verifications))
                delay = min(delay, left)
            await self.clock.sleep(delay)

    def _waiting_for(self, progress: FollowProgress, wait_read_backs: bool) -> bool:
        if progress.pending:
            return True
        if not wait_read_backs:
            return False
        untried = [r for r in self._jobs.read_backs(run_ids=self.run_ids, environment=self.environment)
                   if r.attempts == 0]
        return bool(untried)

    # a job ---------------------------------------------------------------------------------
    def _client(self, target: FollowTarget) -> AttentiveClient:
        key = (target.base_url, target.api_key.value)
        client = self._clients.get(key)
        if client is None:
            options = {"shared_pacing": pacing_dir(self.data_dir), **self.client_options}
            client = self._clients[key] = AttentiveClient(target.base_url, target.api_key, **options)
            client.open()
        return client

    def _target(self, run_id: int) -> FollowTarget:
        run = self._history.get_run(run_id)
        if run is None:
            raise FollowError(f"run {run_id} is not in the history")
        return self.resolve(run)

    async def _check_job(self, job: JobRecord) -> None:
        now = self.clock.wall()
        if not self._jobs.claim(job, now + job_schedule.lease()):
            return  # another follower is checking it
        job = replace(job, next_check_at=now + job_schedule.lease())
        later = now + job_schedule.next_check_delay(job.checks + 1)
        try:
            target = self._target(job.run_id)
        except FollowError as exc:
            self._note(f"run {job.run_id}: {exc}")
            self._jobs.checked(job, now, status=None, body=None, url=job.url, message=f"cannot check: {exc}",
                               next_check_at=later)
            return
        client = self._client(target)
        self._checks += 1
        outcome = await client.get_bulk_job(job.job_id)
        now = self.clock.wall()
        if outcome.kind is OutcomeKind.FATAL:
            self._jobs.checked(job, now, status=None, body=None, url=job.url, message=outcome.text,
                               next_check_at=later)
            raise FatalAttentiveError(outcome, outcome.text)
        expired = now - job.submitted_at > job_schedule.JOB_RETENTION_S
        if not outcome.ok:
            if expired:
                self._resolve(job, job_results.expired(job, self._rows(job), last_seen=outcome.text))
                return
            text = f"status check failed ({outcome.text}); checking again later"
            self._note(f"job {job.job_id}: {text}")
            self._jobs.checked(job, now, status=None, body=None, url=job.url, message=text, next_check_at=later)
            return
        status = outcome.data
        word = status.status.strip().upper()
        if word == "COMPLETED" and status.url is None:
            self._resolve(job, job_results.without_results(job, self._rows(job), status=status.status,
                                                           body=status.body))
        elif word == "COMPLETED":
            results = await client.download_bulk_results(status.url)
            if results.failure is not None:
                text = f"results download failed ({results.failure.text}); trying again later"
                self._note(f"job {job.job_id}: {text}")
                self._jobs.checked(job, self.clock.wall(), status=status.status, body=status.body, url=status.url,
                                   message=text, next_check_at=later)
                return
            self._resolve(job, job_results.completed(job, self._rows(job), results, status=status.status,
                                                     body=status.body, url=status.url))
        elif word == "FAILED":
            self._resolve(job, job_results.failed(job, self._rows(job), status=status.status, body=status.body,
                                                  message=status.message))
        elif expired:
            self._resolve(job, job_results.expired(job, self._rows(job), last_seen=status.status))
        else:
            known = word in ("PENDING", "IN_PROGRESS")
            text = status.message or ("" if known else
                                      f"status {status.status!r} is not one this tool knows; kept as sent, "
                                      "still pending")
            self._jobs.checked(job, now, status=status.status, body=status.body, url=status.url, message=text,
                               next_check_at=later)

    def _rows(self, job: JobRecord) -> list[JobRow]:
        return self._jobs.job_rows(job.id)

    def _resolve(self, job: JobRecord, resolution: job_results.Resolution) -> None:
        self._jobs.resolve(job, self.clock.wall(), resolution)

    def _note(self, problem: str) -> None:
        self._problem = problem

    # a read-back ---------------------------------------------------------------------------
    async def _read_back(self, due: ReadBackDue) -> None:
        now = self.clock.wall()
        if not self._jobs.claim_read_back(due, now + job_schedule.lease()):
            return
        run = self._history.get_run(due.run_id)
        try:
            if run is None:
                raise FollowError(f"run {due.run_id} is not in the history")
            target = self.resolve(run)
        except FollowError as exc:
            self._note(f"read-back of run {due.run_id}: {exc}")
            self._jobs.read_back_done(due.run_id, next_at=now + job_schedule.next_check_delay(due.attempts + 1))
            return
        result = await read_back_run(self._client(target), self._history, run, target.destination)
        self.verifications[due.run_id] = record_attempt(self._history, result, self.clock.wall())
