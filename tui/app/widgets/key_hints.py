"""A modal's line of keys, built from the screen's bindings as console.toml left them, so a remapped
key shows where the operator reads it (and in the footer's spelling: `^s`, `esc`)."""
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
        bindings = {active.binding.id: active.binding for active in self.screen.active_bindings.values()}
        parts = []
        for hint in self.hints:
            if isinstance(hint, str):
                parts.append(hint)
            elif (binding := bindings.get(hint[0])) is not None:  # a key not usable here is not offered
                parts.append(f"{self.app.get_key_display(binding)} {hint[1]}")
        return "   ".join(parts)
