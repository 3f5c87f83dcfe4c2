"""`?`: the keys of the screen the operator is on, grouped (the console's, the list's, this section's),
with the binding ids console.toml can remap. Built from the live bindings, so a remapped key shows
as it works; the key language's conventions follow, for the keys other screens use."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.widgets import DataTable, Static

from tui.app.read_only import is_mutating
from tui.app.widgets.key_hints import KeyHints

GLOBAL, LISTS, HERE = "Global", "Lists", "This screen"
GROUP_ORDER = (GLOBAL, LISTS, HERE)

# The key language (README "Keys"): what a key means wherever a screen binds it.
CONVENTIONS: tuple[tuple[str, str], ...] = (
    ("1-5", "switch section"),
    ("esc q", "back, close an overlay"),
    ("/", "filter a list"),
    ("j k  g G", "down, up; top, bottom"),
    ("< >  o", "sort column; flip order ▲/▼"),
    ("enter", "open what the cursor is on"),
    ("y", "copy the id under the cursor"),
    ("r", "reload"),
    ("a e t", "add, edit, test"),
    ("x f v b", "export, facet, verify, jobs"),
    ("S R P", "send all, re-send, promote"),
    ("D C", "remove, cancel a run"),
)
CAPITALS = "capitals change or delete"


WIDTHS = (12, 30, 22)  # inside the 76-column box at 80x24, with cell padding and the scrollbar


def fit(text: str, width: int) -> str:
    """Cut to the column with an ellipsis, never silently."""
    return text if len(text) <= width else text[:width - 1] + "…"


class HelpRow(NamedTuple):
    key: str
    description: str
    binding_id: str
    group: str


def binding_group(node: DOMNode, binding: Binding) -> str:
    """Global for the app's keys, Lists for a list's (a table or any scrolling view, or a `list.` id),
    This screen for the section's, the view's or the screen's."""
    if isinstance(node, App):
        return GLOBAL
    if isinstance(node, ScrollView) or (binding.id or "").startswith("list."):
        return LISTS
    return HERE


def visible_bindings(screen: Screen[Any], read_only: bool, key_display: Callable[[Binding], str]) -> list[HelpRow]:
    """Every binding the operator can use here and now, in the groups' order."""
    rows = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or not binding.description:
            continue
        if read_only and is_mutating(active.node, binding.action.split("(")[0]):
            continue
        rows.append(HelpRow(key_display(binding), binding.description, binding.id or "",
                            binding_group(active.node, binding)))
    return sorted(merged(rows), key=lambda row: (GROUP_ORDER.index(row.group), row.binding_id == ""))


def merged(rows: list[HelpRow]) -> list[HelpRow]:
    """One row a binding id, its keys together (`esc q`)."""
    by_id: dict[str, HelpRow] = {}
    result: list[HelpRow] = []
    for row in rows:
        first = by_id.get(row.binding_id) if row.binding_id else None
        if first is None:
            by_id[row.binding_id] = row
            result.append(row)
        elif row.key not in first.key.split(" "):
            index = result.index(first)
            by_id[row.binding_id] = result[index] = first._replace(key=f"{first.key} {row.key}")
    return result


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", id="help.close_again", show=False),
    ]

    def __init__(self, rows: Sequence[HelpRow]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="modal-box"):
            yield Static('Keys here   (remap in console.toml: [keys] binding-id = "key")',
                         classes="modal-title", markup=False)
            table: DataTable[str | Text] = DataTable(cursor_type="row", show_cursor=False, id="help-table")
            for label, width in zip(("Key", "Does", "Binding id"), WIDTHS, strict=True):
                table.add_column(label, width=width)
            for group in GROUP_ORDER:
                rows = [row for row in self.rows if row.group == group]
                if rows:
                    table.add_row(Text(group, style="bold underline"), "", "")
                    for row in rows:
                        table.add_row(*(fit(cell, width) for cell, width in zip(row[:3], WIDTHS, strict=True)))
            table.add_row(Text("Key language", style="bold underline"), CAPITALS, "")
            for keys, meaning in CONVENTIONS:
                table.add_row(keys, meaning, "")
            yield table
            yield KeyHints(("help.close", "closes"), "↑↓ scroll")

    def lines(self) -> list[str]:
        """The table as it reads, a row a line (tests)."""
        table = self.query_one("#help-table", DataTable)
        return ["  ".join(str(cell) for cell in table.get_row_at(index)).rstrip() for index in range(table.row_count)]
