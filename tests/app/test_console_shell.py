"""The console shell: header, sections, command bar, help, overlays, keymap, read-only, failed connections."""
from __future__ import annotations

from console_kit import FixedBackend, make_app, settle
from textual.widgets import ContentSwitcher, DataTable

from tui.app.keymap import load_keymap
from tui.app.launch import binding_ids
from tui.app.screens.help import HelpScreen
from tui.app.screens.message import MessageScreen
from tui.app.widgets.command_bar import CommandBar
from tui.app.widgets.header import ConsoleHeader
from tui.app.widgets.key_hints import KeyHints


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


async def test_a_remapped_key_shows_in_the_hints_of_the_screen_it_works_on(tmp_path):
    """console.toml's keys reach the modal's hint line, so the operator reads the key that works."""
    (tmp_path / "console.toml").write_text('[keys]\n"destination_form.save" = "ctrl+w"\n')
    app = make_app()
    app.keymap_load = load_keymap(tmp_path, binding_ids())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        hints = str(app.screen.query_one(KeyHints).render())
        assert "^w save" in hints and "^s" not in hints
        assert "^t test" in hints and "esc cancel" in hints  # the keys left alone keep their defaults


async def test_q_and_esc_close_every_overlay():
    from tui.app.screens.choice import ChoiceScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        overlays = [lambda: app.action_help(), lambda: app.push_screen(MessageScreen("Refused", "because")),
                    lambda: app.push_screen(ChoiceScreen("Replace?", "a file is there", [("yes", "Replace")]))]
        for open_overlay in overlays:
            for key in ("q", "escape"):
                open_overlay()
                await pilot.pause()
                assert len(app.screen_stack) == 2
                await pilot.press(key)
                await pilot.pause()
                assert len(app.screen_stack) == 1, (app.screen, key)


async def test_q_types_in_a_text_field_instead_of_closing():
    from tui.app.screens.prompt import PromptScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PromptScreen("Name", "type it"))
        await pilot.pause()
        await pilot.press("q")
        assert isinstance(app.screen, PromptScreen) and app.screen.query_one("#prompt-input").value == "q"
        await pilot.press("escape")
        assert len(app.screen_stack) == 1


async def test_the_command_bar_lists_the_matching_commands_as_you_type():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        bar = app.query_one("#command-matches")
        listed = str(bar.render())
        assert ":add" in listed and ":history" in listed  # before a key is typed: what there is
        await pilot.press(*"pro")
        listed = str(bar.render())
        assert ":promote" in listed and ":promotion" in listed and ":add" not in listed
        await pilot.press(*"zz")
        assert "no command starts with 'prozz'" in str(bar.render())
        await pilot.press("escape")
        assert not app.query_one(CommandBar).has_class("-open")


async def test_help_groups_the_keys_and_shows_them_as_remapped(tmp_path):
    (tmp_path / "console.toml").write_text('[keys]\n"destinations.add" = "n"\n"app.command" = "semicolon"\n')
    app = make_app()
    app.keymap_load = load_keymap(tmp_path, binding_ids())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {row.binding_id: row for row in help_screen.rows}
        assert rows["destinations.add"].key == "n" and rows["destinations.add"].group == "This screen"
        assert rows["app.command"].key == ";" and rows["app.command"].group == "Global"
        assert rows["section.history"].group == "Global"
        lines = help_screen.lines()
        titles = [line.split("  ")[0] for line in lines]
        assert titles.index("Global") < titles.index("This screen") < titles.index("Key language")
        assert "n  Add  destinations.add" in lines
        await pilot.press("q")
        assert len(app.screen_stack) == 1


def test_every_screens_keys_can_be_remapped():
    """binding_ids finds the classes itself: a screen added later is remappable without a list to keep."""
    import importlib
    import pkgutil

    from textual.screen import Screen

    import tui.app.screens

    ids = binding_ids()
    for module in pkgutil.iter_modules(tui.app.screens.__path__):
        loaded = importlib.import_module(f"tui.app.screens.{module.name}")
        for owner in vars(loaded).values():
            if isinstance(owner, type) and issubclass(owner, Screen) and owner.__module__ == loaded.__name__:
                assert {binding.id for binding in owner.BINDINGS if binding.id} <= ids, owner
