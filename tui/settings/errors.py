"""Errors the settings layer raises; each carries what to do about it, never a secret."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SettingsError(Exception):
    """Base of every settings failure the CLI turns into exit 2 and the console into a message."""


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    column: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message} ({self.fix})"


class ConfigError(SettingsError):
    """An environment file that cannot be used; lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InvalidChange(ConfigError):
    """An edit that would make the file invalid; nothing was changed. Lines refer to the file as
    it would have been after the edit."""

    header = "the change was not made, it would leave the file with problems (lines as they would be after it):"


class ConflictError(SettingsError):
    """The file changed on disk since it was loaded; the edit was not written."""

    def __init__(self, path: Path, pending_text: str):
        self.path = path
        # What we would have written, so a caller can show or re-apply it; the on-disk file is untouched.
        self.pending_text = pending_text
        super().__init__(
            f"{path} changed on disk since it was loaded (another operator or an editor saved it); "
            "your change was not written and the file on disk is untouched. "
            "Reload it and apply your change again."
        )


class SecretsError(SettingsError):
    """A secret that cannot be read or resolved. The message names the credential, never the key."""

    def __init__(self, message: str, fix: str):
        self.fix = fix
        super().__init__(f"{message} ({fix})")


class AccessDenied(SettingsError):
    """The operator may not do this (admin-only destination, restricted PII, read-only)."""
