"""The simulator's v2 segment endpoints over real HTTP on loopback: create, find by name and by
externalId, change and archive; member changes through bulk jobs on the job clock (JobClock), whose
members change only when the job completes; the 10,000-member limit; the permission; persistence.
Every request body validates against the v2 spec, and every JSON answer against its response schema."""
from __future__ import annotations

import pytest
from simulator_fixtures import FULL_KEY, TEST_KEYS, JobClock
from spec_kit import request_schema, response_schema, v2

COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id
SPEC = "attentive-v2.json"
SEGMENTS, ONE, MEMBERS, JOB = "/v2/segments", "/v2/segments/external/{externalId}", "/v2/bulk/segments/members", \
    "/v2/bulk/job/{bulkJobId}"
THREE = [{"email": "ada@example.com"}, {"phone": "+19148440001"}, {"clientUserId": "user-3"}]


def answer(reply, path: str, method: str):
    """The reply's JSON, validated against the spec's schema for its status."""
    body = reply.json()
    response_schema(SPEC, path, method, str(reply.status))(body)
    return body


async def create(sim, body: dict, key: str = FULL_KEY):
    v2(SEGMENTS)(body)
    return await sim.call("POST", SEGMENTS, key=key, json=body)


async def members(sim, method: str, body: dict):
    request_schema(SPEC, MEMBERS, method.lower())(body)
    return await sim.call(method, MEMBERS, json=body)


async def job_status(sim, job_id: str) -> str:
    reply = await sim.call("GET", f"/v2/bulk/job/{job_id}")
    assert reply.status == 200
    return answer(reply, JOB, "get")["status"]


def held(sim, external_id: str) -> list[dict[str, str]]:
    return sim.sim.api.segments.members(COMPANY, external_id)


async def test_a_segment_is_created_then_found_by_name_and_by_external_id(simulator):
    reply = await create(simulator, {"name": "  Loyalty Gold  ", "description": "Gold tier", "externalId": "gold"})
    assert reply.status == 201
    assert answer(reply, SEGMENTS, "post") == {"externalId": "gold", "name": "Loyalty Gold", "description": "Gold tier"}
    await create(simulator, {"name": "Silver"})

    by_name = await simulator.call("GET", SEGMENTS, params={"name": "gold"})  # a partial match, any case
    by_id = await simulator.call("GET", SEGMENTS, params={"externalId": "gold"})
    one = await simulator.call("GET", "/v2/segments/external/gold")
    for reply in (by_name, by_id):
        listed = answer(reply, SEGMENTS, "get")
        assert [s["externalId"] for s in listed["segments"]] == ["gold"] and listed["hasMore"] is False
    segment = answer(one, ONE, "get")
    assert (segment["name"], segment["description"]) == ("Loyalty Gold", "Gold tier")
    assert segment["created"] == segment["updated"] and segment["created"].endswith("Z")


async def test_an_unnamed_external_id_is_made_up_and_the_description_defaults(simulator):
    made = answer(await create(simulator, {"name": "Anything"}), SEGMENTS, "post")
    assert made["externalId"].startswith("SEG_") and made["description"] == "Manual Segment Upload Public API V2"


async def test_a_second_segment_may_share_a_name_but_not_an_external_id(simulator):
    # The spec makes externalId the unique key and documents no 409: names repeat, a taken id is a 400.
    assert (await create(simulator, {"name": "VIP", "externalId": "vip-1"})).status == 201
    assert (await create(simulator, {"name": "VIP", "externalId": "vip-2"})).status == 201
    taken = await create(simulator, {"name": "Other", "externalId": "vip-1"})
    assert taken.status == 400 and "vip-1" in taken.json()["message"]
    listed = answer(await simulator.call("GET", SEGMENTS, params={"name": "VIP"}), SEGMENTS, "get")
    assert sorted(s["externalId"] for s in listed["segments"]) == ["vip-1", "vip-2"]


@pytest.mark.parametrize("body", [{"name": "   "}, {"name": "ok", "description": " x "}, {"name": "ok", "externalId": " "}])
async def test_whitespace_only_texts_are_refused_after_the_trim(simulator, body):
    v2(SEGMENTS)(body)  # valid by the schema: the trim is in the descriptions
    assert (await simulator.call("POST", SEGMENTS, json=body)).status == 400


async def test_members_change_only_when_their_job_completes(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=60)
    await create(sim, {"name": "Gold", "externalId": "gold"})

    added = await members(sim, "POST", {"externalId": "gold", "members": THREE})
    assert added.status == 202
    job_id = answer(added, MEMBERS, "post")["batchJobId"]
    assert await job_status(sim, job_id) == "PENDING" and held(sim, "gold") == []
    clock.advance(30)
    assert await job_status(sim, job_id) == "IN_PROGRESS" and held(sim, "gold") == []
    clock.advance(31)
    assert await job_status(sim, job_id) == "COMPLETED"
    assert held(sim, "gold") == THREE

    again = await members(sim, "POST", {"externalId": "gold", "members": THREE[:1]})  # a repeat: still one membership
    removed = await members(sim, "DELETE", {"externalId": "gold", "members": [{"phone": "+19148440001"}]})
    assert (again.status, removed.status) == (202, 202)
    removal = answer(removed, MEMBERS, "delete")["batchJobId"]
    assert await job_status(sim, removal) == "PENDING" and len(held(sim, "gold")) == 3
    clock.advance(61)
    assert await job_status(sim, removal) == "COMPLETED"
    assert held(sim, "gold") == [THREE[0], THREE[2]]


async def test_a_job_results_file_has_a_line_per_member_and_bad_members_are_not_applied(start_simulator):
    clock = JobClock()
    simulator = await start_simulator(clock=clock)
    await create(simulator, {"name": "Gold", "externalId": "gold"})
    body = {"externalId": "gold", "members": [{"email": "ada@example.com"}, {"phone": "19148440001"}]}
    job_id = (await members(simulator, "POST", body)).json()["batchJobId"]
    clock.advance(1)  # past the 50 ms every job of no duration stays PENDING
    status = (await simulator.call("GET", f"/v2/bulk/job/{job_id}")).json()
    assert status["status"] == "COMPLETED" and status["totalRecords"] == 2
    lines = (await simulator.call("GET", status["url"].removeprefix(simulator.url), key=None)).text.splitlines()
    assert len(lines) == 2 and '"status": 400' in lines[1] and "E.164" in lines[1]
    assert held(simulator, "gold") == [{"email": "ada@example.com"}]


async def test_more_than_10000_members_are_refused_naming_the_limit(simulator):
    await create(simulator, {"name": "Big", "externalId": "big"})
    too_many = {"externalId": "big", "members": [{"email": f"u{i}@example.com"} for i in range(10_001)]}
    for method in ("POST", "DELETE"):
        reply = await simulator.call(method, MEMBERS, json=too_many)
        assert reply.status == 400 and "10,000" in reply.json()["message"]
    assert simulator.sim.state.segments.queued() == []


async def test_member_changes_need_a_live_segment_and_an_identifier_per_member(simulator):
    unknown = await simulator.call("POST", MEMBERS, json={"externalId": "nope", "members": THREE})
    await create(simulator, {"name": "Gold", "externalId": "gold"})
    empty = await simulator.call("POST", MEMBERS, json={"externalId": "gold", "members": [{}]})
    assert (unknown.status, empty.status) == (404, 400) and "members[0]" in empty.json()["message"]


async def test_a_key_without_the_segments_permission_gets_403(simulator):
    for method, path, body in (("POST", SEGMENTS, {"name": "x"}), ("GET", SEGMENTS, None),
                               ("POST", MEMBERS, {"externalId": "x", "members": THREE})):
        reply = await simulator.call(method, path, key=simulator.attributes_key, json=body)
        assert reply.status == 403 and "Segments permission" in reply.json()["message"]


async def test_patch_renames_and_delete_archives(simulator):
    await create(simulator, {"name": "Gold", "externalId": "gold"})
    patch = {"name": "Gold Plus"}
    request_schema(SPEC, ONE, "patch")(patch)
    renamed = await simulator.call("PATCH", "/v2/segments/external/gold", json=patch)
    assert answer(renamed, ONE, "patch")["name"] == "Gold Plus"
    assert (await simulator.call("PATCH", "/v2/segments/external/gold", json={})).status == 400
    assert (await simulator.call("DELETE", "/v2/segments/external/gold")).status == 204
    assert (await simulator.call("GET", "/v2/segments/external/gold")).status == 404
    assert answer(await simulator.call("GET", SEGMENTS), SEGMENTS, "get")["segments"] == []
    assert (await create(simulator, {"name": "Gold", "externalId": "gold"})).status == 400  # archived keeps its id


async def test_lists_page_with_a_cursor(simulator):
    for n in range(3):
        await create(simulator, {"name": f"S{n}", "externalId": f"s{n}"})
    first = answer(await simulator.call("GET", SEGMENTS, params={"limit": "2"}), SEGMENTS, "get")
    rest = answer(await simulator.call("GET", SEGMENTS, params={"limit": "2", "cursor": first["cursor"]}), SEGMENTS, "get")
    assert [s["externalId"] for s in first["segments"] + rest["segments"]] == ["s0", "s1", "s2"]
    assert (first["hasMore"], rest["hasMore"], "cursor" in rest) == (True, False, False)
    assert (await simulator.call("GET", SEGMENTS, params={"cursor": "bogus"})).status == 400


async def test_segments_and_queued_member_changes_survive_a_restart(start_simulator, tmp_path):
    clock = JobClock()
    state = tmp_path / "state.json"
    sim = await start_simulator(clock=clock, bulk_job_delay_s=60, state_file=state)
    await create(sim, {"name": "Gold", "externalId": "gold"})
    done = (await members(sim, "POST", {"externalId": "gold", "members": THREE[:2]})).json()["batchJobId"]
    clock.advance(61)
    assert await job_status(sim, done) == "COMPLETED"
    await members(sim, "POST", {"externalId": "gold", "members": THREE[2:]})  # still queued at the restart
    await sim.stop()

    again = await start_simulator(clock=clock, bulk_job_delay_s=60, state_file=state)
    assert (await again.call("GET", "/v2/segments/external/gold")).status == 200
    assert held(again, "gold") == THREE[:2]
    clock.advance(61)
    assert held(again, "gold") == THREE
