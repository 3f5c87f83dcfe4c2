"""An exception that escapes a handler becomes a modal message, not the end of the console.

Textual ends the app on an unhandled exception in a message handler, an action or a callback. The
console's widgets and screens derive from `ErrorGuard` (their handlers), the app guards its own
handlers, every action and screen-result callback, and the traceback goes to `console-errors.log`
in the data directory (0600), so a bug can be reported while the operator carries on.
"""
from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from tui.app.messages import UnexpectedError
from tui.app.workers import describe_error

ERROR_LOG = "console-errors.log"


def write_error_log(data_dir: Path, error: BaseException) -> Path | None:
    """Append the traceback; None when the data directory cannot take it (the modal still shows)."""
    path = data_dir / ERROR_LOG
    text = "".join(traceback.format_exception(error))
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n{text}")
    except OSError:
        return None
    return path


class ErrorGuard(MessagePump):
    """Base of the console's widgets and screens (before the Textual class): a failing handler is
    reported to the app as UnexpectedError, and this widget's message loop goes on."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # noqa: BLE001 - this is the last stop before a crash
            self.app.post_message(UnexpectedError(error))


def guard_callback(report: Callable[[Exception], object], callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A screen-result callback that reports its failure instead of raising into Textual."""

    async def guarded(result: Any) -> None:
        try:
            outcome = callback(result)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as error:  # noqa: BLE001
            report(error)

    return guarded


def unexpected_text(error: Exception, log: Path | None) -> str:
    where = f"The traceback is in {log}." if log else "The traceback could not be written to the data directory."
    return (f"{describe_error(error)}\n\nThis is a bug in the console, not in your data. The console is still "
            f"running: close this and carry on. {where}")
