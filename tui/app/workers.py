"""Run blocking core calls in thread workers; results come back on the UI thread, failures become
a WorkFailed message instead of an exception that would end the app."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from tui.app.messages import WorkFailed

T = TypeVar("T")


def describe_error(error: BaseException) -> str:
    """A one-line reason for the operator. Core errors already say what to do; anything else is a
    bug, shown by type and message (never a traceback, and the core never puts secrets in errors)."""
    text = str(error).strip()
    if type(error).__module__.startswith("tui."):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_blocking(
    node: DOMNode,
    title: str,
    call: Callable[[], T],
    then: Callable[[T], Any],
    *,
    failed: Callable[[], Any] | None = None,
    group: str = "default",
    exclusive: bool = False,
) -> Worker[None]:
    """Run `call` in a thread; `then(result)` runs on the UI thread. `exclusive` cancels the group's
    earlier worker, so the newest request wins (filters typed quickly). `failed()` runs on the UI
    thread after a failure has been reported."""
    app = node.app

    def work() -> None:
        try:
            result = call()
        except Exception as error:  # a worker failure must never end the app
            if not get_current_worker().is_cancelled:
                app.post_message(WorkFailed(title, describe_error(error)))
                if failed is not None:
                    app.call_from_thread(failed)
            return
        if not get_current_worker().is_cancelled:  # a newer request in the group replaced this one
            try:
                app.call_from_thread(then, result)
            except Exception as error:  # the UI-side step failed: report it, never kill the app
                app.call_from_thread(app.show_unexpected, error)

    return node.run_worker(work, name=title, group=group, exclusive=exclusive, thread=True,
                           exit_on_error=False)
