"""The console's destination form against a real CLI process editing the same file while the form is
open: a change to another field survives the console's save, a change to the same field is refused
with the CLI's value shown, and a destination the CLI removed is not brought back. The ledger holds
each side's entry with exactly the fields it changed."""
from __future__ import annotations

import asyncio
import sys

from console_kit import settle
from core_kit import core_app
from textual.widgets import Input

from tui.app.app import ConsoleApp
from tui.app.forms.destination_form import DestinationForm
from tui.app.screens.message import MessageScreen
from tui.settings.ledger import Ledger
from tui.settings.loader import load_environment
from tui.settings.paths import history_path

CLI = "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:], operator='carol'))"
NAME = "loyalty-attributes"


async def cli(app: ConsoleApp, *argv: str) -> str:
    """Another operator's command, in a process of its own; awaited, so the simulator (on this
    event loop) answers its connection test."""
    session = app.session
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, "--config", str(session.config_dir), "--data-dir", str(session.data_dir),
        "--secrets", str(session.secrets_file), *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def edit_form(pilot) -> DestinationForm:
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, DestinationForm) and form.before is not None and form.before.name == NAME
    return form


async def save(pilot, form: DestinationForm, field: str, value: str) -> None:
    form.query_one(f"#dest-{field}", Input).value = value
    await settle(pilot)  # validated as typed
    await pilot.press("ctrl+s")
    await settle(pilot)


def destination(app: ConsoleApp):
    return load_environment(app.session.config_dir, "sandbox").destinations.get(NAME)


def edits(app: ConsoleApp) -> list[tuple[str, list[str]]]:
    return [(entry.operator, entry.details["changed"])
            for entry in Ledger(history_path(app.session.data_dir)).entries(action="destination.edited")]


async def test_a_cli_edit_of_another_field_survives_the_consoles_save(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await edit_form(pilot)
        assert "saved destination" in await cli(app, "destinations", "edit", NAME, "--rate-limit", "10")
        await save(pilot, form, "description", "Loyalty tiers, from the console")
        assert not isinstance(app.screen, (DestinationForm, MessageScreen))
    saved = destination(app)
    assert (saved.rate_limit, saved.description) == (10.0, "Loyalty tiers, from the console")
    assert saved.attributes == {"Loyalty Tier": "tier", "Points": "points"}
    assert edits(app) == [("carol", ["rate_limit"]), ("alice", ["description"])]


async def test_the_same_field_changed_by_the_cli_is_refused_with_its_value_shown(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await edit_form(pilot)
        await cli(app, "destinations", "edit", NAME, "--rate-limit", "10")
        await save(pilot, form, "rate", "30")
        assert isinstance(app.screen, MessageScreen)
        assert "was changed on disk after your edit started" in app.screen.detail
        assert "rate_limit: on disk 10.0, yours 30.0" in app.screen.detail
        await pilot.press("escape", "escape")  # the message, then the form
        await settle(pilot)
        reopened = await edit_form(pilot)  # the console reloaded the file: the form starts from it
        assert reopened.query_one("#dest-rate", Input).value == "10"
    assert destination(app).rate_limit == 10.0
    assert edits(app) == [("carol", ["rate_limit"])]


async def test_a_destination_the_cli_removed_is_not_brought_back(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await edit_form(pilot)
        await cli(app, "destinations", "remove", NAME)
        await save(pilot, form, "description", "edited after it was removed")
        assert isinstance(app.screen, MessageScreen)
        assert f"destination {NAME!r} was removed from" in app.screen.detail
        assert "it is not added back" in app.screen.detail
    assert destination(app) is None
    entries = Ledger(history_path(app.session.data_dir)).entries()
    assert [entry.action for entry in entries if entry.action.startswith("destination.")] == ["destination.removed"]
