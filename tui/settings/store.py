"""Editing an environment file: the one API the CLI, the console and promotion write through.

Edits merge key by key into the tomlkit document, so comments and layout survive; each edit is
validated as a whole file before it is accepted. Saving is atomic, leaves an unedited file
byte-identical, refuses to overwrite a file that changed on disk since it was loaded, and takes a
lock beside the file so two writers cannot lose an update.

An operator's edit (`edit_destination`, `edit_credential`) carries the definition it started from:
only the fields the operator changed are applied to the file as it is now, so a change someone else
saved meanwhile to another field survives. The same field changed on both sides differently, or the
definition removed (or added) meanwhile, is an EditConflict showing the other side's values.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeAlias, TypeVar, cast

import tomlkit
from tomlkit.container import Container
from tomlkit.items import InlineTable, Item, Table

from tui.settings import model
from tui.settings.atomic import atomic_write, locked
from tui.settings.destination_rules import KIND_TABLES
from tui.settings.errors import ConfigError, ConflictError, InvalidChange, SettingsError
from tui.settings.loader import environment_path, parse_environment, read_config_text
from tui.settings.model import Credential, Destination, Environment, EnvironmentName

_MAPPINGS = ("identifiers", "attributes", "constants", "types", "custom_identifiers", *KIND_TABLES)
# Fields kept inside a mapping table in the file: client_user_id is a key of [identifiers].
_NESTED = {"client_user_id": "identifiers"}
# Written even when they hold the default, so a new destination reads completely in the file.
_ALWAYS_WRITTEN = ("description", "credential", "primary_identifier", "endpoint", "admin_only",
                   "allow_restricted_pii", "verbose_logging", "phone_region", "rejection_threshold")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Destination) if f.default is not dataclasses.MISSING}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


Definition = TypeVar("Definition", bound="Destination | Credential")


@dataclass(frozen=True)
class FieldConflict:
    field: str          # the file's key, dotted inside the table: rate_limit, attributes."Loyalty Tier"
    on_disk: str        # the value in the file now, as TOML; "(unset)" when the file has none
    yours: str


class EditConflict(SettingsError):
    """The definition changed on disk since the edit started, in a way the edit cannot be merged into
    (the same field changed differently, or the definition removed or added); nothing was written."""

    def __init__(self, summary: str, conflicts: Sequence[FieldConflict], fix: str):
        self.conflicts = tuple(conflicts)
        self.fix = fix
        lines = [summary, *(f"  {c.field}: on disk {c.on_disk}, yours {c.yours}" for c in self.conflicts)]
        super().__init__("\n".join(lines) + f"\n({fix})")


class AlreadyExists(EditConflict):
    """An add naming a credential or destination the file has (maybe added since the add started)."""


@dataclass(frozen=True)
class Edited(Generic[Definition]):
    before: Definition | None       # as in the file when the edit was applied; None: added
    after: Definition               # as saved: the file's values with the operator's changes on top
    changed: tuple[str, ...]        # the fields that really changed in the file (empty: nothing to save)


class EnvironmentFile:
    """One environment file opened for editing: its typed view plus the document it came from."""

    def __init__(self, path: Path, name: EnvironmentName, text: str):
        self.path, self.name = path, name
        self.environment: Environment = parse_environment(text, path=path, name=name)
        self._doc = tomlkit.parse(text)
        self._loaded_digest = _digest(text)
        self._lock_held = False

    @classmethod
    def open(cls, config_dir: Path, name: EnvironmentName) -> EnvironmentFile:
        path = environment_path(config_dir, name)
        return cls(path, name, read_config_text(path))

    @property
    def text(self) -> str:
        return self._doc.as_string()

    @property
    def changed(self) -> bool:
        return _digest(self.text) != self._loaded_digest

    # -- edits ----------------------------------------------------------------------------------
    def upsert_destination(self, destination: Destination) -> None:
        self._edit(lambda doc: _merge_destination(_section(doc, "destinations"), destination))

    def remove_destination(self, name: str) -> None:
        if name not in self.environment.destinations:
            raise SettingsError(f"{self.path}: there is no destination {name!r} to remove")
        self._edit(lambda doc: doc["destinations"].__delitem__(name))

    def upsert_credential(self, credential: Credential) -> None:
        fields = {"description": credential.description, "type": credential.type, "api_key": credential.api_key_ref}
        self._edit(lambda doc: _merge_table(_section(doc, "credentials"), credential.name, fields))

    def remove_credential(self, name: str) -> None:
        if name not in self.environment.credentials:
            raise SettingsError(f"{self.path}: there is no credential {name!r} to remove")
        users = sorted(d.name for d in self.environment.destinations.values() if d.credential == name)
        if users:
            raise SettingsError(
                f"credential {name!r} is used by destination(s) {', '.join(users)} in {self.path}; "
                "remove them or point them at another credential first"
            )
        self._edit(lambda doc: doc["credentials"].__delitem__(name))

    def edit_destination(self, base: Destination | None, mine: Destination) -> Edited[Destination]:
        """The operator changed `base` (None: a new destination) into `mine`: their changes, applied
        to the destination as the file has it now. EditConflict when they cannot be."""
        edited = _merge("destination", self.path, base, mine, self.environment.destinations.get(mine.name))
        if edited.changed:
            self.upsert_destination(edited.after)
        return edited

    def edit_credential(self, base: Credential | None, mine: Credential) -> Edited[Credential]:
        """As edit_destination, for a credential."""
        edited = _merge("credential", self.path, base, mine, self.environment.credentials.get(mine.name))
        if edited.changed:
            self.upsert_credential(edited.after)
        return edited

    def _edit(self, change: Callable[[tomlkit.TOMLDocument], None]) -> None:
        """Applies `change` to a copy and keeps it only if the whole file still validates."""
        candidate = tomlkit.parse(self.text)
        change(candidate)
        try:
            self.environment = parse_environment(candidate.as_string(), path=self.path, name=self.name)
        except ConfigError as err:
            raise InvalidChange(err.problems) from None
        self._doc = candidate

    # -- saving ---------------------------------------------------------------------------------
    def save(self) -> bool:
        """Writes the edits; False when there were none (the file is not touched at all)."""
        text = self.text
        digest = _digest(text)
        if digest == self._loaded_digest:
            return False
        with contextlib.nullcontext() if self._lock_held else locked(self.path):
            try:
                on_disk = read_config_text(self.path)
            except SettingsError:
                on_disk = None
            if on_disk is None or _digest(on_disk) != self._loaded_digest:
                raise ConflictError(self.path, text)
            atomic_write(self.path, text.encode("utf-8"))
        self._loaded_digest = digest
        return True


class ConfigStore:
    """The environment files of one config directory."""

    def __init__(self, config_dir: Path):
        self.config_dir = config_dir

    def load(self, name: EnvironmentName) -> tuple[Environment, EnvironmentFile]:
        handle = EnvironmentFile.open(self.config_dir, name)
        return handle.environment, handle

    @contextlib.contextmanager
    def editing(self, name: EnvironmentName) -> Iterator[EnvironmentFile]:
        """Load, edit and save under the file's lock, so concurrent editors queue instead of
        conflicting. Saves when the block ends without an exception."""
        with locked(environment_path(self.config_dir, name)):
            handle = EnvironmentFile.open(self.config_dir, name)
            handle._lock_held = True
            yield handle
            handle.save()


# -- merging an operator's edit with the file as it is now --------------------------------------------
_ABSENT: Any = object()                 # a field (or a mapping's key) the definition does not set
_FILE_KEYS = {"api_key_ref": "api_key", "client_user_id": "identifiers.client_user_id"}  # named otherwise in the file
FieldPath: TypeAlias = tuple[str, str | None]   # (field, key inside a mapping field or None)


def _merge(kind: str, path: Path, base: Definition | None, mine: Definition,
           theirs: Definition | None) -> Edited[Definition]:
    """Three-way, field by field (each key of a mapping on its own): a field the operator left as it
    was in `base` takes the file's value (`theirs`); one they changed takes theirs unless the file
    changed it too, to something else: a conflict."""
    if base is None:
        if theirs is not None:
            differences = _conflicts(theirs, mine)
            raise AlreadyExists(f"{kind} {mine.name!r} already exists in {path}"
                                + ("; how it differs from yours:" if differences else ", the same as yours"),
                                differences, f"nothing was written: edit the existing {kind} instead")
        return Edited(None, mine, tuple(_label(field) for field in _fields(mine)))
    if theirs is None:
        raise EditConflict(f"{kind} {mine.name!r} was removed from {path} after your edit started (by another "
                           "operator, a command or an editor); it is not added back", (),
                           "nothing was written: add it again if it should still exist")
    old, new, now = _fields(base), _fields(mine), _fields(theirs)
    merged: dict[FieldPath, Any] = {}
    conflicts: list[FieldConflict] = []
    for field in dict.fromkeys([*now, *new, *old]):  # the file's order, then what the operator added
        was, yours, on_disk = (values.get(field, _ABSENT) for values in (old, new, now))
        if _equal(yours, was) or _equal(yours, on_disk):
            value = on_disk
        elif _equal(on_disk, was):
            value = yours
        else:
            conflicts.append(FieldConflict(_label(field), _literal(on_disk), _literal(yours)))
            continue
        if value is not _ABSENT:
            merged[field] = value
    if conflicts:
        raise EditConflict(f"{kind} {mine.name!r} in {path} was changed on disk after your edit started, "
                           "in the field(s) you changed too:", conflicts,
                           f"nothing was written: open the {kind} again as it is now, and make your change on "
                           "top of it")
    after = _rebuild(mine, merged)
    return Edited(theirs, after, tuple(_label(field) for field in _differing(theirs, after)))


def _fields(definition: Destination | Credential) -> dict[FieldPath, Any]:
    fields: dict[FieldPath, Any] = {}
    for spec in dataclasses.fields(definition):
        value = getattr(definition, spec.name)
        if spec.name == "name" or value is None:
            continue
        if isinstance(value, dict):
            fields.update({(spec.name, key): item for key, item in value.items()})
        else:
            fields[(spec.name, None)] = value
    return fields


def _rebuild(like: Definition, fields: dict[FieldPath, Any]) -> Definition:
    """`like` with every field from `fields`: a field (or mapping key) not there is unset."""
    values: dict[str, Any] = {spec.name: {} if isinstance(getattr(like, spec.name), dict) else None
                              for spec in dataclasses.fields(like) if spec.name != "name"}
    for (name, key), value in fields.items():
        if key is None:
            values[name] = value
        else:
            values[name][key] = value
    return dataclasses.replace(like, **values)


def _differing(one: Definition, other: Definition) -> list[FieldPath]:
    a, b = _fields(one), _fields(other)
    return [field for field in dict.fromkeys([*a, *b])
            if not _equal(a.get(field, _ABSENT), b.get(field, _ABSENT))]


def _conflicts(theirs: Definition, mine: Definition) -> list[FieldConflict]:
    on_disk, yours = _fields(theirs), _fields(mine)
    return [FieldConflict(_label(field), _literal(on_disk.get(field, _ABSENT)), _literal(yours.get(field, _ABSENT)))
            for field in _differing(theirs, mine)]


def _equal(a: Any, b: Any) -> bool:
    # True == 1 in Python; a flag and a number are never the same value in the file.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _label(field: FieldPath) -> str:
    name, key = field
    name = _FILE_KEYS.get(name, name)
    return name if key is None else f"{name}.{tomlkit.key(key).as_string()}"


def _literal(value: Any) -> str:
    if isinstance(value, (model.EventMapping, model.SubscriptionMapping, model.SegmentFileMapping,
                          model.SegmentMapping)):  # a kind's table (KIND_TABLES), compared whole
        value = value.table()
    return "(unset)" if value is _ABSENT else tomlkit.item(value).as_string()


# -- merging into the tomlkit document -------------------------------------------------------------
def _section(doc: tomlkit.TOMLDocument, name: str) -> Any:
    if name not in doc:
        # A super table renders only its children's headers ([destinations.x]), not [destinations].
        doc[name] = tomlkit.table(is_super_table=True)
    return doc[name]


def _destination_fields(destination: Destination) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in (f.name for f in dataclasses.fields(Destination)):
        if key in ("name", *_MAPPINGS, *_NESTED):
            continue
        # A kind in KIND_ENDPOINTS decides its endpoint: the file never names it.
        value = None if key == "endpoint" and destination.kind in model.KIND_ENDPOINTS else getattr(destination, key)
        if isinstance(value, float) and value.is_integer() and key == "rate_limit":
            value = int(value)
        fields[key] = value
    return fields


def _merge_destination(section: Any, destination: Destination) -> None:
    _merge_table(section, destination.name, _destination_fields(destination))
    table = section[destination.name]
    for mapping in _MAPPINGS:
        # A kind's table ([event], [segment], ...) is written key by key like a mapping, only the keys it sets.
        value = getattr(destination, mapping)
        wanted: dict[str, Any] = (value.table() if value else {}) if mapping in KIND_TABLES else dict(value)
        wanted.update({key: getattr(destination, key) for key, inside in _NESTED.items()
                       if inside == mapping and getattr(destination, key) is not None})
        if mapping not in table:
            if not wanted:
                continue
            # Inline or dotted-key tables cannot hold a [header] table; an inline one fits both.
            table[mapping] = tomlkit.table() if isinstance(table, Table) else tomlkit.inline_table()
        current = table[mapping]
        for key in [k for k in current if k not in wanted]:
            del current[key]
        for key, column in wanted.items():
            _set(current, key, column)


def _merge_table(section: Any, name: str, fields: dict[str, Any]) -> None:
    if name in section:
        table = section[name]
        for key, value in fields.items():
            if value is None:
                if key in table:
                    del table[key]
            elif key in table or value != _DEFAULTS.get(key, ""):
                # A field the file leaves to its default stays unwritten until it differs.
                _set(table, key, value)
        return
    table = tomlkit.table()
    for key, value in fields.items():
        if value is not None and (key in _ALWAYS_WRITTEN or value != _DEFAULTS.get(key, "")):
            table[key] = value
    table.add(tomlkit.nl())  # a blank line before whatever follows it
    section[name] = table


def _same(old: Any, new: Any) -> bool:
    old = old.unwrap() if hasattr(old, "unwrap") else old
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return old == new


def _set(table: Any, key: str, value: Any) -> None:
    if not isinstance(table, (Table, InlineTable)):
        # A table spread over dotted keys (tomlkit hands out a proxy): plain assignment is all it takes.
        if key not in table or not _same(table[key], value):
            table[key] = value
        return
    container: Container = table.value
    if key in table:
        old = _value_item(container, key)
        if _same(old, value):
            return
        old_width, old_ws = len(old.as_string()), old.trivia.comment_ws
        table[key] = value
        new = _value_item(container, key)
        if new.trivia.comment:
            # Keep the trailing comment in its column when the value's width changes.
            new.trivia.comment_ws = " " * max(1, len(old_ws) + old_width - len(new.as_string()))
        return
    after = _last_key_value(container)
    if isinstance(table, Table) and after is not None and after + 1 < len(container.body):
        # Right after the table's last key, not after trailing comments that introduce the next
        # table (plain assignment appends there). tomlkit has no public insert; `_insert_at` is in
        # every version we allow (`_insert_after` is gone since 0.15.3).
        container._insert_at(after + 1, key, value)
    else:
        table[key] = value


def _value_item(container: Container, key: str) -> Item:
    # Container.item returns an OutOfOrderTableProxy only for a sub-table declared in several pieces.
    # The keys _set writes hold scalars: the document parsed (the loader rejects a table there) and
    # _set has just assigned a scalar, so the item is always a plain Item.
    return cast(Item, container.item(key))


def _last_key_value(container: Container) -> int | None:
    """The place in the container's body of its last key holding a value (not a table)."""
    for place in range(len(container.body) - 1, -1, -1):
        key, item = container.body[place]
        if key is not None and not isinstance(item, Table):
            return place
    return None
