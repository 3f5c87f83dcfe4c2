"""Who runs the console, where, and with which rights: fixed for the app's lifetime."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.settings.model import EnvironmentName


@dataclass(frozen=True)
class Session:
    environment: EnvironmentName
    operator: str
    config_dir: Path
    data_dir: Path
    secrets_file: Path
    read_only: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"
