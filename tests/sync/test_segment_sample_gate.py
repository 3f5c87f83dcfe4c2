"""The verification gate for a segment destination's test send: no endpoint lists a segment's
members, so the sample's job results are the gate. Against the simulator: pending while the jobs
process, passed once every member is accepted, failed when a member's result is a refusal; a
sample adds its rows and removes nobody, and schedules no read-back."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from simulator_fixtures import FULL_KEY, TEST_KEYS
from sync_kit import follow_jobs, send, valid_row, write_csv

from tui.core.promotion_evidence import latest_test_send
from tui.settings.model import Destination, SegmentMapping
from tui.settings.promotion_gates import gate_test_send, gate_verification
from tui.sync.segment_target import derived_external_id

COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id
DESTINATION = Destination(name="winter-vip", description="test", credential="test", primary_identifier="email",
                          endpoint="segment-members-add", kind="segment", identifiers={"email": "email"},
                          segment=SegmentMapping("Winter VIP"))


def people(tmp_path: Path, rows: list[dict]) -> Path:
    return write_csv(tmp_path / "people.csv", rows)


async def test_a_sample_is_judged_by_its_job_results(simulator, tmp_path):
    data = tmp_path / "data"
    await send(simulator, data, DESTINATION, people(tmp_path, [valid_row(i) for i in range(40)]))
    sample = await send(simulator, data, DESTINATION, people(tmp_path, [valid_row(i) for i in range(30, 60)]),
                        sample=10, follow=False)
    evidence = latest_test_send(data, DESTINATION.name)
    assert evidence is not None and evidence.segment and not evidence.read_back_scheduled
    assert gate_verification(evidence).pending and gate_test_send(DESTINATION, evidence).pending

    await follow_jobs(simulator, data, DESTINATION, run_ids=[sample.run.id])
    evidence = latest_test_send(data, DESTINATION.name)
    assert evidence is not None
    gate = gate_verification(evidence)
    assert gate.passed, gate.reason
    assert gate.title == "sample members accepted in Attentive's job results"
    assert f"members of run {sample.run.id} were accepted" in gate.reason
    members = {m["email"] for m in simulator.sim.api.segments.members(COMPANY, derived_external_id("winter-vip"))}
    assert len(members) > 40 and {f"member{i}@example.com" for i in range(40)} <= members  # nobody removed
    assert gate_test_send(DESTINATION, evidence).passed


async def test_failed_or_unconfirmed_members_fail_the_gate(simulator, tmp_path):
    data = tmp_path / "data"
    await send(simulator, data, DESTINATION, people(tmp_path, [valid_row(i) for i in range(20)]), sample=10)
    evidence = latest_test_send(data, DESTINATION.name)
    assert evidence is not None and gate_verification(evidence).passed
    failed = gate_verification(replace(evidence, accepted=8, failed=2))
    assert not failed.passed and not failed.pending and "2 failed" in failed.reason
    assert f"attentive-console rejections {evidence.run_id}" in failed.fix
    unconfirmed = gate_verification(replace(evidence, unconfirmed=3))
    assert not unconfirmed.passed and "3 unconfirmed" in unconfirmed.reason
    assert not gate_verification(replace(evidence, accepted=0)).passed
