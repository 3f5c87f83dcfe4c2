"""The `:` command bar (k9s): type a section or an action of the current section, with suggestions."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual import on
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tui.app.error_guard import ErrorGuard
from tui.app.read_only import is_mutating
from tui.app.sections.base import Section

Command = tuple[Callable[[], Any], str]


def section_commands(section: Section, read_only: bool) -> dict[str, Command]:
    """The section's described bindings as commands, named by their binding id's last part;
    mutating ones are left out in read-only mode (as they are from the footer and the palette)."""
    commands: dict[str, Command] = {}
    for binding in section.BINDINGS:
        if not isinstance(binding, Binding) or not binding.description or not binding.id:
            continue
        action = binding.action
        if read_only and is_mutating(section, action):
            continue
        commands[binding.id.rsplit(".", 1)[-1]] = (partial(section.run_action, action), binding.description.lower())
    return commands


class CommandBar(ErrorGuard, Input):
    BINDINGS = [Binding("escape", "close", "Close", id="command.close")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder=":command  (tab completes, esc closes)", **kwargs)
        self.commands: dict[str, Command] = {}
        self.section: Section | None = None   # where the bar was opened: the focus goes back there

    def open(self, commands: dict[str, Command], section: Section) -> None:
        """While the bar is open the keys type into it, so `section` is still the current one on close."""
        self.commands = commands
        self.section = section
        self.suggester = SuggestFromList(sorted(commands), case_sensitive=False)
        self.value = ""
        self.add_class("-open")
        self.focus()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.value = ""
        if self.section is not None:
            self.section.focus_main()

    @on(Input.Submitted)
    async def run_command(self, event: Input.Submitted) -> None:
        event.stop()
        word = event.value.strip().lstrip(":").lower()
        matches = [name for name in self.commands if name.startswith(word)] if word else []
        command = self.commands.get(word) or (self.commands[matches[0]] if len(matches) == 1 else None)
        self.action_close()
        if command is None:
            known = ", ".join(sorted(self.commands))
            self.notify(f"Unknown command {word!r}. Try one of: {known}", severity="warning")
            return
        result = command[0]()
        if result is not None and hasattr(result, "__await__"):
            await result
