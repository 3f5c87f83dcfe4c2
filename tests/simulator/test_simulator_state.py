"""Profiles survive a restart through the --state file (snapshot + journal)."""
from __future__ import annotations

import json
import stat
import urllib.request

import pytest
from simulator_fixtures import FULL_KEY, simulator_process

from tui.attentive.simulator.rules import AttributeType
from tui.attentive.simulator.state import ProfileChange, SimulatorState, StateFileError


async def test_profiles_and_types_survive_a_restart(start_simulator, tmp_path):
    state_file = tmp_path / "state.json"
    first = await start_simulator(state_file=state_file)
    await first.call("POST", "/v1/attributes/custom",
                     json={"user": {"email": "ada@example.com"}, "properties": {"age": "24"}})
    await first.call("POST", "/v2/bulk/user/attributes",
                     json={"users": [{"identifiers": {"phone": "+14155550100"}, "attributes": {"custom": {"tier": "gold"}}}]})
    await first.stop()
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600  # it holds identifiers

    second = await start_simulator(state_file=state_file)
    by_email = await second.call("GET", "/v1/attributes/custom", params={"email": "ada@example.com"})
    by_phone = await second.call("GET", "/v1/attributes/custom", params={"phone": "+14155550100"})
    assert [(i["name"], i["value"]) for i in by_email.json()] == [("age", "24")]
    assert [(i["name"], i["value"]) for i in by_phone.json()] == [("tier", "gold")]
    changed_type = await second.call("POST", "/v1/attributes/custom",
                                     json={"user": {"email": "bob@example.com"}, "properties": {"age": "old"}})
    assert changed_type.status == 400


def test_journal_replays_what_a_crash_left_unsaved(tmp_path):
    path = tmp_path / "state.json"
    state = SimulatorState.load(path)
    state.apply("c1", [ProfileChange({"email": "ada@example.com"}, custom={"age": 24},
                                     new_types={"age": AttributeType.NUMBER})])
    state.write_journal(state.take_pending())
    with state.journal_path.open("a") as journal:
        journal.write('["c1", [[{"email": "torn')  # a write cut short by the crash
    # no save(): the process died here
    reloaded = SimulatorState.load(path)
    profile = reloaded.company("c1").find("email", "ada@example.com")
    assert profile is not None and profile.custom == {"age": 24}
    assert reloaded.company("c1").types == {"age": AttributeType.NUMBER}
    assert not reloaded.journal_path.exists()  # compacted into the snapshot on load


@pytest.mark.parametrize("content", ["{not json", "[]", json.dumps({"version": 99, "companies": {}})])
def test_unreadable_state_file_is_refused_with_its_name(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(StateFileError) as caught:
        SimulatorState.load(path)
    assert str(path) in str(caught.value)
    assert "move the file away" in str(caught.value)
    assert path.read_text() == content  # never overwritten


def test_state_that_cannot_be_saved_is_reported_with_its_name(tmp_path):
    (tmp_path / "blocker").write_text("a file where the state's folder should be")
    state = SimulatorState(tmp_path / "blocker" / "state.json")
    with pytest.raises(StateFileError) as caught:
        state.save()
    assert "blocker/state.json: cannot save the simulator state" in str(caught.value)


def _http(url, key, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_standalone_process_saves_on_sigterm_and_reloads(tmp_path):
    state_file = tmp_path / "sim" / "state.json"
    with simulator_process("--state", str(state_file)) as first:
        status, _ = _http(first.url + "/v1/attributes/custom", FULL_KEY, "POST",
                          {"user": {"email": "ada@example.com"}, "properties": {"color": "green"}})
        assert status == 200
    assert first.process.returncode == 0
    with simulator_process("--state", str(state_file)) as second:
        status, body = _http(second.url + "/v1/attributes/custom?email=ada@example.com", FULL_KEY)
    assert (status, json.loads(body)[0]["value"]) == (200, "green")
