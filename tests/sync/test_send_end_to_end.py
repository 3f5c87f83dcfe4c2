"""A mixed audience through the whole pipeline against the simulator over loopback, for both
endpoints: exact counts and reasons, the diff on a second send, --full, retry, dry run, sample."""
from __future__ import annotations

import asyncio

import pytest
from sync_kit import loyalty, send, stored_custom, valid_row, write_jsonl

from tui.attentive.secret import ApiKey
from tui.sync import reasons
from tui.sync.control import SendControl
from tui.sync.engine import SendRequest, run_send
from tui.sync.history import HistoryStore
from tui.sync.progress import Progress
from tui.sync.rejections import RejectionFilter, RejectionLog
from tui.sync.verify import verify_run

VALID = 20


def mixed_rows() -> list[dict]:
    rows = [valid_row(i) for i in range(VALID)]
    rows += [
        {**valid_row(100), "email": "not-an-email"},                   # invalid_email
        {**valid_row(101), "email": "two..dots@example.com"},          # invalid_email
        {**valid_row(102), "phone": "555-01"},                         # invalid_phone (the phone attribute)
        {**valid_row(103), "email": ""},                               # missing_identifier
        {**valid_row(104), "email": "MEMBER3@example.com"},            # duplicate of row 5 (case-insensitive)
        {**valid_row(105), "tier": ["Gold", "Silver"]},                # non_scalar_value
        {**valid_row(106), "points": "lots"},                          # Points is a number: Attentive refuses
    ]
    return rows


EXPECTED_LOCAL = {
    reasons.INVALID_EMAIL: 2, reasons.INVALID_PHONE: 1, reasons.MISSING_IDENTIFIER: 1,
    reasons.DUPLICATE_IDENTIFIER: 1, reasons.NON_SCALAR_VALUE: 1,
}


async def establish_points_as_number(sim) -> None:
    reply = await sim.call("POST", "/v1/attributes/custom",
                           json={"user": {"email": "seed@example.com"}, "properties": {"Points": "1"}})
    assert reply.status == 200


@pytest.mark.parametrize("endpoint", ["bulk", "custom-attributes"])
async def test_mixed_audience_diff_full_and_retry(simulator, tmp_path, endpoint):
    await establish_points_as_number(simulator)
    data = tmp_path / "data"
    source = write_jsonl(tmp_path / "audience.jsonl", mixed_rows())
    destination = loyalty(endpoint)

    first = await send(simulator, data, destination, source)
    run = first.run
    assert (run.status, run.rows_read, run.accepted, run.rejected, run.invalid, run.skipped_unchanged) == (
        "finished", VALID + 7, VALID, 1, 6, 0)
    with HistoryStore(data) as store:
        log = RejectionLog(store.connection, run.id)
        facets = log.facets()
        assert facets.reasons == {**EXPECTED_LOCAL, reasons.ATTENTIVE_REJECTED: 1}
        [refused] = log.page(RejectionFilter(reason=reasons.ATTENTIVE_REJECTED))
        assert refused.status == 400 and refused.identifier == "member106@example.com"
        [duplicate] = log.page(RejectionFilter(reason=reasons.DUPLICATE_IDENTIFIER))
        assert duplicate.row == 25 and "row 4" in duplicate.message
        assert store.outcome_counts(run.id)["pending"] == 0
    assert stored_custom(simulator, "member7@example.com") == {
        "Loyalty Tier": "Silver", "Points": 107, "Phone Number": "+12125550007"}
    assert stored_custom(simulator, "member100@example.com") is None

    second = await send(simulator, data, destination, source)
    assert (second.run.accepted, second.run.skipped_unchanged, second.run.rejected, second.run.invalid) == (0, VALID, 1, 6)

    full = await send(simulator, data, destination, source, full=True)
    assert (full.run.accepted, full.run.skipped_unchanged) == (VALID, 0)

    fixed = mixed_rows()
    fixed[VALID] = {**fixed[VALID], "email": "fixed100@example.com"}
    fixed[VALID + 2] = {**fixed[VALID + 2], "phone": "+12125550102"}
    write_jsonl(source, fixed)
    retry = await send(simulator, data, destination, None, retry_of=run.id)
    assert retry.run.parent_run_id == run.id and retry.run.mode == "retry"
    # Only the 6 rejected rows that were not later duplicates: 2 fixed, 4 still refused.
    assert (retry.run.rows_read, retry.run.accepted, retry.run.rejected, retry.run.invalid) == (6, 2, 1, 3)
    assert stored_custom(simulator, "fixed100@example.com") is not None


async def test_dry_run_counts_without_sending(simulator, tmp_path):
    source = write_jsonl(tmp_path / "audience.jsonl", mixed_rows())
    result = await send(simulator, tmp_path / "data", loyalty(), source, dry_run=True)
    assert (result.run.mode, result.run.not_sent, result.run.invalid, result.run.accepted) == ("dry-run", VALID + 1, 6, 0)
    assert stored_custom(simulator, "member1@example.com") is None


@pytest.mark.parametrize("endpoint", ["bulk", "custom-attributes"])
async def test_sample_send_reads_back_and_stores_the_verification(simulator, tmp_path, endpoint):
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(500)])
    data = tmp_path / "data"
    result = await send(simulator, data, loyalty(endpoint), source, sample=25)
    assert (result.run.mode, result.run.rows_read, result.run.accepted) == ("sample", 25, 25)
    assert result.verification is not None and result.verification.passed
    assert (result.verification.checked, result.verification.matched) == (25, 25)
    with HistoryStore(data) as store:
        assert store.latest_verification(result.run.id).passed
        assert store.latest_test_send("loyalty-attributes").id == result.run.id


async def test_a_sample_never_sends_a_row_that_a_full_send_would_drop_as_a_duplicate(simulator, tmp_path):
    # 40 rows, a sample of 10 takes records 0, 4, 8, ...; record 8 repeats record 1's address with
    # other values, so a full send sends record 1 and drops record 8: the sample must too.
    rows = [valid_row(i) for i in range(40)]
    rows[8] = {**valid_row(8), "email": "MEMBER1@example.com", "tier": "Platinum"}
    source = write_jsonl(tmp_path / "audience.jsonl", rows)
    result = await send(simulator, tmp_path / "data", loyalty(), source, sample=10)
    assert (result.run.rows_read, result.run.accepted, result.run.invalid) == (10, 10, 0)
    assert result.verification is not None and result.verification.passed
    assert stored_custom(simulator, "member1@example.com") is None  # not sampled, and not replaced by record 8
    assert stored_custom(simulator, "member9@example.com") is not None  # record 9 stands in for record 8
    with HistoryStore(tmp_path / "data") as store:
        sent_rows = {row for (row,) in store.connection.execute(
            "SELECT row FROM row_outcomes WHERE run_id = ?", (result.run.id,))}
    assert 9 not in sent_rows and 10 in sent_rows  # records 8 and 9 are lines 9 and 10


async def test_verify_reports_attributes_that_differ_in_attentive(simulator, tmp_path):
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(40)])
    data = tmp_path / "data"
    result = await send(simulator, data, loyalty(), source, sample=10)
    assert result.verification.passed
    changed = "member0@example.com"  # record 0 is always in an evenly spread sample
    reply = await simulator.call("POST", "/v1/attributes/custom",
                                 json={"user": {"email": changed}, "properties": {"Loyalty Tier": "Platinum"}})
    assert reply.status == 200
    with HistoryStore(data) as store:
        again = await verify_run(store, result.run, loyalty(), simulator.url, ApiKey(simulator.full_key))
        assert store.latest_verification(result.run.id) == again
    assert not again.passed and (again.checked, again.matched, again.mismatched) == (10, 9, 1)
    [detail] = again.details
    assert (detail["attribute"], detail["sent"], detail["got"]) == ("Loyalty Tier", "Bronze", "Platinum")


async def test_pause_holds_the_send_and_resume_lets_it_finish(simulator, tmp_path):
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(300)])
    control = SendControl()
    control.pause()
    control.set_rate(50)
    paused = asyncio.Event()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.state == "paused":
            paused.set()

    request = SendRequest(environment="sandbox", destination=loyalty(), source=source, operator="tester",
                          data_dir=tmp_path / "data", base_url=simulator.url, api_key=ApiKey(simulator.full_key))
    task = asyncio.create_task(run_send(request, control=control, on_progress=on_progress))
    await paused.wait()
    assert (seen[-1].accepted, seen[-1].in_flight, seen[-1].rate_limit) == (0, 0, 50)
    control.resume()
    result = await task
    assert (result.run.status, result.run.submitted) == ("awaiting_results", 300)
    assert seen[-1].state == "awaiting_results" and seen[-1].done_rows == 300


async def test_read_back_is_exact_and_names_attentives_first_value_typing(simulator, tmp_path):
    # "Points" is fixed as a Number by its first value, so "0107" is held as 107: a mismatch that says why.
    await establish_points_as_number(simulator)
    rows = [{**valid_row(i), "points": f"0{100 + i}"} for i in range(30)]
    data = tmp_path / "data"
    result = await send(simulator, data, loyalty(), write_jsonl(tmp_path / "audience.jsonl", rows), sample=10,
                        verify_window_s=1)
    check = result.verification
    assert (check.verdict, check.matched, check.mismatched) == ("mismatched", 0, 10)
    detail = check.details[0]
    assert (detail["attribute"], detail["problem"], detail["sent"], detail["got"]) == (
        "Points", "typed_as_number", "0100", "100")
    assert "fixed by the first value" in detail["explanation"]
