"""The rejection export from a run's detail over the real core: a new file is written, an existing one
only once the operator confirms (Back returns to the file name), a symbolic link is refused."""
from __future__ import annotations

import os

from console_kit import build_history, open_run, settle
from core_kit import core_app

from tui.app.screens.choice import ChoiceScreen
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen


async def type_export_path(pilot, path) -> None:
    await pilot.press("x")
    assert isinstance(pilot.app.screen, PromptScreen)
    pilot.app.screen.query_one("#prompt-input").value = str(path)
    await pilot.press("enter")
    await settle(pilot)


def csv_rows(path) -> int:
    return len(path.read_text().splitlines()) - 1  # the header


async def test_an_existing_file_is_replaced_only_once_confirmed(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    build_history(app.session.data_dir, 3, 5)
    target = tmp_path / "rejections.csv"
    target.write_text("keep me\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot)
        await type_export_path(pilot, target)
        assert isinstance(app.screen, ChoiceScreen) and "already exists" in app.screen.explanation
        await pilot.press("enter")  # Back (it has the focus): to the file name, the file untouched
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-input").value == str(target)
        assert target.read_text() == "keep me\n"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("shift+tab", "enter")  # "Replace the file"
        await settle(pilot)
        assert not isinstance(app.screen, (ChoiceScreen, MessageScreen))
    assert csv_rows(target) == 5


async def test_a_new_file_is_written_without_a_question(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    build_history(app.session.data_dir, 3, 5)
    target = tmp_path / "new.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot)
        await type_export_path(pilot, target)
        assert not isinstance(app.screen, (ChoiceScreen, MessageScreen))
    assert csv_rows(target) == 5


async def test_a_symbolic_link_is_refused_with_the_reason(tmp_path, simulator):
    app = core_app(tmp_path, simulator.url)
    build_history(app.session.data_dir, 3, 5)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "rejections.csv"
    os.symlink(victim, link)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot)
        await type_export_path(pilot, link)
        assert isinstance(app.screen, MessageScreen)  # no question: replacing cannot make a link safe
        assert f"{link} is a symbolic link" in app.screen.detail
    assert victim.read_text() == "precious\n" and link.is_symlink()
