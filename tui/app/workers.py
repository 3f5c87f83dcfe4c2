"""What every thread worker of the console shares (`@work(thread=True)` methods that call the
backend): a failure becomes a WorkFailed message with a one-line reason instead of an exception that
would end the app, and a worker a newer request replaced (an exclusive group) posts nothing."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from tui.app.messages import WorkFailed


def describe_error(error: BaseException) -> str:
    """A one-line reason for the operator. Core errors already say what to do; anything else is a
    bug, shown by type and message (never a traceback, and the core never puts secrets in errors)."""
    text = str(error).strip()
    if type(error).__module__.startswith("tui."):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def post_result(node: MessagePump, message: Message) -> None:
    """From a worker's thread: post to `node` unless a newer request in the group replaced this worker."""
    if not get_current_worker().is_cancelled:
        node.post_message(message)


@contextmanager
def reported(node: MessagePump, title: str, failed: type[WorkFailed] = WorkFailed) -> Iterator[None]:
    """A worker's body: an error in it is posted to `node` as `failed(title, reason)`."""
    try:
        yield
    except Exception as error:  # a worker failure must never end the app
        post_result(node, failed(title, describe_error(error)))
