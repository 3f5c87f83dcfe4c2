"""What promoting a destination would change in production: field by field and as unified text.

A destination holds no secret (its credential is a name), so the diff shows the credential by name
and nothing else about it.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, fields
from typing import Any

import tomlkit

from tui.settings.model import Destination

_TABLES = ("identifiers", "attributes")


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
    unified: str                # unified text diff of the destination's table, production -> sandbox
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
        table[spec.name] = value
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
