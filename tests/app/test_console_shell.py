"""The console shell: header, sections, command bar, help, keymap, read-only, failed connections."""
from __future__ import annotations

from console_kit import FixedBackend, make_app, settle
from textual.widgets import ContentSwitcher, DataTable

from tui.app.keymap import load_keymap
from tui.app.launch import binding_ids
from tui.app.screens.help import HelpScreen
from tui.app.screens.message import MessageScreen
from tui.app.widgets.header import ConsoleHeader


def header_text(app) -> str:
    return str(app.query_one(ConsoleHeader).render())


async def test_header_names_environment_operator_role_and_connection():
    app = make_app("production", operator="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = header_text(app)
        assert "!! PRODUCTION !!" in text and "bob (restricted PII)" in text
        assert "connected: Acme Live" in text and "READ-ONLY" not in text


async def test_number_keys_and_command_bar_switch_sections():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        assert app.query_one(ContentSwitcher).current == "credentials"
        await pilot.press("colon", *"hist", "enter")
        await settle(pilot)
        assert app.query_one(ContentSwitcher).current == "history"
        await pilot.press("colon", *"nonsense", "enter")
        assert app.query_one(ContentSwitcher).current == "history"  # unknown: a notification, no crash


async def test_help_lists_the_current_sections_keys_with_ids():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {"destinations.add", "destinations.promote", "app.command"} <= ids


async def test_read_only_hides_every_mutating_action():
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in header_text(app)
        ids = {row[2] for row in app.visible_bindings()}
        assert "destinations.test" in ids
        assert not ids & {"destinations.add", "destinations.edit", "destinations.send"}
        commands = app.available_commands()
        assert "test" in commands and not {"add", "edit"} & set(commands)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert not any(title.startswith("Destinations: add") for title in titles)
        await pilot.press("a")  # the key does nothing: no form opens
        assert not isinstance(app.screen, MessageScreen) and len(app.screen_stack) == 1


async def test_failed_connection_is_shown_not_fatal():
    backend = FixedBackend(failing_credentials={"attentive-sandbox"})
    app = make_app(backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "NOT CONNECTED: attentive-sandbox" in header_text(app)
        await pilot.press("2")
        table = app.query_one("#credentials-table", DataTable)
        assert "FAILED unknown key" in str(table.get_row_at(0)[2])


async def test_broken_environment_becomes_a_modal_message():
    class Broken(FixedBackend):
        def load_environment(self, name):
            raise ValueError("sandbox.toml:3:1: unknown key 'api_ur' (did you mean 'api_url'?)")

    app = make_app(backend=Broken())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        assert "api_ur" in app.screen.detail


def test_keymap_remaps_known_ids_and_reports_the_rest(tmp_path):
    (tmp_path / "console.toml").write_text('[keys]\n"destinations.add" = "n"\n"no.such" = "x"\n')
    loaded = load_keymap(tmp_path, binding_ids())
    assert loaded.keys == {"destinations.add": "n"}
    assert len(loaded.problems) == 1 and "no.such" in loaded.problems[0]
    (tmp_path / "console.toml").write_text("[keys\n")
    assert "default keys kept" in load_keymap(tmp_path, binding_ids()).problems[0]


async def test_remapped_key_opens_the_action(tmp_path):
    app = make_app()
    app.keymap_load = load_keymap(tmp_path, binding_ids())  # empty: defaults
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.set_keymap({"app.help": "h"})
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)
