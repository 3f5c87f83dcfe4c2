"""The console's shell: sections by number, the `:` command bar, `?` help, `esc`/`q` back, and the
too-small notice below 80x24. ConsoleApp (app.py) adds the runs, connections and jobs on top."""
from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from tui.app.screens.help import HelpRow, HelpScreen, visible_bindings
from tui.app.screens.too_small import TooSmallScreen, too_small
from tui.app.sections.base import Section
from tui.app.session import Session
from tui.app.widgets.command_bar import Command, CommandBar, section_commands
from tui.app.widgets.header import ConsoleHeader

SECTION_IDS = ("destinations", "credentials", "send", "history", "promotion")
SHELL_ACTIONS = {"section", "command_bar", "help", "back"}  # what the too-small notice holds back


class ConsoleShell(App[int]):
    session: Session

    @property
    def current_section(self) -> Section:
        switcher = self.query_one(ContentSwitcher)
        return self.query_one(f"#{switcher.current}", Section)

    def action_section(self, index: int) -> None:
        self.query_one(ContentSwitcher).current = SECTION_IDS[index]
        self.query_one(ConsoleHeader).section = index
        self.current_section.focus_main()

    def show_section(self, section_id: str) -> Section:
        self.action_section(SECTION_IDS.index(section_id))
        return self.current_section

    def action_command_bar(self) -> None:
        self.query_one(CommandBar).open(self.available_commands(), self.current_section)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.visible_bindings()))

    async def action_back(self) -> None:
        self.current_section.go_back()

    def visible_bindings(self) -> list[HelpRow]:
        return visible_bindings(self.screen, self.session.read_only, self.get_key_display)

    def available_commands(self) -> dict[str, Command]:
        """Command bar words -> (command, help): the current section's actions and the sections."""
        commands = section_commands(self.current_section, self.session.read_only)
        commands.update({  # section names win over a same-named action (`:send` opens Send)
            section_id: (partial(self.action_section, index), f"go to {section_id.title()}")
            for index, section_id in enumerate(SECTION_IDS)
        })
        commands["help"] = (self.action_help, "list the keys of this screen")
        commands["quit"] = (self.action_quit, "leave the console")
        return commands

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for index, section_id in enumerate(SECTION_IDS):
            yield SystemCommand(f"Go to {section_id.title()}", f"Section {index + 1}", partial(self.action_section, index))
        section = self.current_section
        for word, (command, help_text) in section_commands(section, self.session.read_only).items():
            yield SystemCommand(f"{section.TITLE}: {help_text}", f":{word}", command)
        yield SystemCommand("Keys", "List the keys of this screen", self.action_help)
        yield SystemCommand("Quit", "Leave the console", self.action_quit)

    # -- 80x24 is the design size: below it a notice covers the console until the terminal grows --

    def on_resize(self, event: events.Resize) -> None:
        self.fit_notice(event.size)

    def fit_notice(self, size: Size) -> None:
        shown = any(isinstance(screen, TooSmallScreen) for screen in self.screen_stack)
        if too_small(size) and not shown:
            self.push_screen(TooSmallScreen())
        elif not too_small(size) and isinstance(self.screen, TooSmallScreen):
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Under the notice only ctrl+q works: nothing opens where it cannot be read."""
        if action in SHELL_ACTIONS and isinstance(self.screen, TooSmallScreen):
            return False
        return True
