"""Every list of the console (destinations, credentials, runs, a run's jobs, the ledger) behaves the
same, as k9s and lazygit do: `<`/`>` choose the sort column and `o` flips its order (▲/▼ in its
header; numbers sort as numbers), `/` opens a filter that keeps the rows holding the text in any cell
(case-insensitive, as it is typed; `esc` clears and closes it), `j`/`k` and `g`/`G` move besides the
arrows, and `y` copies the row's key (OSC 52, so it works over SSH). The cursor stays on its row, by
key, across a sort, a filter and a refill.

A section builds a `ListTable` with its columns, wraps it in a `DataList` (the table and its filter
line) and hands it rows with `set_rows`; the table keeps them and draws the ones the filter and the
sort leave, in that order."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

Cell = str | Text
ASCENDING, DESCENDING, UNSORTED = " ▲", " ▼", "  "   # every label keeps room for its mark: no column shifts
NUMBER = re.compile(r"#?-?\d[\d,]*(\.\d+)?")          # "2,400", "#12", "-3", "0.5"; not "inf" or "nan"


@dataclass(frozen=True)
class ListRow:
    """A row: its key (unique in the list), its cells as drawn, and what `y` copies (the key unless said)."""
    key: str
    cells: tuple[Cell, ...]
    copy: str | None = None


def plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def sort_key(cell: Cell) -> tuple[int, float, str]:
    """Numbers (with thousands commas, a leading #) before text, each in its own order."""
    text = plain(cell).strip()
    if NUMBER.fullmatch(text):
        return 0, float(text.replace(",", "").removeprefix("#")), ""
    return 1, 0.0, text.casefold()


def row_matches(row: ListRow, needle: str) -> bool:
    """`needle` already folded; a match lies inside one cell, never across two."""
    return any(needle in plain(cell).casefold() for cell in row.cells)


class ListTable(DataTable[Cell]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", id="list.down", show=False),
        Binding("k", "cursor_up", "Up", id="list.up", show=False),
        Binding("g", "scroll_top", "Top", id="list.top", show=False),
        Binding("G", "scroll_bottom", "Bottom", id="list.bottom", show=False),
        Binding("less_than_sign", "sort_column(-1)", "Sort column left", id="list.sort_left", show=False),
        Binding("greater_than_sign", "sort_column(1)", "Sort column right", id="list.sort_right", show=False),
        Binding("o", "flip_order", "Flip sort order", id="list.order", show=False),
        # A row list scrolls sideways a column at a time, not a character (30 presses to a column at 80x24).
        Binding("right,l", "scroll_columns(1)", "Next column", id="list.right", show=False),
        Binding("left,h", "scroll_columns(-1)", "Previous column", id="list.left", show=False),
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("y", "copy", "Copy", id="list.copy"),
    ]

    class FilterOpened(Message):
        """`/`: the DataList around the table shows its filter line."""

    def __init__(self, columns: Sequence[str], *, key_name: str, sort_column: int | None = 0,
                 descending: bool = False, **kwargs: Any) -> None:
        """`key_name` says what `y` copies ("run id"); `sort_column` None keeps the rows as given."""
        super().__init__(cursor_type="row", **kwargs)
        self.labels = tuple(columns)
        self.key_name = key_name
        self.sort_column = sort_column
        self.descending = descending
        self.source: tuple[ListRow, ...] = ()
        self.filter_text = ""

    def on_mount(self) -> None:
        self.ensure_columns()

    def ensure_columns(self) -> None:
        if not self.columns:
            for position, label in enumerate(self.labels):
                self.add_column(Text(label + self.mark(position)), key=str(position))

    def action_scroll_columns(self, step: int) -> None:
        starts, x = [], 0
        for column in self.ordered_columns:
            starts.append(x)
            x += column.get_render_width(self)
        now = round(self.scroll_x)
        if step > 0:
            target = next((start for start in starts if start > now), now)
        else:
            target = max((start for start in starts if start < now), default=0)
        self.scroll_to(x=target, animate=False)

    def mark(self, position: int) -> str:
        if position != self.sort_column:
            return UNSORTED
        return DESCENDING if self.descending else ASCENDING

    # -- what the list holds and shows -----------------------------------------------------------------

    def set_rows(self, rows: Sequence[ListRow]) -> None:
        """The list's rows as they are now (a reload): drawn filtered and sorted, the cursor on its row."""
        self.source = tuple(rows)
        self.redraw()

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self.redraw()

    def visible_rows(self) -> list[ListRow]:
        needle = self.filter_text.strip().casefold()
        rows = [row for row in self.source if row_matches(row, needle)] if needle else list(self.source)
        column = self.sort_column
        if column is not None:
            rows.sort(key=lambda row: sort_key(row.cells[column]) if column < len(row.cells) else (2, 0.0, ""),
                      reverse=self.descending)
        return rows

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def cursor_row_data(self) -> ListRow | None:
        key = self.cursor_key
        return next((row for row in self.source if row.key == key), None)

    def redraw(self) -> None:
        self.ensure_columns()
        chosen, index, scroll_x = self.cursor_key, self.cursor_row, self.scroll_x
        for position, label in enumerate(self.labels):
            self.columns[ColumnKey(str(position))].label = Text(label + self.mark(position))
        rows = self.visible_rows()
        self.clear()
        for row in rows:
            self.add_row(*row.cells, key=row.key)
        if rows:
            keys = [row.key for row in rows]
            self.move_cursor(row=keys.index(chosen) if chosen in keys else min(index, len(rows) - 1), animate=False)
        self.scroll_x = scroll_x
        self.call_after_refresh(self.scroll_to, x=scroll_x, animate=False)

    # -- keys ------------------------------------------------------------------------------------------

    def action_sort_column(self, step: int) -> None:
        if not self.labels:
            return
        last = len(self.labels) - 1
        current = self.sort_column
        self.sort_column = (0 if step > 0 else last) if current is None else max(0, min(last, current + step))
        if self.sort_column != current:
            self.descending = False
            self.redraw()

    def action_flip_order(self) -> None:
        if self.sort_column is None:
            self.sort_column = 0
        else:
            self.descending = not self.descending
        self.redraw()

    def action_filter(self) -> None:
        self.post_message(self.FilterOpened())

    def action_copy(self) -> None:
        row = self.cursor_row_data()
        if row is None:
            self.notify(f"No {self.key_name} to copy: the list is empty.", severity="warning")
            return
        value = row.copy if row.copy is not None else row.key
        self.app.copy_to_clipboard(value)
        self.notify(f"Copied {self.key_name} {value} to the clipboard.", markup=False)


class DataList(Vertical):
    """A ListTable and its filter line (shown from `/` until `esc` clears it)."""
    DEFAULT_CSS = """
    DataList { height: 1fr; }
    DataList.-auto { height: auto; }
    DataList > .list-filter-row { display: none; dock: top; height: 1; }
    DataList.-filtering > .list-filter-row { display: block; }
    DataList .list-filter-label { width: auto; padding: 0 0 0 1; text-style: bold; }
    DataList .list-filter { width: 1fr; height: 1; border: none; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "close_filter", "Clear filter", id="list.clear_filter", show=False)]

    def __init__(self, table: ListTable, *, noun: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.noun = noun
        self.filter_input = Input(placeholder=f"the {noun} holding this text in any column; enter keeps it, esc clears it",
                                  id=(table.id or "list").removesuffix("-table") + "-filter", classes="list-filter",
                                  compact=True)

    def compose(self) -> ComposeResult:
        yield self.table
        with Horizontal(classes="list-filter-row"):   # "filter:" says what the line is, without colour
            yield Static("filter:", classes="list-filter-label")
            yield self.filter_input

    @property
    def filtering(self) -> bool:
        return self.has_class("-filtering")

    @on(ListTable.FilterOpened)
    def open_filter(self, event: ListTable.FilterOpened) -> None:
        event.stop()
        self.add_class("-filtering")
        self.filter_input.focus()

    @on(Input.Changed, ".list-filter")
    def filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)

    @on(Input.Submitted, ".list-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.remove_class("-filtering")
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":  # without a filter, esc goes on to the section (back)
            return self.filtering
        return True

    def action_close_filter(self) -> None:
        self.filter_input.value = ""
        self.table.set_filter("")
        self.remove_class("-filtering")
        self.table.focus()
