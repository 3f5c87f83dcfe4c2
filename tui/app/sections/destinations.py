"""Destinations of the current environment: credential, identifier, endpoint, last run, promotion."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.binding import Binding

from tui.app.guard import mutating
from tui.app.sections.environment_table import EnvironmentTableSection
from tui.settings.model import Destination, Environment


def promotion_state(destination: Destination, production: Environment | None) -> str:
    if production is None:
        return "?"
    promoted = production.destinations.get(destination.name)
    if promoted is None:
        return "no"
    return "yes" if promoted.config_hash() == destination.config_hash() else "differs"


class DestinationsSection(EnvironmentTableSection[Destination]):
    TITLE = "Destinations"
    KIND = "destination"
    COLUMNS = ("Name", "Credential", "Id", "Endpoint", "Last run", "In prod")
    BINDINGS = [
        Binding("a", "add", "Add", id="destinations.add"),
        Binding("e", "edit", "Edit", id="destinations.edit"),
        Binding("t", "test", "Test", id="destinations.test"),
        Binding("s", "send", "Send", id="destinations.send"),
        Binding("p", "promote", "Promote", id="destinations.promote"),
    ]

    def items(self, environment: Environment) -> Mapping[str, Destination]:
        return environment.destinations

    def row(self, destination: Destination) -> Sequence[str]:
        console = self.console
        in_production = ("-" if console.session.production
                         else promotion_state(destination, console.production_environment))
        return (destination.name, destination.credential, destination.primary_identifier, destination.endpoint,
                console.last_run_text(destination.name), in_production)

    def summary(self, environment: Environment) -> str:
        count = len(environment.destinations)
        return f"{count} destination{'s' if count != 1 else ''} in {environment.path.name}"

    @mutating
    def action_add(self) -> None:
        self.console.open_destination_form(None)

    @mutating
    def action_edit(self) -> None:
        self.with_selected(self.console.open_destination_form)

    def action_test(self) -> None:
        self.with_selected(lambda destination: self.console.start_connection_test(destination.credential))

    @mutating
    def action_send(self) -> None:
        self.with_selected(lambda destination: self.console.show_send(destination.name))

    def action_promote(self) -> None:
        self.with_selected(lambda destination: self.console.show_promotion(destination.name))
