"""What promoting a destination would change in production: field by field and as unified text.

`diff_written` is the diff a promotion shows: production.toml as read against the text the write
produces (the store's `upsert_destination` over that same text, see tui.core.promotion), so it shows
exactly the lines that will be written and no field the write leaves out (a default such as
`subscriptions = false` is not written into a new table). `diff_destination` compares two definitions
field by field, for an audit entry or a plan with no file text to write into.

A destination holds no secret (its credential is a name), so the diff shows the credential by name
and nothing else about it.
"""
from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass, fields
from typing import Any

import tomlkit

from tui.settings.destination_rules import KIND_TABLES
from tui.settings.model import Destination

_TABLES = ("identifiers", "attributes", "constants", "types")
CONTEXT_LINES = 2   # of the file around each change: enough to place it, few enough for 80x24


@dataclass(frozen=True)
class FieldChange:
    field: str                  # TOML dotted key inside the destination's table: `attributes."Loyalty Tier"`
    production: str | None      # TOML literal, None when production does not set it
    sandbox: str | None

    @property
    def kind(self) -> str:
        if self.production is None:
            return "added"
        if self.sandbox is None:
            return "removed"
        return "changed"


@dataclass(frozen=True)
class DestinationDiff:
    destination: str
    new_in_production: bool
    changes: tuple[FieldChange, ...]
    unified: str                # unified text diff: production.toml -> as the promotion writes it
    sha256: str                 # of `unified`: the ledger records it, the operator can compare it

    @property
    def unchanged(self) -> bool:
        return not self.changes


def destination_table(destination: Destination) -> dict[str, Any]:
    """The destination as it is written in an environment file: unset optional fields are left out,
    and the name is the table's key, not a field."""
    table: dict[str, Any] = {}
    for spec in fields(destination):
        value = getattr(destination, spec.name)
        if spec.name == "name" or value is None:
            continue
        if spec.name in _TABLES:
            if value:
                table[spec.name] = dict(value)
            continue
        table[spec.name] = value.table() if spec.name in KIND_TABLES else value
    return table


def _flatten(table: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            for key, inner in value.items():
                flat[f"{name}.{tomlkit.key(key).as_string()}"] = tomlkit.item(inner).as_string()
        else:
            flat[tomlkit.key(name).as_string()] = tomlkit.item(value).as_string()
    return flat


def _render(name: str, table: dict[str, Any] | None) -> list[str]:
    if table is None:
        return []
    return tomlkit.dumps({"destinations": {name: table}}).splitlines(keepends=True)


def diff_destination(sandbox: Destination, production: Destination | None) -> DestinationDiff:
    """Sandbox's definition against production's (or against nothing: new in production)."""
    new_table = destination_table(sandbox)
    old_table = destination_table(production) if production is not None else None
    new_flat, old_flat = _flatten(new_table), _flatten(old_table or {})
    ordered = list(new_flat) + [key for key in old_flat if key not in new_flat]
    changes = tuple(
        FieldChange(key, old_flat.get(key), new_flat.get(key))
        for key in ordered
        if old_flat.get(key) != new_flat.get(key)
    )
    unified = "".join(difflib.unified_diff(
        _render(sandbox.name, old_table),
        _render(sandbox.name, new_table),
        fromfile=f"production.toml [destinations.{sandbox.name}]" + ("" if production else " (absent)"),
        tofile=f"sandbox.toml [destinations.{sandbox.name}]",
    ))
    digest = hashlib.sha256(unified.encode()).hexdigest()
    return DestinationDiff(sandbox.name, production is None, changes, unified, digest)


def _file_table(text: str, name: str) -> dict[str, Any] | None:
    destinations = tomllib.loads(text).get("destinations", {})
    table = destinations.get(name) if isinstance(destinations, dict) else None
    return table if isinstance(table, dict) else None


def diff_written(name: str, before: str, after: str, *, file_name: str = "production.toml") -> DestinationDiff:
    """What writing destination `name` changes in a file: `before` is its text as read, `after` the
    text the write produces. The fields are those of the destination's table in either text, so what
    the write leaves out is never listed; the unified diff is of the whole file, as it will be saved."""
    old_table, new_table = _file_table(before, name), _file_table(after, name)
    new_flat, old_flat = _flatten(new_table or {}), _flatten(old_table or {})
    ordered = list(new_flat) + [key for key in old_flat if key not in new_flat]
    changes = tuple(
        FieldChange(key, old_flat.get(key), new_flat.get(key))
        for key in ordered
        if old_flat.get(key) != new_flat.get(key)
    )
    lines = list(difflib.unified_diff(
        before.splitlines(), after.splitlines(), n=CONTEXT_LINES, lineterm="",
        fromfile=file_name + ("" if old_table is not None else f" (no [destinations.{name}])"),
        tofile=f"{file_name} (promoted)",
    ))
    unified = "".join(line + "\n" for line in lines)
    digest = hashlib.sha256(unified.encode()).hexdigest()
    return DestinationDiff(name, old_table is None, changes, unified, digest)
