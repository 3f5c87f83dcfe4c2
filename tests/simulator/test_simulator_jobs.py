"""Bulk jobs as Attentive documents them: PENDING, IN_PROGRESS, then COMPLETED with a url (or FAILED),
and the job faults. Job time runs on a virtual clock: no test sleeps."""
from __future__ import annotations

import asyncio
import json

import fastjsonschema
import pytest
from simulator_fixtures import JobClock
from yarl import URL

from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.faults import FaultSpec, parse_fault_spec
from tui.attentive.simulator.jobs import FAILED_MESSAGE, MIN_PENDING_S, RAW_SEPARATORS, JobStore
from tui.attentive.simulator.validation import load_spec, resolve_refs

SPEC = load_spec("v2")
STATUS_SCHEMA = fastjsonschema.compile(resolve_refs({"$ref": "#/components/schemas/BulkJobStatusResponse"}, SPEC))
USERS = [{"identifiers": {"email": f"user{i}@example.com"}, "attributes": {"custom": {"n": i}}} for i in range(4)]


async def submit(sim, users=USERS) -> str:
    reply = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": users})
    assert reply.status == 202
    return reply.json()["batchJobId"]


async def submit_raw(sim, body: str) -> str:
    reply = await sim.call("POST", "/v2/bulk/user/attributes", data=body.encode(),
                           headers={"Content-Type": "application/json"})
    assert reply.status == 202
    return reply.json()["batchJobId"]


async def status(sim, job_id):
    reply = await sim.call("GET", f"/v2/bulk/job/{job_id}")
    if reply.status == 200:
        STATUS_SCHEMA(reply.json())
    return reply


async def timeline(sim, clock, job_id, times):
    """The job's status at each of `times` (seconds after now); 404 where it is not visible."""
    start, seen = clock.now, []
    for at in times:
        clock.now = start + at
        reply = await status(sim, job_id)
        seen.append(reply.json()["status"] if reply.status == 200 else reply.status)
    return seen


async def test_a_job_is_pending_for_its_first_tenth_then_in_progress_then_completed(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=100)
    job_id = await submit(sim)
    assert await timeline(sim, clock, job_id, [0, 9.9, 10, 99.9]) == ["PENDING", "PENDING", "IN_PROGRESS", "IN_PROGRESS"]
    clock.advance(0.1)
    done = (await status(sim, job_id)).json()
    assert done["status"] == "COMPLETED" and done["totalRecords"] == 4
    assert set(done) == {"bulkJobId", "status", "totalRecords", "url"}  # the schema's fields, no more
    results = await sim.call("GET", URL(done["url"]).path, key=None)
    assert [json.loads(line)["response"]["status"] for line in results.text.splitlines()] == [200] * 4


async def test_a_job_of_no_duration_is_still_pending_when_first_read(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=0)
    job_id = await submit(sim)
    assert await timeline(sim, clock, job_id, [0, MIN_PENDING_S / 2, 2 * MIN_PENDING_S]) == ["PENDING", "PENDING", "COMPLETED"]


def test_job_durations_are_drawn_in_the_range_and_replay_from_the_seed():
    def durations(seed):
        store = JobStore(delay_s=(10, 40), faults=FaultSpec(), seed=seed, retention_records=10, clock=lambda: 0.0)
        return [store.draw().done_s for _ in range(50)]

    first = durations(7)
    assert first == durations(7) and first != durations(8)
    assert all(10 <= d <= 40 for d in first) and max(first) - min(first) > 15


def test_a_delay_range_that_runs_backwards_is_refused():
    with pytest.raises(ValueError, match="the shorter first"):
        SimulatorConfig(keys={}, bulk_job_delay_s=40, bulk_job_delay_max_s=10)


async def test_jobfail_ends_failed_with_an_error_message_and_applies_nothing(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=10, faults=parse_fault_spec("jobfail=1"))
    job_id = await submit(sim)
    assert await timeline(sim, clock, job_id, [0, 5]) == ["PENDING", "IN_PROGRESS"]
    clock.advance(5)
    failed = (await status(sim, job_id)).json()
    assert failed == {"bulkJobId": job_id, "status": "FAILED", "totalRecords": 4, "errorMessage": FAILED_MESSAGE}
    assert (await sim.call("GET", sim.sim.jobs.get(job_id).results_path, key=None)).status == 404
    read_back = await sim.call("GET", "/v1/attributes/custom", params={"email": "user0@example.com"})
    assert read_back.status == 404


def test_job_fault_shares_are_drawn_per_job_and_replay():
    spec = parse_fault_spec("jobfail=0.2,nourl=0.3,jobstatus=THROTTLED:0.5")

    def fates(seed):
        store = JobStore(delay_s=(1, 1), faults=spec, seed=seed, retention_records=10, clock=lambda: 0.0)
        return [store.draw() for _ in range(1000)]

    drawn = fates(3)
    assert drawn == fates(3)
    failed = sum(f.failed for f in drawn)
    no_url = sum(not f.failed and not f.has_url for f in drawn)
    odd = sum(f.running_status == "THROTTLED" for f in drawn)
    assert 150 < failed < 250 and 250 < no_url < 350 and 450 < odd < 550


async def test_job404_hides_a_job_then_it_is_seen_pending_first(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=0, faults=parse_fault_spec("job404=30s"))
    job_id = await submit(sim)
    hidden = await status(sim, job_id)
    unknown = await status(sim, "no-such-job")
    assert hidden.status == 404 and hidden.json()["message"] == unknown.json()["message"].replace("no-such-job", job_id)
    assert await timeline(sim, clock, job_id, [29.9, 30, 30 + 2 * MIN_PENDING_S]) == [404, "PENDING", "COMPLETED"]


async def test_job404_range_is_drawn_per_job(start_simulator):
    sim = await start_simulator(seed=1, faults=parse_fault_spec("job404=10s-1m"))
    job_ids = [await submit(sim) for _ in range(5)]
    hidden = [sim.sim.jobs.get(job_id).fate.hidden_s for job_id in job_ids]
    assert all(10 <= h <= 60 for h in hidden) and len(set(hidden)) == 5


async def test_nourl_completes_without_a_url(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, faults=parse_fault_spec("nourl=1"))
    job_id = await submit(sim)
    clock.advance(1)
    assert (await status(sim, job_id)).json() == {"bulkJobId": job_id, "status": "COMPLETED", "totalRecords": 4}


async def test_jobstatus_reports_its_word_while_running_then_completes(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=10, faults=parse_fault_spec("jobstatus=THROTTLED:1"))
    job_id = await submit(sim)
    assert await timeline(sim, clock, job_id, [0, 5, 10]) == ["PENDING", "THROTTLED", "COMPLETED"]


async def download(sim, clock, job_id) -> bytes:
    clock.advance(1)
    job = sim.sim.jobs.get(job_id)
    reply = await sim.call("GET", job.results_path, key=None)
    assert reply.status == 200
    assert reply.text.encode() == sim.sim.jobs.get(job_id).results()
    return sim.sim.jobs.get(job_id).results()


async def test_foreign_results_use_another_line_format(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, faults=parse_fault_spec("results=foreign"))
    bad = {"identifiers": {"phone": "4155550100"}}
    job_id = await submit(sim, [USERS[0], bad])
    ok_line, bad_line = (json.loads(line) for line in (await download(sim, clock, job_id)).decode().split("\n")[:2])
    assert ok_line == {"input": USERS[0], "result": "SUCCESS"}
    assert (bad_line["input"], bad_line["result"]) == (bad, "FAILURE")
    assert "E.164" in bad_line["reason"]


async def test_u2028_writes_raw_separators_inside_values(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, faults=parse_fault_spec("u2028=1"))
    data = await download(sim, clock, await submit(sim))
    for char in "\u2028\u2029\u0085":
        assert char.encode() in data  # raw UTF-8, not a \\u escape
    lines = data.decode().split("\n")[:-1]
    assert [json.loads(line)["response"] for line in lines] == [{"status": 200, "message": "OK", "note": RAW_SEPARATORS}] * 4
    assert len(data.decode().splitlines()) > len(lines)  # the trap: splitlines() cuts these lines apart


async def test_u2028_marks_a_seeded_share_of_lines_the_same_on_every_download(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, seed=5, faults=parse_fault_spec("u2028=0.3"))
    users = [{"identifiers": {"email": f"u{i}@example.com"}} for i in range(200)]
    job_id = await submit(sim, users)
    data = await download(sim, clock, job_id)
    marked = sum("note" in json.loads(line)["response"] for line in data.decode().split("\n")[:-1])
    assert 35 < marked < 85
    assert sim.sim.jobs.get(job_id).results() == data


async def test_a_lone_surrogate_in_a_request_still_downloads(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock)
    body = '{"users": [{"identifiers": {"email": "a@example.com"}, "attributes": {"firstName": "\\ud800"}}]}'
    job_id = await submit_raw(sim, body)
    line = json.loads(await download(sim, clock, job_id))
    assert line["request"]["attributes"]["firstName"] == "\ud800"


async def test_jobs_outlive_a_restart_on_the_same_state_as_attentives_two_weeks_do(start_simulator, tmp_path):
    # The embedded simulator lives inside the console: `jobs --wait` after quitting must find the jobs.
    state, clock = tmp_path / "state.json", JobClock()
    first = await start_simulator(state_file=state, bulk_job_delay_s=30, clock=clock)
    users = [{"identifiers": {"email": "kept@example.com"}, "attributes": {"custom": {"tier": "Gold"}}}]
    job_id = (await first.call("POST", "/v2/bulk/user/attributes", json={"users": users})).json()["batchJobId"]
    await first.stop()
    again = await start_simulator(state_file=state, bulk_job_delay_s=30, clock=clock)
    assert (await again.call("GET", f"/v2/bulk/job/{job_id}")).json()["status"] == "PENDING"
    clock.advance(31)
    done = (await again.call("GET", f"/v2/bulk/job/{job_id}")).json()
    results = await again.call("GET", URL(done["url"]).path, key=None)
    assert done["status"] == "COMPLETED" and "kept@example.com" in results.text


async def read_tier(sim, email):
    reply = await sim.call("GET", "/v1/attributes/custom", params={"email": email})
    return reply.status, (reply.json() if reply.status == 200 else None)


async def test_a_jobs_records_are_applied_when_it_runs_not_when_it_is_accepted(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=3600)
    first = await submit(sim, [{"identifiers": {"email": "a@example.com"}, "attributes": {"custom": {"tier": "silver"}}}])
    clock.advance(1800)
    second = await submit(sim, [{"identifiers": {"email": "a@example.com"}, "attributes": {"custom": {"tier": "gold"}}}])
    assert (await read_tier(sim, "a@example.com"))[0] == 404        # accepted for processing: nothing applied yet
    assert sim.sim.jobs.get(first).failures is None
    clock.advance(1800)                                              # the first is due, the second not yet
    assert (await status(sim, first)).json()["status"] == "COMPLETED"
    assert (await read_tier(sim, "a@example.com"))[1] == [{"name": "tier", "attribute": "tier", "value": "silver"}]
    assert (await status(sim, second)).json()["status"] == "IN_PROGRESS"
    clock.advance(1800)
    assert (await read_tier(sim, "a@example.com"))[1][0]["value"] == "gold"   # in their order of completion


async def test_a_job_runs_in_the_background_once_due_without_a_request(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=60)
    job_id = await submit(sim)
    ran = asyncio.Event()
    settle = sim.sim.jobs.settle

    def noting(job, failures):
        ran.set()
        return settle(job, failures)

    sim.sim.jobs.settle = noting
    clock.advance(61)
    await asyncio.wait_for(ran.wait(), 10)   # the settler looks every 20 ms
    assert sim.sim.state.company(sim.sim.jobs.get(job_id).company_id).find("email", "user3@example.com").custom == {"n": 3}


def test_a_job_accepted_before_a_restart_runs_after_it(tmp_path):
    journal = tmp_path / "state.json.jobs.jsonl"
    clock = JobClock()
    store = JobStore(delay_s=(60, 60), faults=FaultSpec(), seed=1, retention_records=1000, clock=clock, journal=journal)
    ran = store.create("c1", 1, json.dumps({"users": USERS[:1]}).encode(), None, store.draw())
    waiting = store.create("c1", 1, json.dumps({"users": USERS[1:2]}).encode(), None, store.draw())
    clock.advance(61)
    assert store.next_due(clock()).job_id == ran.job_id
    store.settle(ran, {0: "refused"})
    again = JobStore(delay_s=(60, 60), faults=FaultSpec(), seed=1, retention_records=1000, clock=clock, journal=journal)
    assert again.get(ran.job_id).failures == {0: "refused"}          # ran before: not run twice
    assert again.get(waiting.job_id).failures is None
    clock.advance(61)   # a replayed job's age is by the wall clock: due a minute after its submission
    assert again.next_due(clock()).job_id == waiting.job_id and again.next_due(clock()) is None
