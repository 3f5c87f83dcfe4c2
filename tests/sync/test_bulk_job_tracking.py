"""Bulk job tracking in a real send: a job already complete by its first status call is read once,
and the results download is one request per job (it is not the status endpoint)."""
from __future__ import annotations

from sync_kit import loyalty, send, valid_row, write_jsonl
from tui.attentive.endpoints import BULK_MAX_USERS


async def test_jobs_complete_by_the_first_poll_cost_one_status_call_each(simulator, tmp_path):
    # The simulator fixture completes bulk jobs at once, so every first poll finds the job done.
    jobs = 3
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(jobs * BULK_MAX_USERS)])
    result = await send(simulator, tmp_path / "data", loyalty("bulk"), source)
    run = result.run
    assert (run.status, run.accepted) == ("finished", jobs * BULK_MAX_USERS)
    # GET /v1/me, then per job exactly one POST, one status call and one results download.
    assert (run.requests, run.throttled) == (1 + jobs * 3, 0)
