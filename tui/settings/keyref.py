"""The `api_key` reference of a credential: where the key lives, never the key itself."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tui.settings.errors import SettingsError
from tui.settings.model import ENVIRONMENTS

Scheme = Literal["secret", "env", "demo"]
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class KeyRef:
    scheme: Scheme
    name: str          # secret name, environment variable, or demo environment

    def __str__(self) -> str:
        return f"{self.scheme}:{self.name}"


class KeyRefError(SettingsError):
    """Why a reference is unusable; the message never repeats the value (it may be a pasted key)."""

    def __init__(self, message: str, fix: str):
        self.fix = fix
        super().__init__(message)


def parse_key_ref(ref: str, *, credential: str, embedded: bool) -> KeyRef:
    scheme, sep, name = ref.partition(":")
    how = f'write api_key = "secret:{credential}" and store the key with `attentive-console credentials set-key {credential}`'
    if not sep or scheme not in ("secret", "env", "demo"):
        raise KeyRefError(
            "api_key must say where the key is kept (secret:NAME, env:VAR or, for the embedded simulator, demo:ENV), "
            "not hold the key itself",
            how,
        )
    if scheme == "secret" and not NAME_PATTERN.match(name):
        raise KeyRefError("secret name after 'secret:' must be letters, digits, '.', '_' or '-'", how)
    if scheme == "env" and not _ENV_VAR.match(name):
        raise KeyRefError(
            "environment variable after 'env:' must be letters, digits and '_', not starting with a digit",
            'write e.g. api_key = "env:ATTENTIVE_SANDBOX_KEY"',
        )
    if scheme == "demo":
        if not embedded:
            raise KeyRefError(
                'demo keys only work with api_url = "embedded" (the built-in simulator)',
                how,
            )
        if name not in ENVIRONMENTS:
            raise KeyRefError(
                "unknown demo key",
                f"use one of: {', '.join('demo:' + e for e in ENVIRONMENTS)}",
            )
    return KeyRef(scheme, name)  # type: ignore[arg-type]
