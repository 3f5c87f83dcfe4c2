"""A section that lists one kind of the current environment's items (credentials, destinations) in a
table keyed by name, with a summary line above it and actions on the selected row."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from tui.app.sections.base import Section
from tui.settings.model import Environment

Item = TypeVar("Item")


class EnvironmentTableSection(Section, Generic[Item]):
    KIND: ClassVar[str] = ""                    # "credential": names the widgets and the messages
    COLUMNS: ClassVar[Sequence[str]] = ()

    def items(self, environment: Environment) -> Mapping[str, Item]:
        raise NotImplementedError

    def row(self, item: Item) -> Sequence[str]:
        raise NotImplementedError

    def summary(self, environment: Environment) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield Static(id=f"{self.KIND}s-summary", classes="section-summary")
        table: DataTable[str] = DataTable(id=f"{self.KIND}s-table", cursor_type="row")
        table.add_columns(*self.COLUMNS)
        yield table

    def refresh_view(self) -> None:
        environment = self.view.environment
        table = self.query_one(DataTable)
        table.clear()
        if environment is None:
            return
        for name, item in self.items(environment).items():
            table.add_row(*self.row(item), key=name)
        self.query_one(f"#{self.KIND}s-summary", Static).update(self.summary(environment))

    def selected(self) -> Item | None:
        """The item under the cursor; None (and the operator told) when there is none."""
        environment = self.view.environment
        table = self.query_one(DataTable)
        if environment is None or table.row_count == 0:
            self.notify(f"No {self.KIND} selected.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items(environment).get(str(key))
