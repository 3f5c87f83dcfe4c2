"""Destination and credential edits for the console, through the same settings calls, access checks,
connection tests and audit entries as `attentive-console destinations|credentials ...`.

No Textual here: the methods block (file locks, connection tests) and run in thread workers. Every
refusal is a SettingsError whose message says what to do; no message ever holds a key.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui.app.session import Session
from tui.attentive.secret import ApiKey
from tui.cli.context import CliContext
from tui.cli.ledger_cmd import change_details, record
from tui.settings.access import Operator
from tui.settings.connection import ConnectionTarget, check_connection, probe, resolve_base_url
from tui.settings.errors import ConfigError, SettingsError
from tui.settings.keyref import parse_key_ref
from tui.settings.ledger import Action, key_details
from tui.settings.loader import CREDENTIAL_TYPE, load_environment
from tui.settings.model import ENVIRONMENTS, Credential, Destination, Environment, EnvironmentName
from tui.settings.secrets import SecretsFile, check_key_text, credential_of, resolve_api_key
from tui.settings.store import ConfigStore, EnvironmentFile


class NotSaved(SettingsError):
    """A save that stopped before writing anything (most often: the connection test failed)."""


@dataclass(frozen=True)
class KeyView:
    """How a credential's key is shown: where it lives, and the key masked (never the key)."""
    reference: str          # "secret:attentive", "env:VAR", "demo:sandbox"
    masked: str | None      # "****a1b2", or None when it cannot be resolved
    problem: str = ""       # why it cannot be resolved, with what to do


class ConfigEdits:
    """The editing half of the core backend (core_backend.CoreBackend)."""

    session: Session

    @property
    def context(self) -> CliContext:
        session = self.session
        return CliContext(session.config_dir, session.data_dir, session.secrets_file, session.operator,
                          session.read_only)

    def operator(self, environment: Environment) -> Operator:
        return Operator.of(self.session.operator, environment.access, read_only=self.session.read_only)

    # -- credentials -------------------------------------------------------------------------
    def key_view(self, environment: Environment, credential: str) -> KeyView:
        reference = environment.credentials[credential].api_key_ref
        try:
            key = resolve_api_key(environment, credential, self.context.secrets_file)
        except SettingsError as error:
            return KeyView(reference, None, str(error))
        return KeyView(reference, key.masked())

    def test_key(self, environment: Environment, credential: str, key: ApiKey) -> str:
        """GET /v1/me with a key not yet stored; raises NotSaved with the reason when it fails."""
        target = ConnectionTarget(credential, resolve_base_url(environment, self.context.data_dir), key)
        result = asyncio.run(probe(target))
        if not result.ok:
            raise NotSaved(f"{result.summary}\nNothing was saved.")
        return result.summary

    def add_credential(self, environment: Environment, credential: Credential, key: ApiKey | None) -> str:
        """With a key: test it, store it in the secrets file, point the credential at it. Without:
        the credential reads the variable its reference names (`env:VAR`) at run time."""
        name = environment.name
        self.operator(environment).require_change(name, "credentials add")
        if credential.name in environment.credentials:
            raise SettingsError(f"credential {credential.name!r} already exists in {environment.path}; "
                                "select it and set its key with k")
        parse_key_ref(credential.api_key_ref, credential=credential.name, embedded=environment.embedded)
        # Validate the file with the change before testing a key or writing a secret.
        EnvironmentFile.open(self.context.config_dir, name).upsert_credential(credential)
        summary = ""
        if key is not None:
            summary = self.test_key(environment, credential.name, key)
            SecretsFile(self.context.secrets_file).set(credential.api_key_ref.partition(":")[2], key.value)
        with ConfigStore(self.context.config_dir).editing(name) as handle:
            handle.upsert_credential(credential)
        details = key_details(key) if key is not None else {"key_source": credential.api_key_ref}
        record(self.context, Action.CREDENTIAL_ADDED, credential.name, environment=name, details=details,
               secrets=[key] if key is not None else [])
        stored = (f"key {key.masked()} stored in {self.context.secrets_file}" if key is not None
                  else f"its key is read from {credential.api_key_ref}")
        return f"Added credential {credential.name!r} to {environment.path.name}; {stored}. {summary}".strip()

    def set_credential_key(self, environment: Environment, name: str, key: ApiKey) -> str:
        """Test the new key, store it, and point the credential at the secrets file if it was not."""
        self.operator(environment).require_change(environment.name, "credentials set-key")
        credential = credential_of(environment, name)
        ref = parse_key_ref(credential.api_key_ref, credential=name, embedded=environment.embedded)
        summary = self.test_key(environment, name, key)
        secret_name = ref.name if ref.scheme == "secret" else name
        SecretsFile(self.context.secrets_file).set(secret_name, key.value)
        if ref.scheme != "secret":
            with ConfigStore(self.context.config_dir).editing(environment.name) as handle:
                handle.upsert_credential(Credential(name, credential.description, credential.type,
                                                    f"secret:{secret_name}"))
        record(self.context, Action.CREDENTIAL_ROTATED, name, environment=environment.name,
               details=key_details(key), secrets=[key])
        return f"Key {key.masked()} stored for {name!r} in {self.context.secrets_file}. {summary}"

    def removal_refusal(self, environment: Environment, name: str) -> str | None:
        """Why removing the credential would be refused (in use, read-only, not an admin), or None."""
        try:
            self.operator(environment).require_change(environment.name, "credentials remove")
            EnvironmentFile.open(self.context.config_dir, environment.name).remove_credential(name)
        except SettingsError as error:
            return str(error)
        return None

    def remove_credential(self, environment: Environment, name: str) -> str:
        """Refused (SettingsError naming the destinations) while a destination uses it."""
        self.operator(environment).require_change(environment.name, "credentials remove")
        credential = credential_of(environment, name)
        with ConfigStore(self.context.config_dir).editing(environment.name) as handle:
            handle.remove_credential(name)
        record(self.context, Action.CREDENTIAL_REMOVED, name, environment=environment.name)
        text = f"Removed credential {name!r} from {environment.path.name}."
        if credential.api_key_ref.startswith("secret:") and self._secret_unused(credential.api_key_ref):
            if SecretsFile(self.context.secrets_file).remove(credential.api_key_ref.partition(":")[2]):
                text += f" Its key was removed from {self.context.secrets_file}."
        return text

    def _secret_unused(self, reference: str) -> bool:
        """Whether no credential of either environment still references the secret (an unreadable
        file counts as a user: the secret is kept)."""
        for name in ENVIRONMENTS:
            try:
                environment = load_environment(self.context.config_dir, name)
            except SettingsError:
                return False
            if any(c.api_key_ref == reference for c in environment.credentials.values()):
                return False
        return True

    # -- destinations ------------------------------------------------------------------------
    def destination_problems(self, environment: EnvironmentName, destination: Destination) -> list[str]:
        """What the settings layer would refuse in the file with this destination in it (none: [])."""
        try:
            EnvironmentFile.open(self.context.config_dir, environment).upsert_destination(destination)
        except ConfigError as error:
            return [f"{problem.message} ({problem.fix})" for problem in error.problems]
        return []

    def save_destination(self, environment: Environment, before: Destination | None,
                         destination: Destination) -> str:
        """`destinations add|edit`: checks, validates, tests the credential, then saves and records."""
        adding = before is None
        action = "destinations add" if adding else "destinations edit"
        operator = self.operator(environment)
        operator.require_change(environment.name, action)
        if adding and destination.name in environment.destinations:
            raise SettingsError(f"destination {destination.name!r} already exists in {environment.path}; "
                                "choose another name or edit that one")
        if before is not None:
            operator.require_destination(before, action)
        reference = before or Destination(destination.name, "", destination.credential,
                                           destination.primary_identifier)
        if ((reference.admin_only, reference.allow_restricted_pii)
                != (destination.admin_only, destination.allow_restricted_pii)):
            operator.require_admin(f"{action}: changing who may use a destination")
        EnvironmentFile.open(self.context.config_dir, environment.name).upsert_destination(destination)
        result = check_connection(environment, destination.credential, secrets_file=self.context.secrets_file,
                                  data_dir=self.context.data_dir)
        if not result.ok:
            raise NotSaved(f"{result.summary}\nNothing was saved: saving tests the credential first.")
        with ConfigStore(self.context.config_dir).editing(environment.name) as handle:
            handle.upsert_destination(destination)
        record(self.context, Action.DESTINATION_ADDED if adding else Action.DESTINATION_EDITED,
               destination.name, environment=environment.name,
               details=change_details(destination, reference, adding))
        return (f"Saved {destination.name!r} in {environment.path.name} "
                f"(config hash {destination.config_hash()[:12]}). {result.summary}")


def new_credential(name: str, description: str, env_var: str) -> Credential:
    """The credential the add form describes: its key in the secrets file, or in `env_var`."""
    reference = f"env:{env_var}" if env_var else f"secret:{name}"
    return Credential(name, description, CREDENTIAL_TYPE, reference)


def typed_key(text: str) -> ApiKey:
    """A key typed into the console, checked as the CLI checks a pasted one."""
    return ApiKey(check_key_text(text))
