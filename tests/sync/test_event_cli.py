"""The CLI on an event destination, as an operator meets unknown events: a 5xx storm stops the send
with the events it left open listed; the resume sends the rest and none of those again; the dry run
counts what was sent and what is stale; a plain retry refuses; --include-unknown sends them."""
from __future__ import annotations

import json

from config_kit import environment_toml, visits_toml, write_config_folder
from event_kit import visit, write_visits
from simulator_fixtures import FULL_KEY, simulator_thread

from tui.attentive.simulator.faults import parse_fault_spec
from tui.attentive.simulator.state import SimulatorState
from tui.sync import event_ledger


def test_unknown_events_are_listed_held_back_and_sent_only_on_the_operators_word(tmp_path, cli_on, monkeypatch):
    monkeypatch.setenv("SYNC_TEST_KEY", FULL_KEY)
    rows = [visit(i) for i in range(30)]
    rows[0]["visited_at"] = visit(0, hours_ago=20)["visited_at"]
    source = write_visits(tmp_path / "visits.csv", rows)
    ids = [event_ledger.event_id("store-visits", (f"V{i:05d}",)) for i in range(30)]
    state = tmp_path / "simulator.json"

    def configure(url: str):
        folder = write_config_folder(tmp_path / "config", environment_toml(
            url, admins=("tester",), credential="test", key="env:SYNC_TEST_KEY", destinations=[visits_toml()]))
        return cli_on(folder, operator="tester")

    # Every event is recorded and then answered 500: the first answers stop the run (3 in a row). Run 1 is
    # the dry run, run 2 the send.
    with simulator_thread(faults=parse_fault_spec("500after=1"), state_file=state) as storm:
        cli = configure(storm.url)
        dry = cli("send", "store-visits", str(source), "--dry-run")
        assert dry.code == 0 and "1 events over 12 hours old" in dry.out and "would send 30" in dry.out
        stopped = cli("send", "store-visits", str(source))
        assert stopped.code == 3
        assert "unknown" in stopped.out
        listed = cli("rejections", "2", "--reason", "event_unknown", "--json")
    assert "--include-unknown" in stopped.out
    entries = json.loads(listed.out)["rejections"]
    unknown_rows = {entry["row"] for entry in entries}
    assert 3 <= len(unknown_rows) < 30
    assert all("retry 2 --include-unknown" in entry["message"] for entry in entries)

    with simulator_thread(state_file=state) as calm:
        cli = configure(calm.url)
        resumed = cli("send", "store-visits", "--resume", "2", "--json")
        summary = json.loads(resumed.out)
        assert (summary["status"], summary["unknown"], summary["accepted"]) == ("finished", len(unknown_rows),
                                                                                30 - len(unknown_rows))

        dry = cli("send", "store-visits", str(source), "--dry-run", "--json")
        planned = json.loads(dry.out)
        assert (planned["skipped_already_sent"], planned["unknown"], planned["not_sent"]) == (
            30 - len(unknown_rows), len(unknown_rows), 0)

        refused = cli("retry", "2")
        assert refused.code == 2 and "only with --include-unknown" in refused.err

        retried = cli("retry", "2", "--include-unknown", "--json")
        assert json.loads(retried.out)["accepted"] == len(unknown_rows)
    # 500after recorded each unknown event once; neither the resume nor the dry run sent one again, and the
    # retry the operator asked for sent each a second time. Every other event arrived once.
    arrived = SimulatorState.load(state).events.counts("custom-events")
    assert {event: arrived[event] for event in ids} == {
        event: 2 if row in unknown_rows else 1 for event, row in zip(ids, range(2, 32))}
