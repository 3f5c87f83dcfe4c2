"""The client's side of bulk jobs: the results download is not paced with the job-status endpoint
(when to check a job is the follower's, tests/sync/test_bulk_job_following.py). Against the scripted
server on loopback on a virtual clock, and the simulator for its side of the download."""
from __future__ import annotations

import json
import random

import pytest
from scripted_server import ScriptedServer, Step
from simulator_fixtures import JobClock
from virtual_clock import VirtualClock
from yarl import URL

from tui.attentive.client import AttentiveClient
from tui.attentive.pacing import PacingRegistry
from tui.attentive.secret import ApiKey

KEY = ApiKey("sk_test_bulk_job_polling_51c2")
JSON = {"Content-Type": "application/json"}
RESULTS = '{"request": {"identifiers": {"email": "a@example.com"}}, "response": {"status": 200}}\n'


def job(status: str) -> Step:
    body = {"bulkJobId": "job-1", "status": status, "totalRecords": 1}
    if status == "COMPLETED":
        body["url"] = "/results/job-1/token.jsonl"
    return Step(200, json.dumps(body), JSON)


def client_for(server: ScriptedServer, clock: VirtualClock, **options) -> AttentiveClient:
    return AttentiveClient(server.url, KEY, pacing=PacingRegistry(clock=clock), rng=random.Random(3), **options)


def status_calls(server: ScriptedServer) -> int:
    return sum(1 for seen in server.seen if seen.path.startswith("/v2/bulk/job/"))


async def test_a_results_download_does_not_consume_the_job_status_bucket(scripted):
    clock = VirtualClock()
    scripted.add(job("COMPLETED"), *[Step(200, RESULTS)] * 3, job("COMPLETED"))
    async with client_for(scripted, clock, rate_limits={"bulk-job": 1}) as client:
        started = clock.now
        first = await client.get_bulk_job("job-1")
        downloads = [await client.download_bulk_results(first.data.url) for _ in range(3)]
        assert clock.now == started  # three same-origin downloads right after a status call: no wait
        second = await client.get_bulk_job("job-1")
    assert all(d.ok and d.records[0].identifier == "a@example.com" for d in downloads)
    # The second status call waits one slot of the 1/s bucket, not four: the downloads took none.
    assert clock.now - started == pytest.approx(1.0)
    assert second.ok and status_calls(scripted) == 2
    assert client.stats.of("bulk-results").requests == 3 and client.stats.of("bulk-job").requests == 2


async def test_the_simulator_neither_limits_nor_counts_results_downloads(start_simulator):
    # As at Attentive, where the results link is a signed file URL: only the status calls spend
    # the job endpoint's budget (here 2 a second).
    clock = JobClock()
    sim = await start_simulator(limits={"bulk-job": 2}, clock=clock)
    users = [{"identifiers": {"email": "a@example.com"}}]
    posted = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": users})
    status_path = f"/v2/bulk/job/{posted.json()['batchJobId']}"
    clock.advance(1)  # no job is done when first read
    first = await sim.call("GET", status_path)
    downloads = [await sim.call("GET", URL(first.json()["url"]).path, key=None) for _ in range(5)]
    second = await sim.call("GET", status_path)
    assert [d.status for d in downloads] == [200] * 5
    assert all("x-ratelimit-remaining" not in d.headers for d in downloads)
    assert (first.status, second.status) == (200, 200)  # five downloads later, the second token is still there
