"""Every Attentive response, classified into one typed outcome."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class OutcomeKind(str, Enum):
    ACCEPTED = "accepted"    # 200/202
    REJECTED = "rejected"    # 400/404: this request's fault; do not retry
    RETRYABLE = "retryable"  # 429, 5xx, timeouts, connection errors (after the client's own retries ran out)
    FATAL = "fatal"          # 401/403: stops the whole run


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    status: int | None = None          # HTTP status; None for timeouts and connection errors
    text: str = ""                     # raw response text or error description; never parsed for shape
    data: Any = field(default=None, compare=False)  # parsed JSON body on success, when there is one
    permission: str | None = None      # 403: the permission the endpoint needs ("Custom Attributes")
    retry_after: float | None = None   # seconds, from Retry-After when present
    ratelimit_remaining: int | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED


class FatalAttentiveError(Exception):
    """Raised by callers that cannot continue: bad key (401) or missing permission (403)."""

    def __init__(self, outcome: Outcome, message: str):
        super().__init__(message)
        self.outcome = outcome
