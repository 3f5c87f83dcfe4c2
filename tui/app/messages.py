"""Typed messages that workers post to the app (Harlequin's pattern: the core stays Textual-free,
blocking work runs in workers, and its results come back as messages)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.sync.jobs import FollowProgress
from tui.sync.progress import Progress


@dataclass
class ConnectionChecked(Message):
    """A connection test finished (ok or not); `summary` is what the operator reads."""
    credential: str
    ok: bool
    summary: str


@dataclass
class WorkFailed(Message):
    """A worker caught an error; the app shows it and keeps running."""
    title: str
    detail: str


@dataclass
class RunProgressed(Message):
    progress: Progress


@dataclass
class JobsFollowed(Message):
    """A round of following the environment's bulk jobs: its progress, or the error that stopped it."""
    progress: FollowProgress | None
    problem: str | None
