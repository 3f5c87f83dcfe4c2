"""Destination and credential edits for the console: thin callers of tui.settings.changes, the same
steps, access checks, connection tests and audit entries as `attentive-console destinations|credentials ...`.

No Textual here: the methods block (file locks, connection tests) and run in thread workers. Every
refusal is a SettingsError whose message says what to do; no message ever holds a key.
"""
from __future__ import annotations

from dataclasses import dataclass

from tui.app.session import Session
from tui.attentive.secret import ApiKey
from tui.settings import changes
from tui.settings.access import Operator
from tui.settings.errors import ConfigError, SettingsError
from tui.settings.model import Credential, Destination, Environment, EnvironmentName
from tui.settings.secrets import resolve_api_key


@dataclass(frozen=True)
class KeyView:
    """How a credential's key is shown: where it lives, and the key masked (never the key)."""
    reference: str          # "secret:attentive", "env:VAR", "demo:sandbox"
    masked: str | None      # "****a1b2", or None when it cannot be resolved
    problem: str = ""       # why it cannot be resolved, with what to do


class ConfigEdits:
    """The editing half of the core backend (backend.core.CoreBackend)."""

    session: Session

    def operator(self, environment: Environment) -> Operator:
        return self.session.operator_in(environment)

    # -- credentials -------------------------------------------------------------------------
    def key_view(self, environment: Environment, credential: str) -> KeyView:
        reference = environment.credentials[credential].api_key_ref
        try:
            key = resolve_api_key(environment, credential, self.session.secrets_file)
        except SettingsError as error:
            return KeyView(reference, None, str(error))
        return KeyView(reference, key.masked())

    def add_credential(self, environment: Environment, credential: Credential, key: ApiKey | None) -> str:
        """With a key: test it, store it in the secrets file, point the credential at it. Without:
        the credential reads the variable its reference names (`env:VAR`) at run time."""
        saved = changes.add_credential(self.session, environment.name, credential,
                                       None if key is None else lambda: key)
        stored = (f"key {saved.key_masked} stored in {self.session.secrets_file}" if saved.key_masked
                  else f"its key is read from {credential.api_key_ref}")
        return f"Added credential {credential.name!r} to {environment.path.name}; {stored}. {saved.tested}".strip()

    def set_credential_key(self, environment: Environment, name: str, key: ApiKey) -> str:
        """Test the new key, store it, and point the credential at the secrets file if it was not."""
        saved = changes.set_credential_key(self.session, environment.name, name, lambda: key)
        return f"Key {saved.key_masked} stored for {name!r} in {self.session.secrets_file}. {saved.tested}"

    def removal_refusal(self, environment: Environment, name: str) -> str | None:
        """Why removing the credential would be refused (in use, read-only, not an admin), or None."""
        return changes.credential_removal_refusal(self.session, environment.name, name)

    def remove_credential(self, environment: Environment, name: str) -> str:
        """Refused (SettingsError naming the destinations) while a destination uses it."""
        removed = changes.remove_credential(self.session, environment.name, name)
        text = f"Removed credential {name!r} from {environment.path.name}."
        if removed.secret_removed:
            text += f" Its key was removed from {self.session.secrets_file}."
        return text + (f" ({removed.secret_kept})" if removed.secret_kept else "")

    # -- destinations ------------------------------------------------------------------------
    def destination_problems(self, environment: EnvironmentName, destination: Destination) -> list[str]:
        """What the settings layer would refuse in the file with this destination in it (none: [])."""
        try:
            changes.check_destination(self.session, environment, destination)
        except ConfigError as error:
            return [f"{problem.message} ({problem.fix})" for problem in error.problems]
        return []

    def save_destination(self, environment: Environment, before: Destination | None,
                         destination: Destination) -> str:
        """`destinations add|edit`: checks, validates, tests the credential, then saves the fields the
        operator changed since `before` (what the form opened with) and records them. A change made on
        disk meanwhile to another field is kept; one to the same field is refused (store.EditConflict)."""
        saved = changes.save_destination(self.session, environment.name, destination, before=before)
        if not saved.changed:
            return f"Nothing to save: {environment.path.name} already has these values of {destination.name!r}."
        changed = "" if before is None else f"changed: {', '.join(saved.changed)}; "
        return (f"Saved {destination.name!r} in {environment.path.name} ({changed}"
                f"config hash {saved.destination.config_hash()[:12]}). {saved.tested}")
