"""An API key that never prints itself."""
from __future__ import annotations

from dataclasses import dataclass, field


def mask(value: str) -> str:
    """Show only the last four characters, as the console and CLI do everywhere."""
    if len(value) <= 4:
        return "****"
    return "****" + value[-4:]


@dataclass(frozen=True)
class ApiKey:
    """Holds a bearer key. repr/str are masked so it cannot leak through logs or tracebacks."""

    value: str = field(repr=False)

    def masked(self) -> str:
        return mask(self.value)

    def authorization(self) -> str:
        return f"Bearer {self.value}"

    def __repr__(self) -> str:
        return f"ApiKey({self.masked()})"

    __str__ = __repr__
