"""Credentials of the current environment: masked key, last connection test and its result."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui.app.guard import mutating
from tui.app.sections.base import Section
from tui.settings.model import Credential


class CredentialsSection(Section):
    TITLE = "Credentials"
    BINDINGS = [
        Binding("a", "add", "Add", id="credentials.add"),
        Binding("k", "set_key", "Set key", id="credentials.set_key"),
        Binding("t", "test", "Test", id="credentials.test"),
        Binding("d", "remove", "Remove", id="credentials.remove"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="credentials-summary", classes="section-summary")
        table: DataTable = DataTable(id="credentials-table", cursor_type="row")
        table.add_columns("Name", "Key (masked)", "Last test", "Description")
        yield table

    def refresh_view(self) -> None:
        console = self.console
        environment = console.environment
        table = self.query_one(DataTable)
        table.clear()
        if environment is None:
            return
        for credential in environment.credentials.values():
            report = console.connections.get(credential.name)
            result = "testing…" if report is None else ("OK " if report.ok else "FAILED ") + report.summary
            table.add_row(credential.name, console.key_display(credential), result, credential.description,
                          key=credential.name)
        self.query_one("#credentials-summary", Static).update(
            f"Credentials in {environment.path.name}. Keys show masked with where they live; "
            "k sets one (typed, never echoed)."
        )

    def selected(self) -> Credential | None:
        environment = self.console.environment
        table = self.query_one(DataTable)
        if environment is None or table.row_count == 0:
            self.notify("No credential selected.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return environment.credentials.get(str(key))

    @mutating
    def action_add(self) -> None:
        self.console.open_credential_form(None)

    @mutating
    def action_set_key(self) -> None:
        credential = self.selected()
        if credential is not None:
            self.console.open_credential_form(credential)

    def action_test(self) -> None:
        credential = self.selected()
        if credential is not None:
            self.console.start_connection_test(credential.name)

    @mutating
    def action_remove(self) -> None:
        credential = self.selected()
        if credential is not None:
            self.console.remove_credential(credential.name)
