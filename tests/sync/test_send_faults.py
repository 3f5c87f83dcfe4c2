"""Sends under injected faults end with every valid row accepted; 401 and 403 stop the run."""
from __future__ import annotations

import pytest
from sync_kit import loyalty, send, stored_custom, valid_row, write_csv

from tui.attentive.simulator.faults import parse_fault_spec
from tui.sync.history import HistoryStore

# Each 429 holds every sender until the next rate window (the client honours the limit), so the
# storms are short enough for the test to take seconds.
# The seeds put a 503, a dropped connection, a 429 burst and a 500 among the first 20 requests.
STORMS = {
    "bulk": ("500=0.12,503=0.08,429burst=0.03:4,latency=1-5ms,drop=0.04", 3),
    "custom-attributes": ("500=0.1,503=0.05,429burst=0.01:3,latency=1-5ms,drop=0.03", 21),
}
# The client's real back-off schedule, scaled down so the storm passes in seconds, not minutes.
QUICK_BACKOFF = {"backoff_base_s": 0.02, "backoff_cap_s": 0.3}


@pytest.mark.parametrize(("endpoint", "rows"), [("bulk", 2000), ("custom-attributes", 100)])
async def test_every_valid_row_is_accepted_through_a_fault_storm(start_simulator, tmp_path, endpoint, rows):
    spec, seed = STORMS[endpoint]
    sim = await start_simulator(faults=parse_fault_spec(spec), seed=seed, bulk_job_delay_s=0.05)
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(rows)])
    result = await send(sim, tmp_path / "data", loyalty(endpoint), source, client_options=QUICK_BACKOFF)
    run = result.run
    assert (run.status, run.accepted, run.rejected, run.failed, run.invalid) == ("finished", rows, 0, 0, 0)
    assert run.throttled > 0 and run.requests > (rows if endpoint != "bulk" else rows // 256)
    missing = [i for i in range(rows) if stored_custom(sim, f"member{i}@example.com") is None]
    assert missing == []
    with HistoryStore(tmp_path / "data") as store:
        assert store.outcome_counts(run.id)["accepted"] == rows


@pytest.mark.parametrize("endpoint", ["bulk", "custom-attributes"])
async def test_an_unknown_key_stops_the_run_with_401(simulator, tmp_path, endpoint):
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(50)])
    result = await send(simulator, tmp_path / "data", loyalty(endpoint), source, key="not-a-key-9999")
    assert result.stop is not None and result.stop.reason == "fatal" and result.stop.status == 401
    assert result.run.status == "failed" and "401" in result.run.message
    assert result.run.accepted == 0 and stored_custom(simulator, "member1@example.com") is None


@pytest.mark.parametrize(("endpoint", "key_of", "permission"), [
    ("bulk", "attributes_key", "Subscribers"),
    ("custom-attributes", "subscriptions_key", "Custom Attributes"),
])
async def test_a_missing_permission_stops_the_run_with_403(simulator, tmp_path, endpoint, key_of, permission):
    source = write_csv(tmp_path / "audience.csv", [valid_row(i) for i in range(600)])
    result = await send(simulator, tmp_path / "data", loyalty(endpoint), source, key=getattr(simulator, key_of))
    assert result.stop is not None and result.stop.status == 403
    assert result.run.status == "failed" and permission in result.run.message
    assert result.run.accepted == 0
    with HistoryStore(tmp_path / "data") as store:
        counts = store.outcome_counts(result.run.id)
    # Nothing was recorded as sent: the rows stay pending or unread, so a resume with a fixed key sends them.
    assert counts["accepted"] == counts["rejected"] == counts["failed"] == 0
