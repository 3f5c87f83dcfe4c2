"""A segment destination in the console: the preview names the segment and counts who would join
and leave, S sends the members (their jobs submitted), and the destination form keeps the kind's
endpoint and its [segment] table. Over the real core, the simulator on loopback and real TOML and
CSV files in tmp_path."""
from __future__ import annotations

import tomllib
from pathlib import Path

from config_kit import destination_toml, environment_toml, segment_toml
from console_kit import edit_second_destination, save_with_description, settle, wait_until
from core_kit import Seen, core_app, screen_text
from simulator_fixtures import FULL_KEY, TEST_KEYS
from textual.widgets import Input, Select, Static

from tui.app.messages import RunRecorded
from tui.app.screens.yes_no import YesNoScreen
from tui.sync.history import HistoryStore
from tui.sync.segment_target import derived_external_id

EXTERNAL_ID = derived_external_id("winter-vip-segment")


def segment_config(app, url: str) -> None:
    text = environment_toml(url, description="Test company",
                            destinations=[destination_toml(), segment_toml("attentive")])
    (app.session.config_dir / "sandbox.toml").write_text(text)


def people(path: Path) -> Path:
    path.write_text("email\n" + "".join(f"member{i}@example.com\n" for i in range(10)) + "not-an-email\n")
    return path


async def test_the_preview_names_the_segment_and_s_sends_its_members(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    segment_config(app, simulator.url)
    seen = Seen()
    async with app.run_test(size=(80, 24), message_hook=seen) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        app.query_one("#send-destination", Select).value = "winter-vip-segment"
        app.query_one("#send-source", Input).value = str(people(tmp_path / "people.csv"))
        app.query_one("#send-source", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        summary = str(app.query_one("#preview-summary", Static).render())
        assert (f"segment 'Winter VIP' (externalId {EXTERNAL_ID}): 0 members; 10 join, 0 stay, 0 leave"
                in summary), summary
        assert "1 invalid" in summary
        await pilot.press("S")
        assert isinstance(app.screen, YesNoScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(seen.of(RunRecorded)) == 1)
        await settle(pilot)
        # Unscaled, the job's first check is a minute away: the next preview says why a send would wait.
        app.query_one("#send-source", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        again = str(app.query_one("#preview-summary", Static).render())
        assert "a send would be refused until run 1's bulk jobs finish at Attentive (4 History follows them)" in again
        assert "is still awaiting" not in again  # the long form is the CLI's and S's
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        run = store.list_runs()[0]
    assert (run.invalid, run.endpoint) == (1, "segment-members-add")
    assert run.submitted + run.accepted == 10
    company = TEST_KEYS[FULL_KEY].resolved_company_id
    assert simulator.sim.state.segments.get(company, EXTERNAL_ID).name == "Winter VIP"


async def test_editing_a_segment_destination_keeps_its_endpoint_and_segment_table(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    segment_config(app, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        endpoint = await edit_second_destination(pilot, "winter-vip-segment")
        assert endpoint.value == "segment-members-add" and endpoint.disabled
        assert "segment-members-add (a segment destination)" in screen_text(app)
        await save_with_description(pilot, "Winter VIPs")
    saved = tomllib.loads((app.session.config_dir / "sandbox.toml").read_text())["destinations"]["winter-vip-segment"]
    assert (saved["description"], saved["kind"], saved["segment"]) == ("Winter VIPs", "segment", {"name": "Winter VIP"})
    assert "endpoint" not in saved
