"""Credentials of the current environment: masked key, last connection test and its result. a opens
the credential form, e sets (edits) a key, D removes one (a capital: it deletes); each change goes
through the backend (the settings layer, as the CLI) in a worker and posts ConfigSaved, or its refusal
as a modal message. `k` is the list's cursor up, as on every list."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from textual import on, work
from textual.binding import Binding

from tui.app.forms.credential_form import CredentialForm, key_problem
from tui.app.messages import ConfigSaved, ConnectionTestRequested, RemovalChecked
from tui.app.read_only import mutating
from tui.app.screens.message import MessageScreen
from tui.app.screens.prompt import PromptScreen, must_type
from tui.app.sections.environment_table import EnvironmentTableSection
from tui.app.workers import post_result, reported
from tui.attentive.secret import ApiKey
from tui.settings.changes import typed_key
from tui.settings.model import Credential, Environment


class CredentialsSection(EnvironmentTableSection[Credential]):
    TITLE = "Credentials"
    KIND = "credential"
    COLUMNS = ("Name", "Key (masked)", "Last test", "Description")
    BINDINGS = [
        Binding("a", "add", "Add", id="credentials.add"),
        Binding("e", "set_key", "Set key", id="credentials.set_key"),
        Binding("t", "test", "Test", id="credentials.test"),
        Binding("D", "remove", "Remove", id="credentials.remove"),
    ]

    def items(self, environment: Environment) -> Mapping[str, Credential]:
        return environment.credentials

    def row(self, credential: Credential) -> Sequence[str]:
        report = self.view.connections.get(credential.name)
        result = "testing…" if report is None else ("OK " if report.ok else "FAILED ") + report.summary
        return credential.name, self.view.key_display(credential), result, credential.description

    def summary(self, environment: Environment) -> str:
        return (f"Credentials in {environment.path.name}. Keys show masked with where they live; "
                "e sets one (typed, never echoed).")

    @mutating
    def action_add(self) -> None:
        if self.view.environment is not None:
            self.app.push_screen(CredentialForm(self.view.environment, self.backend))

    def action_test(self) -> None:
        if (credential := self.selected()) is not None:
            self.post_message(ConnectionTestRequested(credential.name))

    # -- e: set (or rotate) a key ------------------------------------------------------------------

    @mutating
    def action_set_key(self) -> None:
        credential = self.selected()
        environment = self.view.environment
        if credential is None or environment is None:
            return
        self.app.push_screen(PromptScreen(
            f"Set the API key of {credential.name} ({environment.name})",
            "Paste the key (it is not shown). It is tested with GET /v1/me, then stored in the\n"
            f"secrets file, never in {environment.path.name}.",
            password=True, check=key_problem), partial(self.key_typed, environment, credential.name))

    def key_typed(self, environment: Environment, name: str, text: str | None) -> None:
        if text:
            key = typed_key(text)
            self.notify(f"Testing the new key of {name}…")
            self.store_key(environment, name, key)

    @work(thread=True, name="Set key", group="credential-key", exit_on_error=False)
    def store_key(self, environment: Environment, name: str, key: ApiKey) -> None:
        with reported(self, f"Set key of {name}"):
            post_result(self, ConfigSaved(self.backend.set_credential_key(environment, name, key)))

    # -- D: remove, after the settings layer's own refusal and a typed confirmation ---------------------

    @mutating
    def action_remove(self) -> None:
        credential = self.selected()
        if credential is not None and self.view.environment is not None:
            self.check_removal(self.view.environment, credential.name)

    @work(thread=True, name="Check removal", group="credential-remove", exit_on_error=False)
    def check_removal(self, environment: Environment, name: str) -> None:
        """In use, read-only, not an admin: refused before the operator is asked to confirm."""
        with reported(self, f"Remove {name}"):
            post_result(self, RemovalChecked(environment, name, self.backend.removal_refusal(environment, name)))

    @on(RemovalChecked)
    def removal_checked(self, message: RemovalChecked) -> None:
        name, environment = message.credential, message.environment
        if message.refusal:
            self.app.push_screen(MessageScreen(f"Cannot remove {name}", message.refusal))
            return
        self.app.push_screen(PromptScreen(f"Remove credential {name} from {environment.path.name}",
                                          "Type the credential's name to remove it:", check=must_type(name)),
                             partial(self.removal_confirmed, environment, name))

    def removal_confirmed(self, environment: Environment, name: str, value: str | None) -> None:
        if value is not None:
            self.remove_credential(environment, name)

    @work(thread=True, name="Remove credential", group="credential-remove", exit_on_error=False)
    def remove_credential(self, environment: Environment, name: str) -> None:
        with reported(self, f"Remove {name}"):
            post_result(self, ConfigSaved(self.backend.remove_credential(environment, name)))
