"""A bulk-only stand-in for Attentive whose job answers each test writes: statuses Attentive's spec
allows but our simulator does not play by default (an unknown word, COMPLETED without a url, 404s),
results files in other formats, redirects. A real aiohttp server on loopback in the test's loop.

    fake = await start_fake(tmp_path)          # fixture `fake_attentive`
    fake.status = lambda job, n: (200, {"status": "COMPLETED", "url": fake.results_url(job)})
    fake.results = lambda job: b"..."          # default: one simulator-style line per profile, 200
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio
from aiohttp import web

KEY = "fake-attentive-key-0001"


@dataclass
class FakeJob:
    id: str
    users: list[dict[str, Any]]
    checks: int = 0


def ok_lines(job: FakeJob) -> bytes:
    return "".join(json.dumps({"request": user, "response": {"status": 200, "message": "OK"}}, ensure_ascii=False)
                   + "\n" for user in job.users).encode()


@dataclass
class FakeAttentive:
    url: str = ""
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    posted: Counter = field(default_factory=Counter)          # identifier -> times posted
    posts: int = 0
    status_calls: int = 0
    seen_auth: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    # (job, n-th check from 1) -> (HTTP status, body); default: completed with the results url
    status: Callable[[FakeJob, int], tuple[int, Any]] | None = None
    results: Callable[[FakeJob], bytes] = ok_lines
    post_answer: Callable[[str], tuple[int, Any]] | None = None   # job id -> (status, body)
    full_key: str = KEY
    # Read-back: what was posted shows only while `visible` (Attentive may take hours to show it).
    visible: bool = True
    held: dict[str, dict[str, Any]] = field(default_factory=dict)

    def results_url(self, job: FakeJob) -> str:
        return f"{self.url}/results/{job.id}.jsonl"

    def _status(self, job: FakeJob, n: int) -> tuple[int, Any]:
        if self.status is not None:
            return self.status(job, n)
        return 200, {"bulkJobId": job.id, "status": "COMPLETED", "url": self.results_url(job)}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen_auth.append((request.path, request.headers.get("Authorization")))
        path = request.path
        if path == "/v1/me":
            return web.json_response({"companyName": "Fake", "applicationName": "tests"})
        if path == "/v2/bulk/user/attributes" and request.method == "POST":
            body = await request.json()
            self.posts += 1
            job = FakeJob(f"job-{len(self.jobs) + 1}", body["users"])
            for user in job.users:
                ids = user["identifiers"]
                self.posted[ids.get("email") or ids.get("phone")] += 1
                self.held[ids.get("email") or ids.get("phone")] = user.get("attributes", {}).get("custom", {})
            self.jobs[job.id] = job
            status, answer = (self.post_answer(job.id) if self.post_answer is not None else
                              (202, {"message": "Bulk job accepted for processing", "batchJobId": job.id}))
            return web.json_response(answer, status=status) if not isinstance(answer, str) else \
                web.Response(text=answer, status=status)
        if path == "/v1/attributes/custom" and request.method == "GET":
            held = self.held.get(request.query.get("email") or request.query.get("phone") or "")
            if held is None or not self.visible:
                return web.json_response({"message": "no profile"}, status=404)
            return web.json_response([{"name": k, "attribute": k, "value": str(v)} for k, v in held.items()])
        if path.startswith("/v2/bulk/job/"):
            self.status_calls += 1
            job = self.jobs.get(path.rsplit("/", 1)[1])
            if job is None:
                return web.json_response({"message": "no such job"}, status=404)
            job.checks += 1
            status, answer = self._status(job, job.checks)
            return web.json_response(answer, status=status)
        if path.startswith("/results/"):
            job = self.jobs[path.rsplit("/", 1)[1].removesuffix(".jsonl")]
            return web.Response(body=self.results(job), content_type="application/x-ndjson")
        return web.json_response({"message": "not here"}, status=404)


@pytest_asyncio.fixture
async def fake_attentive():
    fake = FakeAttentive()
    app = web.Application()

    async def route(request: web.Request) -> web.StreamResponse:
        return await fake.handle(request)  # looked up per request: a test may swap `handle`

    app.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield fake
    await runner.cleanup()
