"""The `:` command bar (k9s): type a section or an action of the current section; the matching
commands are listed above the bar as you type, tab completes the first."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

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


def matching(commands: dict[str, Command], typed: str) -> list[str]:
    """The command words that start with what was typed (all of them before anything is typed), then
    those that only contain it."""
    word = typed.strip().lstrip(":").lower()
    starts = sorted(name for name in commands if name.startswith(word))
    return starts + sorted(name for name in commands if word and word in name and name not in starts)


class CommandBar(ErrorGuard, Vertical):
    """The bar and, above it, the commands that match what is typed so far (k9s)."""

    DEFAULT_CSS = """
    CommandBar { height: auto; }
    CommandBar #command-matches { height: auto; max-height: 8; padding: 0 1; background: $surface; }
    CommandBar #command-input { height: 1; border: none; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="command.close")]
    SHOWN = 7  # matches listed; "… N more" after them

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: dict[str, Command] = {}
        self.section: Section | None = None   # where the bar was opened: the focus goes back there

    def compose(self) -> ComposeResult:
        yield Static("", id="command-matches", markup=False)
        yield Input(placeholder=":command  (tab completes, enter runs, esc closes)", id="command-input")

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    def open(self, commands: dict[str, Command], section: Section) -> None:
        """While the bar is open the keys type into it, so `section` is still the current one on close."""
        self.commands = commands
        self.section = section
        self.input.suggester = SuggestFromList(sorted(commands), case_sensitive=False)
        self.input.value = ""
        self.show_matches("")
        self.add_class("-open")
        self.input.focus()

    def matches_text(self, typed: str) -> str:
        names = matching(self.commands, typed)
        if not names:
            return f"no command starts with {typed.strip()!r}: esc closes"
        width = max(len(name) for name in names[:self.SHOWN])
        lines = [f":{name:<{width}}  {self.commands[name][1]}" for name in names[:self.SHOWN]]
        if len(names) > self.SHOWN:
            lines.append(f"… {len(names) - self.SHOWN} more: type to narrow")
        return "\n".join(lines)

    def show_matches(self, typed: str) -> None:
        self.query_one("#command-matches", Static).update(self.matches_text(typed))

    @on(Input.Changed, "#command-input")
    def typed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_matches(event.value)

    def action_close(self) -> None:
        self.remove_class("-open")
        self.input.value = ""
        if self.section is not None:
            self.section.focus_main()

    @on(Input.Submitted, "#command-input")
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
