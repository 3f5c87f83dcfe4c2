"""Destination and credential forms over the real settings layer and the simulator: validation as
typed, saving tests the credential first, keys never shown, removal refused while in use; the
error guard; read-only."""
from __future__ import annotations

import tomllib

from console_kit import make_app, settle
from core_kit import core_app, screen_text
from simulator_fixtures import FULL_KEY
from textual.widgets import DataTable, Static, TextArea

from tui.app.forms.credential_form import CredentialForm
from tui.app.forms.destination_form import DestinationForm
from tui.app.screens.message import MessageScreen
from tui.app.sections.destinations import DestinationsSection
from tui.app.sections.history import HistorySection
from tui.settings.ledger import Ledger
from tui.settings.paths import history_path
from tui.settings.secrets import SecretsFile


def problems(app) -> str:
    return str(app.screen.query_one("#destination-problems", Static).render())


async def new_destination_form(pilot, name: str = "vip-tiers") -> DestinationForm:
    await settle(pilot)
    await pilot.press("a")
    form = pilot.app.screen
    assert isinstance(form, DestinationForm)
    await pilot.press(*name)
    form.query_one("#dest-attributes", TextArea).text = "VIP Tier = tier"
    await settle(pilot)
    return form


async def test_destination_form_validates_as_typed_and_refuses_to_save(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    before = (app.session.config_dir / "sandbox.toml").read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_destination_form(pilot)
        assert problems(app) == "no problems"
        form.query_one("#dest-attributes", TextArea).text = "VIP Tier = tier\nSocial Security Number = ssn"
        await settle(pilot)
        assert "sensitive-data category" in problems(app)
        assert form.query_one("#dest-attributes").has_class("-problem")
        form.query_one("#dest-rate").value = "fast"
        await settle(pilot)
        assert "rate limit: 'fast' is not a number" in problems(app)
        form.query_one("#dest-rate").value = "500"
        await settle(pilot)
        assert "published limit" in problems(app) and form.query_one("#dest-rate").has_class("-problem")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: the form stays open
    assert (app.session.config_dir / "sandbox.toml").read_text() == before


async def test_saving_tests_the_credential_first(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url, key="not-a-key-the-simulator-knows")
    before = (app.session.config_dir / "sandbox.toml").read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_destination_form(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "FAILED" in str(form.query_one("#destination-status", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        assert "401" in app.screen.detail and "Nothing was saved" in app.screen.detail
        await pilot.press("escape")
        assert app.screen is form
    assert (app.session.config_dir / "sandbox.toml").read_text() == before


async def test_saved_destination_is_written_and_audited(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await new_destination_form(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, (DestinationForm, MessageScreen))
        table = app.query_one("#destinations-table", DataTable)
        assert [table.get_row_at(index)[0] for index in range(table.row_count)] == ["loyalty-attributes", "vip-tiers"]
    saved = tomllib.loads((app.session.config_dir / "sandbox.toml").read_text())["destinations"]["vip-tiers"]
    assert saved["attributes"] == {"VIP Tier": "tier"} and saved["credential"] == "attentive"
    entry = Ledger(history_path(app.session.data_dir)).entries(limit=1)[0]
    assert (entry.action, entry.subject) == ("destination.added", "vip-tiers")


async def test_credential_removal_refused_while_in_use(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "d")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        assert "used by destination(s) loyalty-attributes" in app.screen.detail
    assert "[credentials.attentive]" in (app.session.config_dir / "sandbox.toml").read_text()


async def test_added_credential_key_is_stored_masked_and_never_shown(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "a")
        assert isinstance(app.screen, CredentialForm)
        await pilot.press(*"second", "tab", "tab", *FULL_KEY)
        assert FULL_KEY not in screen_text(app)  # a password input: typed, not echoed
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, (CredentialForm, MessageScreen))
        text = screen_text(app)
        assert "****" + FULL_KEY[-4:] in text and FULL_KEY not in text
    assert SecretsFile(app.session.secrets_file).get("second") == FULL_KEY
    assert 'api_key = "secret:second"' in (app.session.config_dir / "sandbox.toml").read_text()


async def test_a_key_that_fails_its_test_is_not_stored(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "k", *"wrong-key-9999", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen) and "Nothing was saved" in app.screen.detail
        assert "wrong-key-9999" not in app.screen.detail
    assert SecretsFile(app.session.secrets_file).get("attentive") == FULL_KEY


async def test_an_exception_in_a_handler_becomes_a_modal(monkeypatch, tmp_path):
    def broken(self):
        raise RuntimeError("boom in a handler")

    monkeypatch.setattr(DestinationsSection, "action_test", broken)
    monkeypatch.setattr(HistorySection, "fill_table", broken)
    app = make_app()
    app.session = type(app.session)(**{**app.session.__dict__, "data_dir": tmp_path})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)  # the runs arrive from a worker and fail to show
        assert isinstance(app.screen, MessageScreen) and "boom in a handler" in app.screen.detail
        await pilot.press("escape", "t")  # a key's action fails
        assert isinstance(app.screen, MessageScreen) and "boom in a handler" in app.screen.detail
        await pilot.press("escape", "2")
        assert app.query_one("#sections").current == "credentials"  # the console carries on
    assert "RuntimeError: boom in a handler" in (tmp_path / "console-errors.log").read_text()


async def test_read_only_hides_every_change_in_credentials_and_send():
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        ids = {row[2] for row in app.visible_bindings()}
        assert "credentials.test" in ids and not ids & {"credentials.add", "credentials.set_key",
                                                        "credentials.remove"}
        await pilot.press("3")
        app.query_one("#preview-table").focus()
        await pilot.pause()
        ids = {row[2] for row in app.visible_bindings()}
        assert "send.dry_run" in ids and not ids & {"send.send", "send.sample"}
