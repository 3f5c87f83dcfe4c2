"""The `[keys]` table of console.toml in the config directory: binding id -> key(s).

Read with tomllib once at start. A broken file never stops the console: its problems are returned
for the app to show, and the defaults stay.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONSOLE_FILE = "console.toml"


@dataclass(frozen=True)
class KeymapLoad:
    keys: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def load_keymap(config_dir: Path, known_ids: set[str]) -> KeymapLoad:
    path = config_dir / CONSOLE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeymapLoad()
    except OSError as error:
        return KeymapLoad(problems=(f"{path}: cannot read ({error.strerror}); default keys kept",))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return KeymapLoad(problems=(f"{path}: {error}; fix the file, default keys kept",))
    table = document.get("keys", {})
    if not isinstance(table, dict):
        return KeymapLoad(problems=(f"{path}: [keys] must be a table of binding id = \"key\"",))
    keys: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, key in table.items():
        if binding_id not in known_ids:
            problems.append(f"{path}: [keys] {binding_id!r} is not a binding id (press ? to list them)")
        elif not isinstance(key, str) or not key.strip():
            problems.append(f"{path}: [keys] {binding_id} must be a key string such as \"ctrl+r\"")
        else:
            keys[binding_id] = key.strip()
    return KeymapLoad(keys=keys, problems=tuple(problems))
