"""Following bulk jobs: the results download is not paced with the job-status endpoint, the first
status call waits about as long as jobs have been taking, and an unfinished job is polled with
back-off, never in a spin. Against the scripted server on loopback on a virtual clock, and the
simulator for its side of the download."""
from __future__ import annotations

import asyncio
import json
import random

import pytest
from yarl import URL

from scripted_server import ScriptedServer, Step
from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import BulkJobTimer, PacingRegistry
from tui.attentive.secret import ApiKey
from virtual_clock import VirtualClock

KEY = ApiKey("sk_test_bulk_job_polling_51c2")
JSON = {"Content-Type": "application/json"}
RESULTS = '{"request": {"identifiers": {"email": "a@example.com"}}, "response": {"status": 200}}\n'


def job(status: str) -> Step:
    body = {"bulkJobId": "job-1", "status": status, "totalRecords": 1}
    if status == "COMPLETED":
        body["url"] = "/results/job-1/token.jsonl"
    return Step(200, json.dumps(body), JSON)


@pytest.fixture
def scripted():
    server = ScriptedServer().start()
    yield server
    server.stop()


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
    sim = await start_simulator(limits={"bulk-job": 2})
    users = [{"identifiers": {"email": "a@example.com"}}]
    posted = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": users})
    status_path = f"/v2/bulk/job/{posted.json()['batchJobId']}"
    first = await sim.call("GET", status_path)
    downloads = [await sim.call("GET", URL(first.json()["url"]).path, key=None) for _ in range(5)]
    second = await sim.call("GET", status_path)
    assert [d.status for d in downloads] == [200] * 5
    assert all("x-ratelimit-remaining" not in d.headers for d in downloads)
    assert (first.status, second.status) == (200, 200)  # five downloads later, the second token is still there


async def test_the_first_poll_waits_the_learnt_job_time_and_later_polls_back_off(scripted):
    clock = VirtualClock()
    scripted.add(job("IN_PROGRESS"), job("IN_PROGRESS"), job("COMPLETED"), job("COMPLETED"))
    async with client_for(scripted, clock) as client:
        slow = await client.wait_for_bulk_job("job-1")  # nothing learnt yet: polled at once
        learnt = client.job_timer.estimate_s
        fast = await client.wait_for_bulk_job("job-1")
    assert slow.ok and slow.data.status == "COMPLETED" and fast.ok
    gap = BulkJobTimer.MIN_GAP_S
    # Polled at 0 and at one gap (running), found done at two gaps: timed as the middle, 1.5 gaps.
    assert clock.sleeps[:2] == pytest.approx([gap, gap])
    assert learnt == pytest.approx(1.5 * gap)
    # The next job is read once, after 1.5 x that estimate.
    assert clock.sleeps[2:] == pytest.approx([BulkJobTimer.MARGIN * learnt])
    assert status_calls(scripted) == 4


async def test_until_a_job_is_timed_only_one_job_polls_and_the_others_wait_for_it(scripted):
    clock = VirtualClock()
    scripted.add(job("IN_PROGRESS"), job("COMPLETED"), job("COMPLETED"), job("COMPLETED"))
    async with client_for(scripted, clock) as client:
        first = asyncio.create_task(client.wait_for_bulk_job("scout"))
        others = [asyncio.create_task(client.wait_for_bulk_job(f"job-{i}")) for i in (2, 3)]
        outcomes = await asyncio.gather(first, *others)
    assert all(outcome.ok and outcome.data.done for outcome in outcomes)
    paths = [seen.path.rsplit("/", 1)[1] for seen in scripted.seen]
    # The scout alone until it was timed; then each other job once (the wait had already passed).
    assert paths[:2] == ["scout", "scout"] and sorted(paths[2:]) == ["job-2", "job-3"]


async def test_a_job_that_never_finishes_is_polled_with_growing_gaps_until_the_timeout(scripted):
    clock = VirtualClock()
    scripted.default = job("IN_PROGRESS")
    async with client_for(scripted, clock) as client:
        outcome = await client.wait_for_bulk_job("job-1", timeout_s=60)
    assert outcome.kind is OutcomeKind.RETRYABLE and "still IN_PROGRESS after 60s" in outcome.text
    gaps = clock.sleeps
    assert min(gaps) >= BulkJobTimer.MIN_GAP_S and max(gaps) <= BulkJobTimer.MAX_GAP_S
    assert gaps[:-1] == sorted(gaps[:-1])  # growing (the last one is cut short by the timeout)
    assert sum(gaps) == pytest.approx(60)
    assert status_calls(scripted) <= 30  # a spin at the 100/s limit would have made 6,000


def test_the_estimate_rises_with_slow_jobs_and_drifts_down_while_jobs_are_done_at_once():
    timer = BulkJobTimer()
    assert timer.first_poll_s() == 0.0
    timer.record(1.0, 3.0)  # running at 1 s, done at 3 s: took about 2 s
    assert timer.first_poll_s() == pytest.approx(3.0)
    timer.record(3.0, 5.0)  # a job slower than the estimate pulls it halfway up
    assert timer.estimate_s == pytest.approx(3.0)
    for _ in range(500):
        timer.record(None, 4.5)  # done by its first poll: only an upper bound, the estimate creeps down
    assert timer.estimate_s == pytest.approx(3.0 * (1 - BulkJobTimer.DECAY) ** 500)
    assert timer.gap_s(0.0) == BulkJobTimer.MIN_GAP_S
    assert timer.gap_s(4.0) == pytest.approx(2.0)
    assert timer.gap_s(600.0) == BulkJobTimer.MAX_GAP_S
