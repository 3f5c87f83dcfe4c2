"""`?`: the keys of the screen the operator is on, with the binding ids console.toml can remap."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


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
            yield Static("esc closes", classes="modal-hint")
