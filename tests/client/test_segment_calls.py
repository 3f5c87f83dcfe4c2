"""The client's v2 segment calls (tui.attentive.segment_calls) against the simulator and a scripted
server: create, find by name and by externalId, add and remove members through bulk jobs followed
with get_bulk_job on the job clock; the payload builders refuse what the spec refuses before
anything is sent (10,001 members, two identifiers, empty ones); a key without the permission is
FATAL naming it; the member calls are retried (not send-once). Every body built validates against
the v2 spec."""
from __future__ import annotations

import random

import pytest
from scripted_server import Step
from simulator_fixtures import FULL_KEY, TEST_KEYS, JobClock
from spec_kit import request_schema, v2
from virtual_clock import VirtualClock

from tui.attentive import endpoints, segment_calls, segment_payloads
from tui.attentive.client import SEND_ONCE, AttentiveClient
from tui.attentive.endpoints import Permission
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import PacingRegistry
from tui.attentive.payloads import PayloadError
from tui.attentive.secret import ApiKey

COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id
SPEC = "attentive-v2.json"
THREE = [{"email": "ada@example.com"}, {"phone": "+19148440001"}, {"clientUserId": "user-3"}]
JSON = {"Content-Type": "application/json"}


def client(url: str, key: str, *, clock: VirtualClock | None = None, **options) -> AttentiveClient:
    options.setdefault("backoff_base_s", 0.01)
    registry = PacingRegistry(clock=clock) if clock else PacingRegistry()
    return AttentiveClient(url, ApiKey(key), pacing=registry, rng=random.Random(3), **options)


def test_the_segment_endpoints_are_published_retryable_and_need_the_segments_permission():
    assert all(spec.limit_per_second == 100 and spec.permissions == (Permission.SEGMENTS,) for spec in endpoints.SEGMENTS)
    assert not {spec.name for spec in endpoints.SEGMENTS} & SEND_ONCE
    assert {(s.method, s.path) for s in endpoints.SEGMENTS} == {
        ("POST", "/v2/segments"), ("GET", "/v2/segments"), ("GET", "/v2/segments/external/{externalId}"),
        ("PATCH", "/v2/segments/external/{externalId}"), ("DELETE", "/v2/segments/external/{externalId}"),
        ("POST", "/v2/bulk/segments/members"), ("DELETE", "/v2/bulk/segments/members")}


def test_the_bodies_built_validate_against_the_v2_spec():
    v2("/v2/segments")(segment_payloads.create_segment_body(" Gold ", description="Gold tier", external_id="gold"))
    request_schema(SPEC, "/v2/segments/external/{externalId}", "patch")(segment_payloads.patch_segment_body(name="G"))
    body = segment_payloads.segment_members_body("gold", THREE)
    for method in ("post", "delete"):
        request_schema(SPEC, "/v2/bulk/segments/members", method)(body)
    assert body == {"externalId": "gold", "members": THREE}
    assert segment_payloads.create_segment_body(" Gold ") == {"name": "Gold"}


@pytest.mark.parametrize(("members", "says"), [
    ([{"email": f"u{i}@example.com"} for i in range(10_001)], "10,000"),
    ([], "at least 1"),
    ([{"email": "ada@example.com", "phone": "+19148440001"}], "one identifier per member"),
    ([{"email": "  ", "phone": None}], "members[0] has no identifier"),
    ([{"phone": "19148440001"}], "E.164"),
    ([{"shopifyId": "1"}], "unsupported identifier"),
    ([{"clientUserId": "x" * 101}], "limited to 100"),
])
def test_the_member_builder_refuses_what_attentive_would(members, says):
    with pytest.raises(PayloadError) as refused:
        segment_payloads.segment_members_body("gold", members)
    assert says in str(refused.value)


def test_the_other_builders_refuse_empty_and_oversized_texts():
    for build in (lambda: segment_payloads.create_segment_body("  "),
                  lambda: segment_payloads.create_segment_body("ok", description="x"),
                  lambda: segment_payloads.create_segment_body("n" * 241),
                  lambda: segment_payloads.patch_segment_body()):
        with pytest.raises(PayloadError):
            build()


async def test_create_find_add_and_remove_members_through_the_client(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=60)
    async with client(sim.url, sim.full_key) as attentive:
        made = await segment_calls.create_segment(attentive, "Loyalty Gold", external_id="gold")
        twin = await segment_calls.create_segment(attentive, "Loyalty Gold", external_id="gold-2")
        by_name = await segment_calls.list_segments(attentive, name="Loyalty Gold")
        by_id = await segment_calls.list_segments(attentive, external_id="gold")
        one = await segment_calls.get_segment(attentive, "gold")
        added = await segment_calls.add_segment_members(attentive, "gold", THREE)
        pending = await attentive.get_bulk_job(added.data)
        clock.advance(61)
        done = await attentive.get_bulk_job(added.data)
        after_add = sim.sim.api.segments.members(COMPANY, "gold")
        removed = await segment_calls.remove_segment_members(attentive, "gold", [{"clientUserId": "user-3"}])
        clock.advance(61)
        removal = await attentive.get_bulk_job(removed.data)
    assert made.ok and made.status == 201 and made.data == segment_calls.Segment("gold", "Loyalty Gold",
                                                                                  "Manual Segment Upload Public API V2")
    assert twin.status == 201  # names repeat: the externalId is the key
    assert sorted(s.external_id for s in by_name.data.segments) == ["gold", "gold-2"]
    assert [s.external_id for s in by_id.data.segments] == ["gold"] and by_id.data.has_more is False
    assert one.data.name == "Loyalty Gold" and one.data.created
    assert (added.status, pending.data.status, done.data.status, removal.data.status) == (202, "PENDING", "COMPLETED",
                                                                                          "COMPLETED")
    assert after_add == THREE
    assert sim.sim.api.segments.members(COMPANY, "gold") == THREE[:2]


async def test_patch_delete_and_an_unknown_segment(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        await segment_calls.create_segment(attentive, "Gold", external_id="gold/1")  # quoted in the path
        renamed = await segment_calls.patch_segment(attentive, "gold/1", description="Gold tier")
        archived = await segment_calls.delete_segment(attentive, "gold/1")
        gone = await segment_calls.get_segment(attentive, "gold/1")
        nowhere = await segment_calls.add_segment_members(attentive, "gold/1", THREE)
    assert renamed.data.description == "Gold tier" and archived.status == 204 and archived.ok
    assert (gone.status, nowhere.status) == (404, 404)


async def test_10001_members_are_not_sent(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        outcome = await segment_calls.add_segment_members(attentive, "gold", [{"email": f"u{i}@example.com"}
                                                                              for i in range(10_001)])
        sent = attentive.stats.of(endpoints.SEGMENT_MEMBERS_ADD.name).requests
    assert (outcome.kind, outcome.attempts, sent) == (OutcomeKind.REJECTED, 0, 0)
    assert "10,000" in outcome.text


async def test_a_key_without_the_permission_is_fatal_naming_it(simulator):
    async with client(simulator.url, simulator.attributes_key) as attentive:
        created = await segment_calls.create_segment(attentive, "Gold")
        listed = await segment_calls.list_segments(attentive)
    for outcome in (created, listed):
        assert (outcome.kind, outcome.status, outcome.permission) == (OutcomeKind.FATAL, 403, "Segments")


async def test_member_changes_are_retried_after_a_5xx_with_the_same_body(scripted):
    accepted = Step(202, '{"message": "ok", "batchJobId": "job-1"}', JSON)
    scripted.add(Step(500, "oops"), accepted, Step(503, "busy"), accepted)
    async with client(scripted.url, "sk_test_segments_0001", clock=VirtualClock()) as attentive:
        added = await segment_calls.add_segment_members(attentive, "gold", THREE)
        removed = await segment_calls.remove_segment_members(attentive, "gold", THREE[:1])
    assert (added.data, added.attempts, removed.data, removed.attempts) == ("job-1", 2, "job-1", 2)
    assert [s.method for s in scripted.seen] == ["POST", "POST", "DELETE", "DELETE"]
    assert scripted.seen[0].body == scripted.seen[1].body


async def test_a_2xx_without_a_job_id_is_accepted_with_the_body_kept(scripted):
    scripted.add(Step(202, "queued", JSON))
    async with client(scripted.url, "sk_test_segments_0001") as attentive:
        outcome = await segment_calls.add_segment_members(attentive, "gold", THREE)
    assert outcome.ok and outcome.data is None and outcome.text == "queued"
