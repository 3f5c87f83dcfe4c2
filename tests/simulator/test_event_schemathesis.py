"""Schemathesis over the simulator's event endpoints, as test_simulator_schemathesis.py does for the
others: requests generated from the v1 spec (valid and invalid ones, the spec's own examples first),
sent to a real simulator on loopback. No answer may be a 5xx, and every answer must conform to the
spec (status code, content type, body schema, headers)."""
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
from simulator_fixtures import FULL_KEY, simulator_thread

SPEC = Path(__file__).resolve().parents[2] / "tui" / "attentive" / "spec" / "attentive-v1.json"
AUTH = {"Authorization": f"Bearer {FULL_KEY}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
CONFIG = schemathesis.Config.from_dict({"generation": {"mode": "all"}, "phases": {"stateful": {"enabled": False}}})
EVENTS = schemathesis.openapi.from_path(SPEC, config=CONFIG).include(
    operation_id=["postCustomEvents", "postPurchaseEvents", "postAddToCartEvents", "postProductViewEvents"]
)
BOUNDED = settings(
    max_examples=100, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    # A thread of its own (schemathesis calls block); rate limits off: hypothesis sends as fast as it can.
    with simulator_thread(rate_limits=False) as running:
        yield running.url


@EVENTS.parametrize()
@BOUNDED
def test_event_operations_never_fail_and_answer_as_specified(case, simulator_url):
    case.call_and_validate(base_url=simulator_url + "/v1", headers=AUTH, checks=CHECKS, timeout=10)


def test_every_event_operation_is_fuzzed():
    assert sum(1 for _ in EVENTS.get_all_operations()) == 4
