"""Destinations of the current environment: credential, identifier, endpoint, last run, promotion."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui.app.guard import mutating
from tui.app.sections.base import Section
from tui.settings.model import Destination, Environment


def promotion_state(destination: Destination, production: Environment | None) -> str:
    if production is None:
        return "?"
    promoted = production.destinations.get(destination.name)
    if promoted is None:
        return "no"
    return "yes" if promoted.config_hash() == destination.config_hash() else "differs"


class DestinationsSection(Section):
    TITLE = "Destinations"
    BINDINGS = [
        Binding("a", "add", "Add", id="destinations.add"),
        Binding("e", "edit", "Edit", id="destinations.edit"),
        Binding("t", "test", "Test", id="destinations.test"),
        Binding("s", "send", "Send", id="destinations.send"),
        Binding("p", "promote", "Promote", id="destinations.promote"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="destinations-summary", classes="section-summary")
        table: DataTable = DataTable(id="destinations-table", cursor_type="row", zebra_stripes=False)
        table.add_columns("Name", "Credential", "Id", "Endpoint", "Last run", "In prod")
        yield table

    def refresh_view(self) -> None:
        console = self.console
        environment = console.environment
        table = self.query_one(DataTable)
        table.clear()
        if environment is None:
            return
        production = console.production_environment
        for destination in environment.destinations.values():
            table.add_row(
                destination.name,
                destination.credential,
                destination.primary_identifier,
                destination.endpoint,
                console.last_run_text(destination.name),
                promotion_state(destination, production) if not console.session.production else "-",
                key=destination.name,
            )
        count = len(environment.destinations)
        summary = f"{count} destination{'s' if count != 1 else ''} in {environment.path.name}"
        self.query_one("#destinations-summary", Static).update(summary)

    def selected(self) -> Destination | None:
        environment = self.console.environment
        table = self.query_one(DataTable)
        if environment is None or table.row_count == 0:
            self.notify("No destination selected.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return environment.destinations.get(str(key))

    @mutating
    def action_add(self) -> None:
        self.console.open_destination_form(None)

    @mutating
    def action_edit(self) -> None:
        destination = self.selected()
        if destination is not None:
            self.console.open_destination_form(destination)

    def action_test(self) -> None:
        destination = self.selected()
        if destination is not None:
            self.console.start_connection_test(destination.credential)

    @mutating
    def action_send(self) -> None:
        destination = self.selected()
        if destination is not None:
            self.console.show_send(destination.name)

    def action_promote(self) -> None:
        destination = self.selected()
        if destination is not None:
            self.console.show_promotion(destination.name)
