"""Read-only mode: one mark on each mutating action decides the footer, the palette, the command
bar and the action itself, so no mutating path is left open."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from textual.notifications import SeverityLevel

MARK = "mutating"
READ_ONLY_REFUSAL = "The console is read-only: changes are refused."


class ReadOnlyNode(Protocol):
    """A widget with mutating actions: it knows (from its construction) whether the console is read-only."""

    @property
    def read_only(self) -> bool: ...

    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...


N = TypeVar("N", bound=ReadOnlyNode)
P = ParamSpec("P")


def mutating(method: Callable[Concatenate[N, P], None]) -> Callable[Concatenate[N, P], None]:
    """Mark an action as a change; in read-only mode it is hidden and, if reached anyway, refused."""

    @functools.wraps(method)
    def guarded(node: N, /, *args: P.args, **kwargs: P.kwargs) -> None:
        if node.read_only:
            node.notify(READ_ONLY_REFUSAL, severity="warning")
            return
        method(node, *args, **kwargs)

    setattr(guarded, MARK, True)
    return guarded


def is_mutating(node: object, action: str) -> bool:
    return bool(getattr(getattr(node, f"action_{action}", None), MARK, False))


def action_allowed(node: object, action: str, *, read_only: bool) -> bool:
    """A widget's check_action: its mutating actions are hidden from the footer when read-only."""
    return not (read_only and is_mutating(node, action))
