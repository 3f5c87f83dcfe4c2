"""An event destination's sample send, end to end against the simulator: its evidence says it sent
events, all accepted and none unknown, no read-back is scheduled, and the verification gate passes.
(Here rather than in tests/promotion: the event_kit and sync_kit helpers are importable from this
folder only.)"""
from __future__ import annotations

import pytest
from event_kit import arrivals, visit, visits, write_visits
from sync_kit import send

from tui.core.promotion_evidence import latest_test_send
from tui.settings.promotion_gates import gate_verification

pytestmark = pytest.mark.asyncio


async def test_a_sample_of_custom_events_passes_the_verification_gate_on_its_answers(simulator, tmp_path):
    data_dir = tmp_path / "data"
    source = write_visits(tmp_path / "visits.csv", [visit(i) for i in range(30)])
    sent = await send(simulator, data_dir, visits(), source, sample=10, follow=False)
    assert sent.stop is None

    evidence = latest_test_send(data_dir, "store-visits")
    assert evidence is not None and evidence.run_id == sent.run.id
    assert evidence.sends_once and evidence.status == "finished" and evidence.sample_size == 10
    assert evidence.accepted == 10 and evidence.unknown == 0 and evidence.rejected == 0
    assert not evidence.read_back_scheduled and evidence.jobs_pending == 0 and evidence.verification is None
    assert sum(arrivals(simulator, "custom-events").values()) == 10  # what was accepted arrived

    gate = gate_verification(evidence)
    assert gate.passed, gate.reason
    assert f"all 10 events Attentive answered for run {evidence.run_id} were accepted" in gate.reason
