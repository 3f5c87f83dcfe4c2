"""Each promotion gate failing alone, and passing, as pure functions of small fixtures."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tui.settings.model import AccessPolicy, Credential, Destination, Environment
from tui.settings.promotion_diff import diff_destination
from tui.settings.promotion_gates import (
    CredentialCheck,
    SampleSendEvidence,
    VerificationEvidence,
    gate_admin,
    gate_production_credential,
    gate_test_send,
    gate_verification,
)

DESTINATION = Destination(
    name="loyalty", description="Loyalty tier", credential="attentive", primary_identifier="email",
    identifiers={"email": "email"}, attributes={"Loyalty Tier": "tier", "Points": "points"},
)
PRODUCTION = Environment(
    name="production", path=Path("/cfg/production.toml"), api_url="embedded",
    access=AccessPolicy(admins=("alice",)),
    credentials={"attentive": Credential("attentive", "prod", "custom-attributes-api", "secret:attentive-prod"),
                 "other": Credential("other", "", "custom-attributes-api", "env:OTHER")},
)
GOOD_RUN = SampleSendEvidence(
    run_id=7, started_at="2025-01-02T03:04:05.000000+00:00", config_hash=DESTINATION.config_hash(),
    status="finished", sample_size=50, attempted=50, rejected=2,
    verification=VerificationEvidence(checked=48, mismatched=0),
)
CONNECTED = CredentialCheck(ok=True, detail="Acme Production (app: Attentive Console)")


def test_admin_gate():
    assert gate_admin("alice", PRODUCTION).passed
    failed = gate_admin("bob", PRODUCTION)
    assert not failed.passed and "bob is not an admin" in failed.reason and "alice" in failed.reason
    assert "production.toml" in failed.fix


def test_admin_gate_honours_the_wildcard():
    everyone = replace(PRODUCTION, access=AccessPolicy(admins=("*",)))
    assert gate_admin("bob", everyone).passed


def test_test_send_gate_passes_on_a_matching_finished_run():
    gate = gate_test_send(DESTINATION, GOOD_RUN)
    assert gate.passed and "run 7" in gate.reason and "2 of 50" in gate.reason


def test_no_test_send_fails():
    gate = gate_test_send(DESTINATION, None)
    assert not gate.passed and "no finished sandbox test send of loyalty" in gate.reason
    assert "--sample" in gate.fix


def test_test_send_with_a_different_configuration_fails():
    changed = replace(DESTINATION, attributes={**DESTINATION.attributes, "Extra": "extra"})
    gate = gate_test_send(changed, GOOD_RUN)
    assert not gate.passed and "changed after its test send" in gate.reason
    assert GOOD_RUN.config_hash[:12] in gate.reason and changed.config_hash()[:12] in gate.reason


def test_credential_and_description_do_not_count_as_configuration():
    renamed = replace(DESTINATION, credential="other", description="reworded")
    assert gate_test_send(renamed, GOOD_RUN).passed


def test_unfinished_test_send_fails():
    gate = gate_test_send(DESTINATION, replace(GOOD_RUN, status="cancelled"))
    assert not gate.passed and "did not finish (status: cancelled)" in gate.reason and "--resume 7" in gate.fix


def test_test_send_over_the_threshold_fails():
    gate = gate_test_send(DESTINATION, replace(GOOD_RUN, rejected=3))  # 6% > 5%
    assert not gate.passed and "3 of 50 rows (6.0%)" in gate.reason and "5.0%" in gate.reason
    assert "rejections 7" in gate.fix


def test_test_send_at_the_threshold_passes():
    assert gate_test_send(DESTINATION, replace(GOOD_RUN, rejected=2, attempted=40)).passed  # exactly 5%


def test_verification_gate():
    assert gate_verification(GOOD_RUN).passed


@pytest.mark.parametrize("run, expected", [
    (None, "no test send"),
    (replace(GOOD_RUN, verification=None), "no read-back verification"),
    (replace(GOOD_RUN, verification=VerificationEvidence(checked=0, mismatched=0)), "checked no profiles"),
    (replace(GOOD_RUN, verification=VerificationEvidence(checked=48, mismatched=3)), "of 48 profiles read back from run 7, 3 differ"),
    (replace(GOOD_RUN, verification=VerificationEvidence(checked=48, mismatched=0, missing=2)), "2 were not found"),
])
def test_failed_verification_fails(run, expected):
    gate = gate_verification(run)
    assert not gate.passed and expected in gate.reason and gate.fix


def test_production_credential_gate_passes_when_it_connects():
    gate = gate_production_credential(DESTINATION, PRODUCTION, CONNECTED)
    assert gate.passed and "Acme Production" in gate.reason


def test_missing_production_credential_fails_and_lists_the_ones_there_are():
    missing = replace(DESTINATION, credential="attentive-sandbox")
    gate = gate_production_credential(missing, PRODUCTION, None)
    assert not gate.passed
    assert "no credential named 'attentive-sandbox'" in gate.reason and "attentive, other" in gate.reason
    assert "credentials add attentive-sandbox --env production" in gate.fix and "--credential attentive" in gate.fix


def test_production_credential_failing_its_connection_test_fails():
    check = CredentialCheck(ok=False, detail="Attentive refused the key (401)", fix="set a new key")
    gate = gate_production_credential(DESTINATION, PRODUCTION, check)
    assert not gate.passed and "401" in gate.reason and gate.fix == "set a new key"
    assert "secret:" not in gate.reason


def test_diff_of_a_new_destination():
    diff = diff_destination(DESTINATION, None)
    assert diff.new_in_production and not diff.unchanged
    assert {c.field for c in diff.changes} >= {"credential", "primary_identifier", 'attributes."Loyalty Tier"'}
    assert all(c.kind == "added" for c in diff.changes)
    assert "+[destinations.loyalty]" in diff.unified and '+credential = "attentive"' in diff.unified
    assert "(absent)" in diff.unified.splitlines()[0]


def test_diff_against_an_existing_definition_is_field_by_field():
    production = replace(DESTINATION, rate_limit=20.0, attributes={"Loyalty Tier": "tier", "Old": "old"},
                         rejection_threshold=0.1)
    diff = diff_destination(DESTINATION, production)
    by_field = {c.field: c for c in diff.changes}
    assert set(by_field) == {"rejection_threshold", "rate_limit", "attributes.Points", "attributes.Old"}
    assert (by_field["rejection_threshold"].production, by_field["rejection_threshold"].sandbox) == ("0.1", "0.05")
    assert by_field["rate_limit"].kind == "removed" and by_field["attributes.Points"].kind == "added"
    assert "-rate_limit = 20.0" in diff.unified and '+Points = "points"' in diff.unified


def test_identical_definitions_have_an_empty_diff_with_a_stable_hash():
    diff = diff_destination(DESTINATION, DESTINATION)
    assert diff.unchanged and diff.unified == ""
    assert diff_destination(DESTINATION, None).sha256 == diff_destination(DESTINATION, None).sha256


def test_a_test_send_awaiting_its_jobs_is_pending_not_failed():
    waiting = replace(GOOD_RUN, status="awaiting_results", jobs_pending=2, verification=None, read_back_scheduled=True)
    send_gate, check_gate = gate_test_send(DESTINATION, waiting), gate_verification(waiting)
    assert (send_gate.passed, send_gate.pending, send_gate.verdict) == (False, True, "PENDING")
    assert check_gate.pending and check_gate.reason == "verification pending (2 jobs processing)"
    assert "jobs --run 7 --wait" in check_gate.fix


def test_a_read_back_that_differs_inside_its_window_is_pending_then_passes_once_matched():
    differing = replace(GOOD_RUN, read_back_scheduled=True,
                        verification=VerificationEvidence(checked=48, mismatched=3, state="pending"))
    gate = gate_verification(differing)
    assert gate.pending and not gate.passed and "3 of 48 differ for now" in gate.reason
    matched = replace(GOOD_RUN, verification=VerificationEvidence(checked=48, mismatched=0, state="matched"))
    assert gate_verification(matched).passed
    closed = replace(GOOD_RUN, verification=VerificationEvidence(checked=48, mismatched=3, state="mismatched"))
    assert (gate_verification(closed).passed, gate_verification(closed).pending) == (False, False)
