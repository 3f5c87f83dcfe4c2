"""The Workspace every command runs in, from the flags (and the login running the command)."""
from __future__ import annotations

import argparse
import getpass

from tui.core.workspace import Workspace
from tui.settings.paths import resolve_config_dir, resolve_data_dir, resolve_secrets_file


def workspace_from_args(args: argparse.Namespace, *, operator: str | None = None) -> Workspace:
    return Workspace(
        config_dir=resolve_config_dir(args.config),
        data_dir=resolve_data_dir(args.data_dir),
        secrets_file=resolve_secrets_file(args.secrets),
        operator=operator or getpass.getuser(),
        read_only=bool(args.read_only),
    )
