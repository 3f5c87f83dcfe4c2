"""Against the simulator playing Attentive's timing (jobs that take minutes, PENDING -> IN_PROGRESS ->
COMPLETED): the send ends long before its jobs do, posting each profile once; following folds every
result and the counts are exact; a read-back then matches. The minutes pass on a virtual clock
shared by the simulator's jobs and the follower."""
from __future__ import annotations

import time

from sync_kit import follow_jobs, loyalty, send, stored_custom, valid_row, write_jsonl
from virtual_clock import VirtualClock

from tui.attentive.secret import ApiKey
from tui.sync.history import HistoryStore
from tui.sync.job_store import JobStore
from tui.sync.verify import verify_run

ROWS, BAD = 20_000, 40


async def test_a_20000_row_send_submits_once_and_following_folds_exact_counts(start_simulator, tmp_path):
    clock = VirtualClock(wall_start=time.time())
    sim = await start_simulator(bulk_job_delay_s=120, bulk_job_delay_max_s=600, clock=clock.monotonic, seed=5)
    rows = [valid_row(i) for i in range(ROWS)]
    for i in range(BAD):  # Attentive refuses these per record, in the results: Points is not a number
        rows[i * 500] = {**rows[i * 500], "points": "lots"}
    await sim.call("POST", "/v1/attributes/custom", json={"user": {"email": "seed@example.com"},
                                                          "properties": {"Points": "1"}})
    source = write_jsonl(tmp_path / "audience.jsonl", rows)
    data = tmp_path / "data"

    sent = await send(sim, data, loyalty(), source, follow=False)
    run = sent.run
    batches = -(-ROWS // 256)
    assert (run.status, run.submitted, run.accepted, run.rejected) == ("awaiting_results", ROWS, 0, 0)
    assert run.requests == 1 + batches  # GET /v1/me, then one POST per batch: nothing posted twice
    assert stored_custom(sim, "member1@example.com") is None  # accepted for processing: nothing applied before it runs

    followed = await follow_jobs(sim, data, loyalty(), clock=clock)
    assert not followed.timed_out and followed.progress.jobs == {"completed": batches}
    with HistoryStore(data) as store:
        run = store.get_run(run.id)
        counts = store.outcome_counts(run.id)
        assert (counts["accepted"], counts["rejected"], counts["submitted"], counts["pending"]) == (
            ROWS - BAD, BAD, 0, 0)
        statuses = {job.status for job in JobStore(store.connection).jobs(run_ids=[run.id])}
        check = await verify_run(store, run, loyalty(), sim.url, ApiKey(sim.full_key))
    assert (run.status, run.accepted, run.rejected, run.submitted, run.unconfirmed) == (
        "finished", ROWS - BAD, BAD, 0, 0)
    assert statuses == {"COMPLETED"} and clock.now - 1000.0 >= 120  # minutes of (virtual) job time passed
    assert check.verdict == "matched" and check.checked == 100
    assert stored_custom(sim, f"member{ROWS - 1}@example.com")["Points"] == 100 + ROWS - 1
