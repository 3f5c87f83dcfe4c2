"""Completion for a file path typed in an Input: the first directory entry that extends it."""
from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, prefix = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
        try:
            names = sorted(entry.name + (os.sep if entry.is_dir() else "")
                           for entry in os.scandir(folder) if entry.name.startswith(prefix))
        except OSError:
            return None
        visible = [name for name in names if not name.startswith(".") or prefix.startswith(".")]
        if not visible:
            return None
        return value + visible[0][len(prefix):]
