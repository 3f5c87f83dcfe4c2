"""The verification gate for an event destination's test send: events have no read-back, so the
sample's answers are the gate (accepted > 0 and none unknown), whatever the read-back fields say."""
from __future__ import annotations

from dataclasses import replace

from tui.settings.promotion_gates import SampleSendEvidence, VerificationEvidence, gate_verification

EVENTS_RUN = SampleSendEvidence(
    run_id=7, started_at="2026-03-08T09:30:00+00:00", config_hash="c" * 64, status="finished", sample_size=10,
    attempted=10, rejected=0, verification=None, sends_once=True, accepted=10, unknown=0,
)


def test_accepted_events_and_none_unknown_pass_without_a_read_back():
    gate = gate_verification(EVENTS_RUN)
    assert gate.passed and gate.verdict == "PASS" and not gate.pending and gate.fix == ""
    assert gate.id == "verification"
    assert "10 events" in gate.reason and "run 7" in gate.reason
    # The same evidence as an attribute destination's fails: it has no read-back recorded.
    assert not gate_verification(replace(EVENTS_RUN, sends_once=False)).passed


def test_unknown_events_fail_naming_their_count_and_the_rejections_command():
    gate = gate_verification(replace(EVENTS_RUN, accepted=8, unknown=2))
    assert not gate.passed and not gate.pending and gate.verdict == "FAIL"
    assert "2 of run 7's events are unknown" in gate.reason
    assert "attentive-console rejections 7 --reason event_unknown" in gate.fix


def test_unknown_events_fail_even_with_a_matched_read_back_on_record():
    run = replace(EVENTS_RUN, accepted=9, unknown=1, verification=VerificationEvidence(9, 0, 0, "matched"))
    gate = gate_verification(run)
    assert not gate.passed and "1 of run 7" in gate.reason


def test_no_accepted_event_fails():
    gate = gate_verification(replace(EVENTS_RUN, accepted=0, unknown=0, rejected=10))
    assert not gate.passed and not gate.pending and gate.verdict == "FAIL"
    assert "run 7 had no event accepted" in gate.reason
    assert gate.fix
