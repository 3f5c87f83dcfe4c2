"""Read-only mode: one mark on each mutating action decides the footer, the palette, the command
bar and the action itself, so no mutating path is left open."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode

F = TypeVar("F", bound=Callable[..., Any])


def mutating(method: F) -> F:
    """Mark an action as a change; in read-only mode it is hidden and, if reached anyway, refused."""

    @functools.wraps(method)
    def guarded(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
        if self.app.session.read_only:
            self.app.notify("The console is read-only: changes are refused.", severity="warning")
            return None
        return method(self, *args, **kwargs)

    guarded.mutating = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def is_mutating(node: DOMNode, action: str) -> bool:
    return bool(getattr(getattr(node, f"action_{action}", None), "mutating", False))


class ReadOnlyAware:
    """Mixin for widgets and screens: hides mutating actions from the footer when read-only."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.app.session.read_only and is_mutating(self, action):  # type: ignore[attr-defined]
            return False
        return True
