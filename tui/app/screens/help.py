"""`?`: the keys of the screen the operator is on, with the binding ids console.toml can remap."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tui.app.read_only import is_mutating
from tui.app.widgets.key_hints import KeyHints


def visible_bindings(screen: Screen[Any], read_only: bool,
                     key_display: Callable[[Binding], str]) -> list[tuple[str, str, str]]:
    """(key, description, binding id) of every binding the operator can use here and now."""
    rows = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or not binding.description:
            continue
        if read_only and is_mutating(active.node, binding.action.split("(")[0]):
            continue
        rows.append((key_display(binding), binding.description, binding.id or ""))
    return sorted(rows, key=lambda row: row[2] == "")  # the console's own keys first


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", id="help.close_again", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="modal-box"):
            yield Static('Keys here   (remap in console.toml: [keys] binding-id = "key")',
                         classes="modal-title", markup=False)
            table: DataTable = DataTable(cursor_type="row", show_cursor=False)
            table.add_columns("Key", "Does", "Binding id")
            for row in self.rows:
                table.add_row(*row)
            yield table
            yield KeyHints(("help.close", "closes"))
