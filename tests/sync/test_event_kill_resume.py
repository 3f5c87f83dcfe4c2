"""A send of events (or subscriptions) killed with SIGKILL mid-send and resumed: the simulator (its own
process) holds every event exactly once (every person posted once), except those the tool reports
unknown, which `rejections --reason event_unknown` lists and only `retry --include-unknown` sends."""
from __future__ import annotations

import os
import signal
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from config_kit import environment_toml, optins_toml, orders_toml, visits_toml, write_config_folder
from event_kit import order_rows, phone, visit, write_consents, write_orders, write_visits
from simulator_fixtures import FULL_KEY, simulator_process
from sync_kit import cli_until, handed_over

from tui.attentive.simulator.state import SimulatorState
from tui.settings.paths import history_path
from tui.sync import event_ledger
from tui.sync.event_sender import EVENT_WORKERS
from tui.sync.history_schema import UNKNOWN

EVENTS = 900


def _visits(folder: Path) -> tuple[Path, dict[int, object]]:
    """The file, and each row's event as the simulator names it (externalEventId)."""
    path = write_visits(folder / "visits.csv", [visit(i) for i in range(EVENTS)])
    return path, {i + 2: event_ledger.event_id("store-visits", (f"V{i:05d}",)) for i in range(EVENTS)}


def _orders(folder: Path) -> tuple[Path, dict[int, object]]:
    rows = [row for order in range(EVENTS) for row in order_rows(order, 2)]
    path = write_orders(folder / "receipts.csv", rows)
    return path, {i + 2: row["order_no"] for i, row in enumerate(rows)}   # purchases are named by orderId


def _consents(folder: Path) -> tuple[Path, dict[int, object]]:
    """80 people consenting (10 subscribes a second: 8 s), named by the simulator as (kind, value)."""
    path = write_consents(folder / "consents.csv", ["true"] * 80)
    return path, {i + 2: ("phone", phone(i)) for i in range(80)}


def _arrivals(state_file: Path, endpoint: str) -> dict[object, int]:
    state = SimulatorState.load(state_file)
    log = state.subscriptions if endpoint == "subscriptions" else state.events
    return dict(log.counts(endpoint))


@pytest.mark.parametrize(("destination", "toml", "endpoint", "make", "kill_at"), [
    ("store-visits", visits_toml(), "custom-events", _visits, 300),
    ("till-receipts", orders_toml(), "purchase-events", _orders, 300),
    ("sms-optins", optins_toml(), "subscriptions", _consents, 25),
], ids=["custom", "purchase", "subscription"])
def test_a_killed_event_send_resumes_and_every_event_arrives_once_except_the_unknown_listed(
        tmp_path, destination, toml, endpoint, make, kill_at):
    source, named = make(tmp_path)
    state_file = tmp_path / "simulator-state.json"
    data = tmp_path / "data"
    env = {**os.environ, "SYNC_TEST_KEY": FULL_KEY}
    with simulator_process("--state", str(state_file)) as sim:
        config = write_config_folder(tmp_path / "config", environment_toml(
            sim.url, admins=("tester",), credential="test", key="env:SYNC_TEST_KEY", destinations=[toml]))
        common = ["--config", str(config), "--data-dir", str(data)]
        killed = cli_until([*common, "send", destination, str(source)], env, kill_when=handed_over(data, kill_at))
        assert killed.code == -signal.SIGKILL
        resumed = cli_until([*common, "send", destination, "--resume", "1"], env)
        assert resumed.code in (0, 1), resumed.err
        listed = cli_until([*common, "rejections", "1", "--reason", "event_unknown"], env)
    with closing(sqlite3.connect(history_path(data))) as db:
        status, accepted, unknown = db.execute("SELECT status, accepted, unknown FROM runs WHERE id = 1").fetchone()
        unknown_rows = {row for (row,) in db.execute(
            "SELECT row FROM row_outcomes WHERE run_id = 1 AND outcome = ?", (UNKNOWN,))}
    assert status == "finished" and accepted + unknown == len(named)
    unknown_events = {named[row] for row in unknown_rows}
    assert len(unknown_events) <= EVENT_WORKERS          # at most what was in flight at the kill
    arrived = _arrivals(state_file, endpoint)
    for event in set(named.values()):
        assert arrived.get(event, 0) == 1 or (event in unknown_events and arrived.get(event, 0) == 0), event
    for row in unknown_rows:
        assert f"{row:,}" in listed.out or str(row) in listed.out
