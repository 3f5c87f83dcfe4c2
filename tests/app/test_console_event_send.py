"""Send over a custom-event destination: the preview shows each event's type, time and properties, the
invalid row's reason and how many events are over 12 hours old; S sends them once, and a second send of
the same file sends nothing again ("already sent"). Over the real core, the simulator on loopback and
real TOML and CSV files in tmp_path."""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from config_kit import destination_toml, environment_toml, optins_toml, visits_toml
from console_kit import edit_second_destination, save_with_description, settle, wait_until
from core_kit import Seen, core_app, screen_text
from textual.widgets import DataTable, Input, Select, Static

from tui.app.messages import RunRecorded
from tui.app.screens.yes_no import YesNoScreen
from tui.sync.history import HistoryStore, RunRecord


def stamp(hours_ago: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_visits(path: Path) -> Path:
    """12 visits: row 4 (the third) an invalid email, rows 6 and 9 30 hours old, the rest an hour old."""
    lines = ["email,visit_id,store,visited_at,kind"]
    for index in range(12):
        email = "not-an-email" if index == 2 else f"visitor{index}@example.com"
        hours = 30 if index in (4, 7) else 1
        lines.append(f"{email},V{index:05d},Store {index % 3},{stamp(hours)},In-store visit")
    path.write_text("\n".join(lines) + "\n")
    return path


def event_config(app, url: str) -> None:
    """loyalty-attributes first in the file, so choosing store-visits is a step of its own."""
    loyalty = destination_toml(description="Loyalty tier and points")
    text = environment_toml(url, restricted=("bob",), description="Test company", destinations=[loyalty, visits_toml("attentive")])
    (app.session.config_dir / "sandbox.toml").write_text(text)


async def choose(pilot, destination: str, source: str) -> None:
    """Send (3), the destination picked and the file typed, then enter: the preview."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    app.query_one("#send-destination", Select).value = destination
    app.query_one("#send-source", Input).value = source
    app.query_one("#send-source", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def last_run(app) -> RunRecord:
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        return store.list_runs()[0]


def notes(app) -> list[str]:
    return [str(note.message) for note in app._notifications]


async def send_all(pilot, seen: Seen, runs: int) -> None:
    """S, the sandbox's question answered yes, then the run to its record."""
    app = pilot.app
    await pilot.press("S")
    assert isinstance(app.screen, YesNoScreen)
    assert app.screen.title_text == "Send the whole file to store-visits?"
    assert "Destination: store-visits" in app.screen.explanation
    await pilot.press("y")
    await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == runs)
    await settle(pilot)


async def test_custom_events_preview_send_once_and_a_second_send_sends_nothing_again(tmp_path, simulator):
    source = write_visits(tmp_path / "visits.csv")
    app = core_app(tmp_path, simulator.url)
    event_config(app, simulator.url)
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await choose(pilot, "store-visits", str(source))
        table = app.query_one("#preview-table", DataTable)
        assert [str(column.label) for column in table.columns.values()] == [
            "Row", "email", "type", "occurredAt", "Store", "Problem"]
        assert table.row_count == 12
        rows = [table.get_row_at(index) for index in range(table.row_count)]
        [invalid] = [row for row in rows if str(row[-1])]
        assert invalid[0] == "4" and invalid[1] == "-"   # no valid identifier: the message quotes what was found
        assert invalid[-1].startswith("invalid_email: ") and "'not-an-email'" in invalid[-1]
        row, email, kind, occurred_at, store, problem = rows[0]
        assert (row, email, kind, store, problem) == ("2", "visitor0@example.com", "In-store visit", "Store 0", "")
        assert occurred_at.endswith("Z")
        summary = text_of(app, "#preview-summary")
        assert "First 12 of ~12 rows (csv) as sent to store-visits: 1 invalid" in summary
        assert "2 of the first 11 events are over 12 hours old" in summary

        await send_all(pilot, seen, 1)
        first = last_run(app)
        status = text_of(app, "#send-status")
        assert first.status == "finished", first.message
        assert (first.rows_read, first.accepted, first.invalid, first.stale_events) == (12, 11, 1, 2)
        assert f"Run #{first.id} finished: accepted 11, rejected 0, invalid 1, already sent 0" in status
        assert "unchanged" not in status   # an event run has nothing unchanged: what it skips was sent before
        assert any("accepted 11" in note for note in notes(app))
        assert "over 12 h old 2" in text_of(app, "#run-counts")
        assert len(simulator.sim.state.events.of("custom-events")) == 11

        await send_all(pilot, seen, 2)
        again = last_run(app)
        status = text_of(app, "#send-status")
        assert again.id != first.id and again.status == "finished", again.message
        assert (again.accepted, again.skipped_already_sent, again.invalid) == (0, 11, 1)
        assert f"Run #{again.id} finished: accepted 0" in status and ", already sent 11" in status
        assert any(", already sent 11" in note for note in notes(app))
        assert "already sent 11" in text_of(app, "#run-counts")
        assert "already sent 11" in screen_text(app)   # on screen at 80x24, not cut off
        assert len(simulator.sim.state.events.of("custom-events")) == 11


async def test_editing_an_event_destination_in_the_form_keeps_its_kind_and_event_table(tmp_path, simulator):
    """The form edits what it has fields for; the endpoint follows from the kind and cannot be switched
    to an attribute endpoint, and the [event] table the form has no fields for is written back as it was."""
    app = core_app(tmp_path, simulator.url)
    event_config(app, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        endpoint = await edit_second_destination(pilot, "store-visits")
        assert endpoint.value == "custom-events" and endpoint.disabled
        assert "Event properties" in screen_text(app)
        await save_with_description(pilot, "Visits from the tills")
    saved = tomllib.loads((app.session.config_dir / "sandbox.toml").read_text())["destinations"]["store-visits"]
    assert saved["description"] == "Visits from the tills" and saved["kind"] == "custom-event"
    assert "endpoint" not in saved
    assert saved["event"] == {"type_column": "kind", "occurred_at": "visited_at", "event_key": ["visit_id"]}
    assert saved["attributes"] == {"Store": "store"}


async def test_a_subscriptions_destination_previews_its_actions_and_the_question_says_how_long(tmp_path, simulator):
    """The preview shows what each row would do; S's question says how long Attentive's limits make
    the send; the send subscribes the true rows once, and the console says what it skipped."""
    app = core_app(tmp_path, simulator.url)
    loyalty = destination_toml(description="Loyalty tier and points")
    (app.session.config_dir / "sandbox.toml").write_text(environment_toml(
        simulator.url, description="Test company", destinations=[loyalty, optins_toml("attentive")]))
    source = tmp_path / "consents.csv"
    source.write_text("phone,sms_opt_in\n+12125550100,yes\n+12125550101,\n+12125550102,maybe\n+12125550103,true\n")
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await choose(pilot, "sms-optins", str(source))
        table = app.query_one("#preview-table", DataTable)
        assert [str(column.label) for column in table.columns.values()] == ["Row", "phone", "action", "channel", "Problem"]
        rows = [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]
        assert rows[0][:4] == ["2", "+12125550100", "subscribe", "TEXT"]
        assert rows[1][2] == "(none: consent empty)"
        assert rows[2][-1].startswith("consent_invalid: ")
        await pilot.press("S")
        assert isinstance(app.screen, YesNoScreen)
        assert "Time: at Attentive's 10 subscribes a second" in app.screen.explanation
        await pilot.press("y")
        await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == 1)
        await settle(pilot)
        run = last_run(app)
        assert (run.accepted, run.skipped_unchanged, run.invalid) == (2, 1, 1)
        assert "already sent 0" in text_of(app, "#send-status")
    assert dict(simulator.sim.state.subscriptions.counts("subscriptions")) == {
        ("phone", "+12125550100"): 1, ("phone", "+12125550103"): 1}
