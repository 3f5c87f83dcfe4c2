"""Every Attentive response, classified into one typed outcome."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class OutcomeKind(str, Enum):
    """What an answer means for the request. UNKNOWN is the one kind a repeat would make wrong:

    UNKNOWN (send-once requests only: POST /v1/events/..., counted once per arrival with no
    documented de-duplication; and POST /v1/subscriptions and /v1/subscriptions/unsubscribe, which
    text a TEXT subscriber again when repeated): the request left this machine and no answer proves
    what became of it, so it may have arrived and been acted on. That is a 5xx (or 408), a timeout after the
    connection opened, or a connection dropped before the answer. The client does not repeat it;
    whoever sends decides (never on its own: only on the operator's word). A 429 or a connection that
    never opened is provably not received: those are retried and, when retries run out, RETRYABLE.
    """

    ACCEPTED = "accepted"    # 200/202
    REJECTED = "rejected"    # 400/404: this request's fault; do not retry
    RETRYABLE = "retryable"  # 429, 5xx, timeouts, connection errors (after the client's own retries ran out)
    FATAL = "fatal"          # 401/403: stops the whole run
    UNKNOWN = "unknown"      # a send-once request that may have arrived: not repeated (see above)


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
