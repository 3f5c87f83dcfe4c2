"""Who runs the console, where, and with which rights: the core's Workspace plus the environment the
console shows, fixed for the app's lifetime."""
from __future__ import annotations

from dataclasses import dataclass

from tui.core.workspace import Workspace
from tui.settings.model import EnvironmentName


@dataclass(frozen=True, kw_only=True)
class Session(Workspace):
    environment: EnvironmentName

    @property
    def production(self) -> bool:
        return self.environment == "production"
