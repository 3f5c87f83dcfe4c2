"""The app's configuration changes: the destination and credential forms, set key, remove. Each
change goes through the backend (the settings layer, as the CLI) in a worker; a refusal comes back
as a modal message with its reason, and a saved change reloads the environment."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tui.app.config_edits import KeyView
from tui.settings.changes import typed_key
from tui.app.forms.credential_form import CredentialForm, key_problem
from tui.app.forms.destination_form import DestinationForm
from tui.app.forms.prompt import PromptScreen, must_type
from tui.app.workers import run_blocking
from tui.settings.model import Credential, Destination

if TYPE_CHECKING:
    from tui.app.app import ConsoleApp


class ConfigActions:
    def saved(self: "ConsoleApp", summary: str | None) -> None:
        if summary:
            self.notify(summary, title="Saved", timeout=10)
            self.reload_environment()

    def open_destination_form(self: "ConsoleApp", destination: Destination | None) -> None:
        if self.environment is not None:
            self.push_screen(DestinationForm(self.environment, destination), self.saved)

    def open_credential_form(self: "ConsoleApp", credential: Credential | None) -> None:
        """No credential: the add form. A credential: set (or rotate) its key."""
        environment = self.environment
        if environment is None:
            return
        if credential is None:
            self.push_screen(CredentialForm(environment), self.saved)
            return
        backend, name = self.backend, credential.name

        def typed(text: str | None) -> None:
            if text:
                key = typed_key(text)
                self.notify(f"Testing the new key of {name}…")
                run_blocking(self, f"Set key of {name}",
                             lambda: backend.set_credential_key(environment, name, key), self.saved,
                             group="credential-key")

        self.push_screen(PromptScreen(
            f"Set the API key of {name} ({environment.name})",
            "Paste the key (it is not shown). It is tested with GET /v1/me, then stored in the\n"
            f"secrets file, never in {environment.path.name}.",
            password=True, check=key_problem), typed)

    def remove_credential(self: "ConsoleApp", name: str) -> None:
        environment = self.environment
        if environment is None:
            return
        backend = self.backend

        def confirmed(value: str | None) -> None:
            if value is not None:
                run_blocking(self, f"Remove {name}", lambda: backend.remove_credential(environment, name),
                             self.saved, group="credential-remove")

        def checked(refusal: str | None) -> None:
            if refusal:
                self.push_screen_message(f"Cannot remove {name}", refusal)
                return
            self.push_screen(PromptScreen(f"Remove credential {name} from {environment.path.name}",
                                          "Type the credential's name to remove it:", check=must_type(name)),
                             confirmed)

        # The settings layer's own refusal (in use, read-only, not an admin) before asking to confirm.
        run_blocking(self, f"Remove {name}", lambda: backend.removal_refusal(environment, name), checked,
                     group="credential-remove")

    def load_key_views(self: "ConsoleApp") -> None:
        environment = self.environment
        if environment is None:
            return
        backend = self.backend
        run_blocking(self, "Read keys",
                     lambda: {name: backend.key_view(environment, name) for name in environment.credentials},
                     self.show_key_views, group="key-views", exclusive=True)

    def show_key_views(self: "ConsoleApp", views: dict[str, KeyView]) -> None:
        self.key_views = views
        self.refresh_sections()

    def key_display(self: "ConsoleApp", credential: Credential) -> str:
        """The key masked, after where it lives; never the key."""
        view = self.key_views.get(credential.name)
        if view is None:
            return credential.api_key_ref
        return f"{view.masked} ({view.reference})" if view.masked else f"NOT SET ({view.reference})"
