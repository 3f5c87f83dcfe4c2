"""Destination and credential forms over the real settings layer and the simulator: validation as
typed, saving tests the credential first, keys never shown, removal refused while in use; the
error guard; read-only. Forms that cannot race: keys in one burst land in the field they were typed
for, and what is saved is what was checked; "no problems" is not drawn as a problem; the facet picker
in the key language."""
from __future__ import annotations

import threading
import tomllib

from console_kit import DEADLINE_S, FixedBackend, burst, make_app, settle, wait_until
from core_kit import core_app, screen_text
from simulator_fixtures import FULL_KEY
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from tui.app.forms.credential_form import CredentialForm
from tui.app.forms.destination_form import DestinationForm
from tui.app.forms.facet_picker import FacetPicker
from tui.app.screens.message import MessageScreen
from tui.app.sections.destinations import DestinationsSection
from tui.app.sections.history import HistorySection
from tui.settings.ledger import Ledger
from tui.settings.model import Destination
from tui.settings.paths import history_path
from tui.settings.secrets import SecretsFile
from tui.sync.rejections import Facets, RejectionFilter


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
        await pilot.press("2", "D")
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
        await pilot.press("2", "e", *"wrong-key-9999", "enter")
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


# --- forms that cannot race ----------------------------------------------------------------------
# A terminal delivers a fast burst of keys in one read: the driver hands them to the app one after the
# other without the app getting a turn in between. `pilot.press` waits for the app to go idle after
# each key, so it cannot show a race; `burst` sends keys as the driver does with a burst.

class Recording(FixedBackend):
    """Records each draft the settings check saw and each draft saved; a check waits for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[Destination] = []
        self.saved: list[Destination] = []
        self.release = threading.Event()
        self.release.set()

    def destination_problems(self, environment, destination):
        self.release.wait(DEADLINE_S)
        self.checked.append(destination)
        limit = destination.rate_limit
        return [] if limit is None or limit <= 100 else [f"rate_limit {limit:g} is above the published limit"]

    def save_destination(self, environment, before, destination):
        self.saved.append(destination)
        return f"{destination.name} saved"


def field_value(form, key: str) -> str:
    return form.query_one(f"#dest-{key}", Input).value


async def test_tab_in_a_burst_sends_the_keys_behind_it_to_the_next_field():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for attempt in range(20):
            await pilot.press("a")
            form = app.screen
            assert isinstance(form, DestinationForm)
            if attempt % 2:
                await pilot.press("l", "o", "y", "tab", "d", "e", "s", "c")
            else:
                burst(pilot, "l", "o", "y", "tab", "d", "e", "s", "c", "shift+tab", "end", "a")
            await settle(pilot)
            expected = "loy" if attempt % 2 else "loya"
            assert (field_value(form, "name"), field_value(form, "description")) == (expected, "desc"), attempt
            await pilot.press("escape")
            await settle(pilot)


async def test_enter_in_a_burst_moves_on_in_the_credential_form():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "a")
        form = app.screen
        assert isinstance(form, CredentialForm)
        burst(pilot, *"second", "enter", *"for tests", "enter")
        await settle(pilot)
        assert form.query_one("#credential-name", Input).value == "second"
        assert form.query_one("#credential-description", Input).value == "for tests"
        assert app.screen is form and form.focused is form.query_one("#credential-key")  # incomplete: no save


async def test_a_burst_then_ctrl_s_saves_exactly_what_was_typed_and_checked():
    backend = Recording()
    app = make_app(backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for attempt in range(10):
            await pilot.press("a")
            form = app.screen
            await pilot.press(*f"d{attempt}")
            await settle(pilot)
            form.query_one("#dest-rate").focus()
            backend.release.clear()  # the check of what is typed is still out when ctrl+s comes
            burst(pilot, "2", "0", "ctrl+s")
            await wait_until(pilot, lambda: "saving" in str(form.query_one("#destination-status", Static).render()))
            assert not backend.saved  # not before the check of this very draft passed
            backend.release.set()
            await settle(pilot)
            assert app.screen is not form and not isinstance(app.screen, MessageScreen)
            saved = backend.saved.pop()
            assert saved.name == f"d{attempt}" and saved.rate_limit == 20
            assert saved == backend.checked[-1]  # validation and save saw the same value


async def test_a_non_number_typed_fast_then_ctrl_s_is_refused_not_a_bug(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    before = (app.session.config_dir / "sandbox.toml").read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        for attempt in range(10):
            form = await new_destination_form(pilot, f"fast-{attempt}")
            form.query_one("#dest-rate").focus()
            burst(pilot, "a", "b", "c", "ctrl+s")
            await settle(pilot)
            assert app.screen is form, "a refusal keeps the form open; no 'Unexpected error' modal"
            assert field_value(form, "rate") == "abc"
            assert "rate limit: 'abc' is not a number" in problems(app)
            burst(pilot, "backspace", "backspace", "backspace", "2", "0", "ctrl+s")
            await settle(pilot)
            assert not isinstance(app.screen, (DestinationForm, MessageScreen))
    saved = tomllib.loads((app.session.config_dir / "sandbox.toml").read_text())["destinations"]
    assert all(saved[f"fast-{attempt}"]["rate_limit"] == 20 for attempt in range(10))
    assert before != (app.session.config_dir / "sandbox.toml").read_text()


async def test_no_problems_is_not_drawn_as_a_problem():
    app = make_app(backend=Recording())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        form = app.screen
        shown = form.query_one("#destination-problems", Static)
        assert shown.has_class("problem")  # no name yet
        await pilot.press(*"vip")
        await settle(pilot)
        assert problems(app) == "no problems" and not shown.has_class("problem")
        form.query_one("#dest-rate", Input).value = "500"
        await settle(pilot)
        assert "published limit" in problems(app) and shown.has_class("problem")
        await pilot.press("escape", "2", "a")
        credential = app.screen
        assert isinstance(credential, CredentialForm)
        listed = credential.query_one("#credential-problems", Static)
        assert listed.has_class("problem")
        await pilot.press(*"second", "tab", "tab", *FULL_KEY)
        await settle(pilot)
        assert str(listed.render()) == "no problems" and not listed.has_class("problem")


async def test_the_facet_picker_moves_and_closes_in_the_key_language():
    app = make_app()
    picked: list = []
    facets = Facets(total=9, reasons={"invalid_email": 5, "invalid_phone": 3}, statuses={400: 1, None: 8})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(FacetPicker(facets, RejectionFilter()), picked.append)
        await pilot.pause()
        options = app.screen.query_one("#facet-options", OptionList)
        await pilot.press("j", "j")
        assert options.highlighted == 2
        await pilot.press("k")
        assert options.highlighted == 1
        await pilot.press("G")
        assert options.highlighted == 3  # clear, two reasons, http 400 (a local rejection has no status)
        await pilot.press("g", "j", "enter")
        await pilot.pause()
        assert picked == [RejectionFilter(reason="invalid_email")]
        app.push_screen(FacetPicker(facets, RejectionFilter()), picked.append)
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert picked[-1] is None and not isinstance(app.screen, FacetPicker)
