"""A section that lists one kind of the current environment's items (credentials, destinations) in a
list keyed by name (sorted, filtered, copied as every list is: widgets/data_list.py), with a summary
line above it and actions on the selected row."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.widgets import Static

from tui.app.sections.base import Section
from tui.app.widgets.data_list import DataList, ListRow, ListTable
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
        table = ListTable(self.COLUMNS, id=f"{self.KIND}s-table", key_name=f"{self.KIND} name")
        yield DataList(table, noun=f"{self.KIND}s")

    @property
    def table(self) -> ListTable:
        return self.query_one(f"#{self.KIND}s-table", ListTable)

    def refresh_view(self) -> None:
        """Refilled whenever the app's view changes (a connection test, a run): the cursor and the
        filter stay."""
        environment = self.view.environment
        if environment is None:
            self.table.set_rows(())
            return
        self.table.set_rows([ListRow(name, tuple(self.row(item))) for name, item in self.items(environment).items()])
        self.query_one(f"#{self.KIND}s-summary", Static).update(self.summary(environment))

    def focus_main(self) -> None:
        self.table.focus()

    def selected(self) -> Item | None:
        """The item under the cursor; None (and the operator told) when there is none."""
        environment = self.view.environment
        key = self.table.cursor_key
        if environment is None or key is None:
            self.notify(f"No {self.KIND} selected.", severity="warning")
            return None
        return self.items(environment).get(key)
