"""Schemathesis over the simulator: requests generated from Attentive's own OpenAPI files (valid and
invalid ones) for every operation the simulator implements, sent to a real simulator on loopback.
No answer may be a 5xx, and every answer must conform to the spec (status code, content type,
body schema, headers). Bounded to well under a minute: few examples, no shrinking, no deadline."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from simulator_fixtures import FULL_KEY, JobClock, simulator_thread

from tui.attentive.simulator.faults import parse_fault_spec

SPEC_DIR = Path(__file__).resolve().parents[2] / "tui" / "attentive" / "spec"
AUTH = {"Authorization": f"Bearer {FULL_KEY}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Spec defect: getBulkJobStatus documents only 200, yet an unknown (or expired, or another
# company's) job id can only be answered 404; generated ids are always unknown. Its other checks stay.
UNDOCUMENTED_404 = {"getBulkJobStatus"}


def _schema(spec_file: str, *operation_ids: str) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict({
        "generation": {"mode": "all"},
        # The examples phase replays the spec's own examples; coverage adds boundary values; no
        # stateful phase (the spec has no links) and no shrinking (a failure is reported as found).
        "phases": {"stateful": {"enabled": False}},
    })
    return schemathesis.openapi.from_path(SPEC_DIR / spec_file, config=config).include(operation_id=list(operation_ids))


EVENT_OPERATIONS = ("postCustomEvents", "postPurchaseEvents", "postAddToCartEvents", "postProductViewEvents")
SUBSCRIPTION_OPERATIONS = ("addSubscriptions", "unsubscribeSubscriptions", "getSubscriptions")
V1 = _schema("attentive-v1.json", "getMe", "postCustomAttributes", "getCustomAttributes", *SUBSCRIPTION_OPERATIONS,
             *EVENT_OPERATIONS)
SEGMENT_OPERATIONS = ("createSegment", "listSegments", "getSegmentByExternalId", "patchSegmentByExternalId",
                      "deleteSegmentByExternalId", "postBulkSegmentMembers", "deleteBulkSegmentMembers")
V2 = _schema("attentive-v2.json", "postBulkUserAttributes", "getBulkJobStatus", *SEGMENT_OPERATIONS)
BOUNDED = settings(
    max_examples=100, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    # A thread of its own: schemathesis calls are blocking (requests), so the simulator cannot share
    # the test's event loop. Rate limits off: hypothesis sends as fast as it can.
    with simulator_thread(rate_limits=False) as running:
        yield running.url


def _call_and_validate(case: schemathesis.Case, base_url: str) -> None:
    excluded = [status_code_conformance] if case.operation.definition.raw.get("operationId") in UNDOCUMENTED_404 else []
    case.call_and_validate(
        base_url=base_url,
        headers=AUTH,
        checks=[check for check in CHECKS if check not in excluded],
        timeout=10,
    )


@V1.parametrize()
@BOUNDED
def test_v1_operations_never_fail_and_answer_as_specified(case, simulator_url):
    _call_and_validate(case, simulator_url + "/v1")  # the v1 spec's server URL ends in /v1


@V2.parametrize()
@BOUNDED
def test_v2_operations_never_fail_and_answer_as_specified(case, simulator_url):
    _call_and_validate(case, simulator_url)


def test_every_event_and_subscription_operation_is_fuzzed():
    fuzzed = {operation.ok().definition.raw.get("operationId") for operation in V1.get_all_operations()}
    assert set(EVENT_OPERATIONS) | set(SUBSCRIPTION_OPERATIONS) <= fuzzed


def test_every_segment_operation_is_fuzzed():
    fuzzed = {operation.ok().definition.raw.get("operationId") for operation in V2.get_all_operations()}
    assert set(SEGMENT_OPERATIONS) <= fuzzed


def test_job_status_answers_conform_in_every_phase_and_fault():
    # Generated job ids are all unknown (404), so the 200 answers are checked here on real jobs.
    clock = JobClock()
    faults = parse_fault_spec("jobfail=0.3,nourl=0.3,jobstatus=THROTTLED:0.3")
    submit, status = V2["/v2/bulk/user/attributes"]["POST"], V2["/v2/bulk/job/{bulkJobId}"]["GET"]
    with simulator_thread(rate_limits=False, clock=clock, seed=3, bulk_job_delay_s=10, faults=faults) as running:
        job_ids = [
            submit.Case(body={"users": [{"identifiers": {"email": f"u{i}@example.com"}}]}, headers=AUTH)
            .call_and_validate(base_url=running.url, checks=CHECKS).json()["batchJobId"]
            for i in range(12)
        ]
        seen = set()
        for _ in range(3):
            for job_id in job_ids:
                case = status.Case(path_parameters={"bulkJobId": job_id}, headers=AUTH)
                seen.add(case.call_and_validate(base_url=running.url, checks=CHECKS).json()["status"])
            clock.advance(5)
    assert seen == {"PENDING", "IN_PROGRESS", "THROTTLED", "COMPLETED", "FAILED"}
