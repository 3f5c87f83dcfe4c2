"""Destinations of the current environment: credential, identifier, endpoint, last run, promotion.
a and e open the destination form; t, s and p ask the app (a connection test, Send, Promotion)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.binding import Binding

from tui.app.forms.destination_form import DestinationForm
from tui.app.messages import ConnectionTestRequested, DestinationPicked
from tui.app.read_only import mutating
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
        view = self.view
        in_production = "-" if view.session.production else promotion_state(destination, view.production)
        return (destination.name, destination.credential, destination.primary_identifier, destination.endpoint,
                view.last_run_text(destination.name), in_production)

    def summary(self, environment: Environment) -> str:
        count = len(environment.destinations)
        return f"{count} destination{'s' if count != 1 else ''} in {environment.path.name}"

    def open_form(self, destination: Destination | None) -> None:
        """The form saves through the backend itself and posts ConfigSaved."""
        if self.view.environment is not None:
            self.app.push_screen(DestinationForm(self.view.environment, destination, self.backend))

    @mutating
    def action_add(self) -> None:
        self.open_form(None)

    @mutating
    def action_edit(self) -> None:
        if (destination := self.selected()) is not None:
            self.open_form(destination)

    def action_test(self) -> None:
        if (destination := self.selected()) is not None:
            self.post_message(ConnectionTestRequested(destination.credential))

    @mutating
    def action_send(self) -> None:
        if (destination := self.selected()) is not None:
            self.post_message(DestinationPicked(destination.name, "send"))

    def action_promote(self) -> None:
        if (destination := self.selected()) is not None:
            self.post_message(DestinationPicked(destination.name, "promotion"))
