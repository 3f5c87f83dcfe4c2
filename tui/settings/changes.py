"""Changing an environment's credentials and destinations: the one implementation behind
`attentive-console credentials|destinations ...` and the console's forms.

Every change takes the same steps whichever front end asks: refuse a read-only session before the
file is read, load the environment as it is on disk, check the operator may change it, validate the
file with the change before anything is tested or written, test the credential (a failed test
saves nothing), save through the store, and record the audit entry. An edit carries the definition
the operator started from: only the fields they changed are saved, over the file as it is by then; a
change made meanwhile to the same field is refused (store.EditConflict); the entry names the fields
that really changed. Front ends only read input and show the result. Refusals are SettingsErrors
saying what is wrong; a front end may add how to fix it in its own terms (a command to run, a key to
press). No message or result ever holds a key.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from tui.attentive.secret import ApiKey
from tui.settings.access import Operator
from tui.settings.audit import Actor, change_details, record
from tui.settings.connection import ConnectionResult, ConnectionTarget, check_connection, probe, resolve_base_url
from tui.settings.errors import SettingsError
from tui.settings.keyref import KeyRef, parse_key_ref
from tui.settings.ledger import Action, key_details
from tui.settings.loader import CREDENTIAL_TYPE, did_you_mean, load_environment
from tui.settings.model import ENVIRONMENTS, Credential, Destination, Environment, EnvironmentName
from tui.settings.secrets import SecretsFile, check_key_text, credential_of
from tui.settings.store import ConfigStore, EnvironmentFile

KeyReader = Callable[[], ApiKey]


class Workspace(Actor, Protocol):
    """Where the files are and who changes them (tui.core.workspace.Workspace, which the console's Session extends)."""

    @property
    def config_dir(self) -> Path: ...

    @property
    def secrets_file(self) -> Path: ...

    @property
    def read_only(self) -> bool: ...


class NotSaved(SettingsError):
    """The connection test failed, so nothing was written; `result` says why."""

    def __init__(self, result: ConnectionResult, tested: str):
        self.result = result
        super().__init__(f"{result.summary}\nNothing was saved: saving tests {tested} first.")


@dataclass(frozen=True)
class CredentialSaved:
    environment: Environment            # as loaded before the change (its path names the file)
    credential: Credential              # as saved
    key_masked: str | None              # the stored key, masked; None when the key is read from a variable
    tested: str                         # the connection test's summary; "" when it was skipped
    moved_from: KeyRef | None = None    # set-key: where the key was read from before it moved to the secrets file


@dataclass(frozen=True)
class CredentialRemoved:
    environment: Environment
    credential: Credential
    secret_removed: bool                # its key was deleted from the secrets file
    secret_kept: str = ""               # why a key nothing else may use was kept anyway


@dataclass(frozen=True)
class DestinationSaved:
    environment: Environment
    destination: Destination            # as saved: the operator's changes over the file's values
    before: Destination | None          # as in the file just before the save; None: the destination was added
    tested: str                         # the credential's connection test summary
    changed: tuple[str, ...]            # the fields really changed; empty: nothing needed saving

    @property
    def subscriptions_turned_on(self) -> bool:
        return self.destination.subscriptions and not (self.before is not None and self.before.subscriptions)


@dataclass(frozen=True)
class DestinationRemoved:
    environment: Environment
    destination: Destination


def open_for_change(where: Workspace, name: EnvironmentName, action: str) -> tuple[Environment, Operator]:
    """The environment as on disk, once its operator may change it. Read-only is refused before the
    file is read, so a broken file does not hide that refusal."""
    Operator(where.operator, False, False, where.read_only).require_writable(action)
    environment = load_environment(where.config_dir, name)
    operator = Operator.of(where.operator, environment.access, read_only=where.read_only)
    operator.require_change(name, action)
    return environment, operator


def new_credential(name: str, description: str, env_var: str | None) -> Credential:
    """A credential whose key is in the secrets file under its own name, or in `env_var` at run time."""
    return Credential(name, description, CREDENTIAL_TYPE, f"env:{env_var}" if env_var else f"secret:{name}")


def typed_key(text: str) -> ApiKey:
    """A key as typed or piped in, checked before anything is done with it."""
    return ApiKey(check_key_text(text))


# -- credentials -------------------------------------------------------------------------------------
def check_new_key(where: Workspace, environment: Environment, credential: str, key: ApiKey) -> str:
    """GET /v1/me with a key not stored yet: the summary, or NotSaved with the reason."""
    result = asyncio.run(probe(ConnectionTarget(credential, resolve_base_url(environment, where.data_dir), key,
                                                environment.name)))
    if not result.ok:
        raise NotSaved(result, "the new key")
    return result.summary


def add_credential(where: Workspace, name: EnvironmentName, credential: Credential,
                   read_key: KeyReader | None, *, test: bool = True) -> CredentialSaved:
    """`secret:NAME` credentials get their key from `read_key`, called only once the change is allowed
    (a prompt comes after any refusal) and tested before it is stored unless `test` is False.
    `env:VAR` credentials take no key: it is read from the variable at run time."""
    environment, _ = open_for_change(where, name, "credentials add")
    _validate(where, name, lambda file: file.edit_credential(None, credential))  # store.AlreadyExists among others
    ref = parse_key_ref(credential.api_key_ref, credential=credential.name, embedded=environment.embedded)
    if (ref.scheme == "secret") != (read_key is not None):
        raise SettingsError(f"credential {credential.name!r}: give a key to store in the secrets file, "
                            "or the environment variable that holds it, not both or neither")
    key = read_key() if read_key is not None else None
    tested = check_new_key(where, environment, credential.name, key) if key is not None and test else ""
    if key is not None:
        SecretsFile(where.secrets_file).set(ref.name, key.value)
    _save(where, name, lambda file: file.edit_credential(None, credential))
    details = key_details(key) if key is not None else {"key_source": credential.api_key_ref}
    record(where, Action.CREDENTIAL_ADDED, credential.name, environment=name, details=details,
           secrets=[key] if key is not None else [])
    return CredentialSaved(environment, credential, key.masked() if key is not None else None, tested)


def set_credential_key(where: Workspace, name: EnvironmentName, credential_name: str, read_key: KeyReader,
                       *, test: bool = True) -> CredentialSaved:
    """Set or rotate a key: tested (unless `test` is False), stored in the secrets file, and the
    credential pointed there when it read its key from elsewhere."""
    environment, _ = open_for_change(where, name, "credentials set-key")
    credential = credential_of(environment, credential_name)
    ref = parse_key_ref(credential.api_key_ref, credential=credential.name, embedded=environment.embedded)
    moved_from = None if ref.scheme == "secret" else ref
    secret_name = ref.name if moved_from is None else credential.name
    # A key read from elsewhere now lives in the secrets file, so the credential has to point there.
    moved = None if moved_from is None else dataclasses.replace(credential, api_key_ref=f"secret:{secret_name}")
    if moved is not None:
        _validate(where, name, lambda file: file.edit_credential(credential, moved))
    key = read_key()
    tested = check_new_key(where, environment, credential.name, key) if test else ""
    SecretsFile(where.secrets_file).set(secret_name, key.value)
    saved = credential
    if moved is not None:  # only the reference moves: a description changed meanwhile by someone else is kept
        saved = _save(where, name, lambda file: file.edit_credential(credential, moved)).after
    record(where, Action.CREDENTIAL_ROTATED, credential.name, environment=name, details=key_details(key),
           secrets=[key])
    return CredentialSaved(environment, saved, key.masked(), tested, moved_from)


def credential_removal_refusal(where: Workspace, name: EnvironmentName, credential_name: str) -> str | None:
    """Why removing the credential would be refused (in use, read-only, not an admin), or None."""
    try:
        open_for_change(where, name, "credentials remove")
        _validate(where, name, lambda file: file.remove_credential(credential_name))
    except SettingsError as error:
        return str(error)
    return None


def remove_credential(where: Workspace, name: EnvironmentName, credential_name: str) -> CredentialRemoved:
    """Refused (naming the destinations) while a destination uses it. Its key leaves the secrets file
    unless a credential of either environment still references it."""
    environment, _ = open_for_change(where, name, "credentials remove")
    credential = credential_of(environment, credential_name)
    _save(where, name, lambda file: file.remove_credential(credential_name))
    record(where, Action.CREDENTIAL_REMOVED, credential_name, environment=name)
    scheme, _, secret_name = credential.api_key_ref.partition(":")
    if scheme != "secret":
        return CredentialRemoved(environment, credential, False)
    kept = _secret_user(where, secret_name)
    if kept is not None:
        return CredentialRemoved(environment, credential, False, kept)
    return CredentialRemoved(environment, credential, SecretsFile(where.secrets_file).remove(secret_name))


def _secret_user(where: Workspace, secret_name: str) -> str | None:
    """None when no credential of either environment references the secret; else why it is kept
    ("" when another credential uses it, a reason when a file could not be read to check)."""
    for name in ENVIRONMENTS:
        try:
            environment = load_environment(where.config_dir, name)
        except SettingsError:
            return f"kept secret {secret_name!r}: {name}.toml could not be read to check that nothing uses it"
        if any(c.api_key_ref == f"secret:{secret_name}" for c in environment.credentials.values()):
            return ""
    return None


# -- destinations ------------------------------------------------------------------------------------
def destination_of(environment: Environment, name: str) -> Destination:
    destination = environment.destinations.get(name)
    if destination is None:
        guess = did_you_mean(name, environment.destinations)
        raise SettingsError(f"there is no destination {name!r} in {environment.path}"
                            + (f'; did you mean "{guess}"?' if guess else ""))
    return destination


def editable_destination(where: Workspace, name: EnvironmentName, destination_name: str,
                         action: str) -> tuple[Environment, Destination]:
    """The destination as on disk, once the operator may change the file and use the destination."""
    environment, operator = open_for_change(where, name, action)
    destination = destination_of(environment, destination_name)
    operator.require_destination(destination, action)
    return environment, destination


def check_destination(where: Workspace, name: EnvironmentName, destination: Destination) -> None:
    """InvalidChange listing every problem the file would have with this destination in it."""
    _validate(where, name, lambda file: file.upsert_destination(destination))


def save_destination(where: Workspace, name: EnvironmentName, destination: Destination, *,
                     before: Destination | None) -> DestinationSaved:
    """Add (`before` None) or edit a destination: `before` is the definition the operator started
    from, `destination` theirs. Access checks, the file validated with the change, the credential
    tested (NotSaved when it fails), then the fields the operator changed saved over the destination
    as the file has it by then (store.EditConflict when someone changed the same field, or removed or
    added the destination, meanwhile) and recorded with the fields that really changed."""
    adding = before is None
    action = "destinations add" if adding else "destinations edit"
    environment, operator = open_for_change(where, name, action)
    for current in filter(None, (before, environment.destinations.get(destination.name))):
        operator.require_destination(current, action)  # as the operator saw it, and as it is now
    reference = before or Destination(destination.name, "", destination.credential, destination.primary_identifier)
    if (reference.admin_only, reference.allow_restricted_pii) != (destination.admin_only,
                                                                 destination.allow_restricted_pii):
        operator.require_admin(f"{action}: changing who may use a destination")
    # Validate the whole file with the change before spending a connection test on it.
    candidate = _validate(where, name, lambda file: file.edit_destination(before, destination)).after
    result = check_connection(environment, candidate.credential, secrets_file=where.secrets_file,
                              data_dir=where.data_dir)
    if not result.ok:
        raise NotSaved(result, "the credential")
    edited = _save(where, name, lambda file: file.edit_destination(before, destination))
    if edited.changed:
        record(where, Action.DESTINATION_ADDED if adding else Action.DESTINATION_EDITED, destination.name,
               environment=name, details=change_details(edited.after, edited.before or reference, adding))
    return DestinationSaved(environment, edited.after, edited.before, result.summary, edited.changed)


def remove_destination(where: Workspace, name: EnvironmentName, destination_name: str) -> DestinationRemoved:
    environment, destination = editable_destination(where, name, destination_name, "destinations remove")
    _save(where, name, lambda file: file.remove_destination(destination_name))
    record(where, Action.DESTINATION_REMOVED, destination_name, environment=name)
    return DestinationRemoved(environment, destination)


# -- the file ----------------------------------------------------------------------------------------
Result = TypeVar("Result")


def _validate(where: Workspace, name: EnvironmentName, edit: Callable[[EnvironmentFile], Result]) -> Result:
    """Applies the edit to a copy that is never saved: InvalidChange when the file would be invalid."""
    return edit(EnvironmentFile.open(where.config_dir, name))


def _save(where: Workspace, name: EnvironmentName, edit: Callable[[EnvironmentFile], Result]) -> Result:
    """Applies the edit to the file as it is under its lock, and saves it."""
    with ConfigStore(where.config_dir).editing(name) as file:
        return edit(file)
