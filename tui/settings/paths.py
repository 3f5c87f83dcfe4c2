"""Where the config, the data and the secrets live."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "attentive-console"
ENV_FILES = ("sandbox.toml", "production.toml")
HISTORY_FILE = "history.sqlite3"   # the send history and the audit ledger, one SQLite file


def resolve_config_dir(flag: str | None, *, cwd: Path | None = None) -> Path:
    """--config DIR > $ATTENTIVE_CONSOLE_CONFIG > ./config when it holds the environment files >
    the user config directory."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get("ATTENTIVE_CONSOLE_CONFIG")
    if env:
        return Path(env).expanduser()
    local = (cwd or Path.cwd()) / "config"
    if any((local / name).is_file() for name in ENV_FILES):
        return local
    return Path(platformdirs.user_config_dir(APP_NAME))


def resolve_data_dir(flag: str | None) -> Path:
    """--data-dir DIR > $ATTENTIVE_CONSOLE_DATA > the user data directory."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get("ATTENTIVE_CONSOLE_DATA")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def resolve_secrets_file(flag: str | None) -> Path:
    """--secrets FILE > secrets.toml in the user config directory (never the project's config folder)."""
    if flag:
        return Path(flag).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "secrets.toml"


def history_path(data_dir: Path) -> Path:
    return Path(data_dir) / HISTORY_FILE
