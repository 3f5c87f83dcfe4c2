"""What every command needs to know about where it runs and who runs it."""
from __future__ import annotations

import argparse
import getpass
from dataclasses import dataclass
from pathlib import Path

from tui.settings.paths import resolve_config_dir, resolve_data_dir, resolve_secrets_file


@dataclass(frozen=True)
class CliContext:
    config_dir: Path
    data_dir: Path
    secrets_file: Path
    operator: str
    read_only: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, operator: str | None = None) -> "CliContext":
        return cls(
            config_dir=resolve_config_dir(args.config),
            data_dir=resolve_data_dir(args.data_dir),
            secrets_file=resolve_secrets_file(args.secrets),
            operator=operator or getpass.getuser(),
            read_only=bool(args.read_only),
        )
