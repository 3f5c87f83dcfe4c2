"""A modal's line of keys, built from the screen's bindings as console.toml left them, so a remapped
key shows where the operator reads it (and in the footer's spelling: `^s`, `esc`); a binding with
several keys shows them all (`esc/q closes`)."""
from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Static

Hint = str | tuple[str, str]  # words as they are, or (binding id, what its key does)


class KeyHints(Static):
    DEFAULT_CLASSES = "modal-hint"

    def __init__(self, *hints: Hint) -> None:
        super().__init__("", markup=False)
        self.hints: Sequence[Hint] = hints

    def on_mount(self) -> None:
        self.update(self.text())

    def text(self) -> str:
        keys: dict[str, list[str]] = {}
        for active in self.screen.active_bindings.values():
            if active.binding.id:
                shown = keys.setdefault(active.binding.id, [])
                display = self.app.get_key_display(active.binding)
                if display not in shown:
                    shown.append(display)
        parts = []
        for hint in self.hints:
            if isinstance(hint, str):
                parts.append(hint)
            elif hint[0] in keys:  # a key not usable here is not offered
                parts.append(f"{'/'.join(keys[hint[0]])} {hint[1]}")
        return "   ".join(parts)
