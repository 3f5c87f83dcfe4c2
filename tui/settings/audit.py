"""Writing the audit ledger on behalf of whoever made a change: the CLI, the console and the settings
changes all record through `record`, so an entry looks the same whichever front end made it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tui.attentive.secret import ApiKey
from tui.settings.ledger import Action, Ledger, LedgerEntry
from tui.settings.model import Destination
from tui.settings.paths import history_path
from tui.settings.promotion_diff import diff_destination


class Actor(Protocol):
    """Who acts and where their history lives (a core Workspace)."""

    @property
    def operator(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...


def record(actor: Actor, action: Action, subject: str, *, environment: str | None = None,
           details: Mapping[str, Any] | None = None, secrets: Iterable[ApiKey] = ()) -> LedgerEntry:
    """The one line a change adds after it is made: an audit entry by the operator who made it.
    Raises LedgerError (a SettingsError) when the entry cannot be written."""
    return Ledger(history_path(actor.data_dir)).append(
        action, operator=actor.operator, environment=environment, subject=subject, details=details, secrets=secrets)


def change_details(destination: Destination, before: Destination, new: bool) -> dict[str, Any]:
    """What a destination.added/edited entry says: the definition's hash and, for an edit, the fields changed."""
    details: dict[str, Any] = {"config_hash": destination.config_hash(), "credential": destination.credential}
    if not new:
        details["changed"] = [change.field for change in diff_destination(destination, before).changes]
    return details
