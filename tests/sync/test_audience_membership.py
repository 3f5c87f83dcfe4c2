"""Audience membership (`audience = "NAME"`): every profile of the file gets NAME = true, confirmed
members absent from a later file get false, a shrink guard refuses a truncated export, and a killed
send resumes with the same leaves. Against the simulator, through the CLI where it can be."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import POLL_SCALE, cli_until, follow_jobs, loyalty, send, stored_custom, valid_row, write_config, write_csv

from tui.attentive.client import AttentiveClient
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.state import SimulatorState
from tui.core.send_preview import build_preview
from tui.settings.paths import history_path
from tui.sync.engine import SendRefused, SendRequest, run_send
from tui.sync.history import HistoryStore
from tui.sync.history_schema import SUBMITTED
from tui.sync.job_schedule import SCALE_VARIABLE
from tui.sync.membership_state import LEAVE_ROW_BASE, is_member, member_count
from tui.sync.rejections import retry_rows
from tui.sync.verify import verify_run

AUDIENCE = "Winter VIP 2026"
EXTRA = f'audience = "{AUDIENCE}"\n'


def members_file(tmp_path: Path, name: str, indexes: range | list[int]) -> Path:
    return write_csv(tmp_path / name, [valid_row(i) for i in indexes])


def email(i: int) -> str:
    return f"member{i}@example.com"


def membership(data: Path, destination: str = "loyalty-attributes") -> set[str]:
    with sqlite3.connect(history_path(data)) as db:
        return {identifier for (identifier,) in db.execute(
            "SELECT m.identifier FROM audience_members m JOIN diff_scopes s ON s.id = m.scope "
            "WHERE s.destination = ? AND m.audience = ?", (destination, AUDIENCE))}


# engine, in process ---------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["bulk", "custom-attributes"])
async def test_leavers_get_false_once_and_the_read_back_shows_it(simulator, tmp_path, endpoint):
    destination = loyalty(endpoint, audience=AUDIENCE)
    data = tmp_path / "data"
    first = await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(10)))
    assert (first.run.accepted, first.run.audience_left) == (10, 0)
    assert all(stored_custom(simulator, email(i))[AUDIENCE] is True for i in range(10))
    assert membership(data) == {email(i) for i in range(10)}

    smaller = [valid_row(i) for i in range(8)]
    smaller[3]["points"] = "999"  # a stay whose other attributes changed: sent again, still true
    second = await send(simulator, data, destination, write_csv(tmp_path / "b.csv", smaller))
    run = second.run
    assert (run.audience_left, run.skipped_unchanged, run.accepted, run.rows_read) == (2, 7, 1 + 2, 8 + 2)
    assert [stored_custom(simulator, email(i))[AUDIENCE] for i in range(10)] == [True] * 8 + [False, False]
    assert membership(data) == {email(i) for i in range(8)}
    with HistoryStore(data) as store:
        check = await verify_run(store, run, destination, simulator.url, ApiKey(simulator.full_key))
    assert check.verdict == "matched" and check.checked == 3  # the changed stay and both leaves
    assert {d.get("row") for d in check.details} <= {None}

    third = await send(simulator, data, destination, write_csv(tmp_path / "b.csv", smaller))
    assert (third.run.audience_left, third.run.skipped_unchanged, third.run.accepted) == (0, 8, 0)


async def test_a_member_who_returns_joins_again_and_an_invalid_row_is_not_a_leave(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE, types={"Points": "number"})
    data = tmp_path / "data"
    await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(4)))
    await send(simulator, data, destination, members_file(tmp_path, "b.csv", range(3)))
    assert stored_custom(simulator, email(3))[AUDIENCE] is False
    back = await send(simulator, data, destination, members_file(tmp_path, "c.csv", range(4)))
    assert (back.run.audience_left, back.run.accepted, back.run.skipped_unchanged) == (0, 1, 3)
    assert stored_custom(simulator, email(3))[AUDIENCE] is True
    assert membership(data) == {email(i) for i in range(4)}
    rows = [valid_row(i) for i in range(3)]
    rows[1]["points"] = "lots"  # member 1's row is rejected this time, but member 1 is in the export
    still = await send(simulator, data, destination, write_csv(tmp_path / "d.csv", rows))
    assert (still.run.audience_left, still.run.invalid) == (1, 1)
    assert stored_custom(simulator, email(1))[AUDIENCE] is True and stored_custom(simulator, email(3))[AUDIENCE] is False


async def test_a_new_membership_send_waits_for_the_last_ones_results(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE)
    data = tmp_path / "data"
    await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(6)), follow=False)
    request = SendRequest(environment="sandbox", destination=destination, source=members_file(tmp_path, "b.csv", range(5)),
                          operator="tester", data_dir=data, base_url=simulator.url, api_key=ApiKey(simulator.full_key))
    with pytest.raises(SendRefused, match=r"run 1 .*awaiting Attentive's results for 1 bulk job.*jobs --run 1 --wait"):
        await run_send(request)
    with HistoryStore(data, readonly=True) as store:
        assert [r.id for r in store.list_runs()] == [1]  # refused before a run existed


async def test_a_resume_refuses_leaves_that_are_out_of_date_or_were_never_recorded(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE)
    data = tmp_path / "data"
    await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(6)))
    await send(simulator, data, destination, members_file(tmp_path, "b.csv", range(5)))
    with HistoryStore(data) as store:
        store.set_status(1, "failed", "killed")
        store.set_status(2, "failed", "killed")
        store.connection.execute("DELETE FROM audience_runs WHERE run_id = 2")

    def resume(run_id: int) -> SendRequest:
        return SendRequest(environment="sandbox", destination=destination, source=None, operator="tester",
                           data_dir=data, base_url=simulator.url, api_key=ApiKey(simulator.full_key),
                           resume_run_id=run_id)
    with pytest.raises(SendRefused, match="run 2 stopped before its audience membership was recorded"):
        await run_send(resume(2))
    with HistoryStore(data) as store:
        store.connection.execute("INSERT INTO audience_runs (run_id, scope, audience, computed) VALUES (2, 1, ?, 1)",
                                 (AUDIENCE,))
    with pytest.raises(SendRefused, match="run 2 changed audience .* run 1's leaves are out of date"):
        await run_send(resume(1))


async def test_a_sample_sends_true_and_no_leaves_and_a_retry_leaves_leaves_out(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE)
    data = tmp_path / "data"
    await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(30)))
    sample = await send(simulator, data, destination, members_file(tmp_path, "b.csv", range(10, 22)), sample=10)
    assert sample.run.audience_left == 0 and sample.verification is not None
    assert sample.verification.verdict == "matched"
    assert all(stored_custom(simulator, email(i))[AUDIENCE] is True for i in range(30))
    with HistoryStore(data) as store:
        store.connection.execute("INSERT INTO rejections (run_id, row, reason) VALUES (1, ?, 'send_failed')",
                                 (LEAVE_ROW_BASE,))
        assert retry_rows(store.connection, 1) == set()  # a failed leave is the next send's to send again


async def test_confirmations_move_membership_only_when_attentive_accepts(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE)
    data = tmp_path / "data"
    sent = await send(simulator, data, destination, members_file(tmp_path, "a.csv", range(5)), follow=False)
    with HistoryStore(data) as store:
        scope = store.diff_scope(destination.name, "sandbox")
        assert member_count(store.connection, scope, AUDIENCE) == 0  # submitted is not confirmed
    await follow_jobs(simulator, data, destination, run_ids=[sent.run.id])
    with HistoryStore(data) as store:
        assert member_count(store.connection, scope, AUDIENCE) == 5
        assert is_member(store.connection, scope, AUDIENCE, email(4))


async def test_the_preview_counts_joins_stays_and_leaves(simulator, tmp_path):
    destination = loyalty(audience=AUDIENCE)
    data = tmp_path / "data"
    fresh = build_preview(destination, members_file(tmp_path, "a.csv", range(10)), data_dir=data, environment="sandbox")
    assert fresh.audience is not None and (fresh.audience.members, fresh.audience.joins) == (0, 10)
    assert AUDIENCE in fresh.attribute_names and fresh.rows[0].attributes[AUDIENCE] == "True"
    await send(simulator, data, destination, tmp_path / "a.csv")
    preview = build_preview(destination, members_file(tmp_path, "b.csv", range(6, 13)), data_dir=data,
                            environment="sandbox")
    counts = preview.audience
    assert counts is not None
    assert (counts.members, counts.joins, counts.stays, counts.leaves) == (10, 3, 4, 6)
    assert counts.refusal is not None and "6 of the 10 members" in counts.refusal and "60%" in counts.refusal
    assert build_preview(destination, tmp_path / "b.csv").audience is None  # no history given


# CLI ----------------------------------------------------------------------------------------------------

def test_the_guard_refuses_a_truncated_export_and_allow_shrink_sends_it(cli_for, thread_simulator, tmp_path):
    cli = cli_for(thread_simulator.url, extra=EXTRA)
    code, out, err = cli("send", "loyalty-attributes", str(members_file(tmp_path, "a.csv", range(10))), "--wait", "--json")
    assert code == 0, err
    assert json.loads(out)["audience"]["joins"] == 10 and json.loads(out)["left"] == 0

    truncated = str(members_file(tmp_path, "b.csv", range(4)))
    code, out, err = cli("send", "loyalty-attributes", truncated)
    assert code == 2
    assert "6 of the 10 members" in err and "60%" in err and "50%" in err and "--allow-shrink" in err
    with HistoryStore(cli.data, readonly=True) as store:
        assert len(store.list_runs()) == 1  # nothing sent, no run
    assert stored_custom_text(thread_simulator, email(9)) == "true"

    code, out, err = cli("send", "loyalty-attributes", truncated, "--dry-run")
    assert code == 0, err
    assert "6 would leave" in out and "4 would stay" in out and "a send would be refused" in out

    code, out, err = cli("send", "loyalty-attributes", truncated, "--allow-shrink", "--wait", "--json")
    summary = json.loads(out)
    assert code == 0, err
    assert (summary["left"], summary["audience"]["leaves"], summary["audience"]["stays"]) == (6, 6, 4)
    assert [stored_custom_text(thread_simulator, email(i)) for i in range(10)] == ["true"] * 4 + ["false"] * 6
    code, out, _ = cli("send", "loyalty-attributes", truncated)
    assert code == 0 and "left (false)" not in out and "0 leave" in out


def test_the_dry_run_counts_joins_stays_and_leaves(cli_for, thread_simulator, tmp_path):
    cli = cli_for(thread_simulator.url, extra=EXTRA)
    assert cli("send", "loyalty-attributes", str(members_file(tmp_path, "a.csv", range(10))), "--wait").code == 0
    code, out, err = cli("send", "loyalty-attributes", str(members_file(tmp_path, "b.csv", range(2, 14))), "--dry-run",
                         "--json")
    assert code == 0, err
    audience = json.loads(out)["audience"]
    assert {k: audience[k] for k in ("members", "joins", "stays", "leaves", "refusal")} == {
        "members": 10, "joins": 4, "stays": 8, "leaves": 2, "refusal": None}
    code, out, _ = cli("send", "loyalty-attributes", str(tmp_path / "b.csv"), "--dry-run")
    assert "10 members before; 4 would join, 8 would stay, 2 would leave (20% of the members" in out
    assert membership(cli.data) == {email(i) for i in range(10)}  # a dry run changes nobody


def stored_custom_text(running, address: str) -> object:
    """The audience attribute as GET /v1/attributes/custom reads it back (text), or None."""
    async def read() -> object:
        async with AttentiveClient(running.url, ApiKey(FULL_KEY)) as client:
            outcome = await client.get_custom_attributes(email=address)
        return (outcome.data or {}).get(AUDIENCE) if outcome.ok else None
    return asyncio.run(read())


# a real process killed with SIGKILL --------------------------------------------------------------------

def leaves_submitted(data: Path, run_id: int = 2) -> int:
    """Leave rows of a run Attentive took in a bulk job, as last flushed (0 before the tables exist)."""
    path = history_path(data)
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM row_outcomes WHERE run_id = ? AND row >= ? AND outcome = ?",
                              (run_id, LEAVE_ROW_BASE, SUBMITTED)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_killed_membership_send_resumes_with_the_same_leaves_sent_once(tmp_path):
    members, stays = 6000, 4000
    state_file = tmp_path / "simulator-state.json"
    with simulator_process("--state", str(state_file), job_delay="0.05") as sim:
        config = write_config(tmp_path / "config", sim.url, extra=EXTRA)
        data = tmp_path / "data"
        env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY, SCALE_VARIABLE: POLL_SCALE}
        common = ["--config", str(config), "--data-dir", str(data), "send", "loyalty-attributes"]
        assert cli_until([*common, str(members_file(tmp_path, "a.csv", range(members))), "--wait"], env).code == 0
        smaller = [valid_row(i) for i in range(stays)]
        for row in smaller:
            row["points"] = "7"  # every stay is sent again too: the leaves follow 16 batches of them
        source = write_csv(tmp_path / "b.csv", smaller)
        # At 5 batches a second the kill lands among the leaves: some submitted, the rest not yet.
        assert cli_until([*common, str(source), "--rate", "5"], env,
                         kill_when=lambda: leaves_submitted(data) > 0).code == -signal.SIGKILL
        with sqlite3.connect(history_path(data)) as db:
            stored = db.execute("SELECT row, identifier FROM audience_leaves WHERE run_id = 2 ORDER BY row").fetchall()
        assert len(stored) == members - stays and stored[0][0] == LEAVE_ROW_BASE
        assert 0 < leaves_submitted(data) < members - stays
        assert cli_until([*common, "--resume", "2", "--wait"], env).code == 0
    with sqlite3.connect(history_path(data)) as db:
        after = db.execute("SELECT row, identifier FROM audience_leaves WHERE run_id = 2 ORDER BY row").fetchall()
        posted = dict(db.execute(
            "SELECT r.identifier, count(*) FROM job_rows r JOIN bulk_jobs j ON j.id = r.job "
            "WHERE j.run_id = 2 AND r.row >= ? GROUP BY r.identifier", (LEAVE_ROW_BASE,)).fetchall())
        status, left, accepted = db.execute("SELECT status, audience_left, accepted FROM runs WHERE id = 2").fetchone()
        outcomes = db.execute("SELECT count(*) FROM row_outcomes WHERE run_id = 2 AND row >= ?",
                              (LEAVE_ROW_BASE,)).fetchone()[0]
    assert after == stored
    assert set(posted) == {identifier for _, identifier in stored} and set(posted.values()) == {1}
    assert (status, left, outcomes) == ("finished", members - stays, members - stays)
    assert accepted == stays + members - stays
    [company] = SimulatorState.load(state_file).companies.values()
    assert all(company.find("email", email(i)).custom[AUDIENCE] is (i < stays) for i in range(members))
