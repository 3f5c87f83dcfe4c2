"""Credentials of the current environment: masked key, last connection test and its result."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.binding import Binding

from tui.app.guard import mutating
from tui.app.sections.environment_table import EnvironmentTableSection
from tui.settings.model import Credential, Environment


class CredentialsSection(EnvironmentTableSection[Credential]):
    TITLE = "Credentials"
    KIND = "credential"
    COLUMNS = ("Name", "Key (masked)", "Last test", "Description")
    BINDINGS = [
        Binding("a", "add", "Add", id="credentials.add"),
        Binding("k", "set_key", "Set key", id="credentials.set_key"),
        Binding("t", "test", "Test", id="credentials.test"),
        Binding("d", "remove", "Remove", id="credentials.remove"),
    ]

    def items(self, environment: Environment) -> Mapping[str, Credential]:
        return environment.credentials

    def row(self, credential: Credential) -> Sequence[str]:
        report = self.console.connections.get(credential.name)
        result = "testing…" if report is None else ("OK " if report.ok else "FAILED ") + report.summary
        return credential.name, self.console.key_display(credential), result, credential.description

    def summary(self, environment: Environment) -> str:
        return (f"Credentials in {environment.path.name}. Keys show masked with where they live; "
                "k sets one (typed, never echoed).")

    @mutating
    def action_add(self) -> None:
        self.console.open_credential_form(None)

    @mutating
    def action_set_key(self) -> None:
        self.with_selected(self.console.open_credential_form)

    def action_test(self) -> None:
        self.with_selected(lambda credential: self.console.start_connection_test(credential.name))

    @mutating
    def action_remove(self) -> None:
        self.with_selected(lambda credential: self.console.remove_credential(credential.name))
