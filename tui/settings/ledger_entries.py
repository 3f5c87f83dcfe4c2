"""What an audit ledger entry is: its action and its fields (tui.settings.ledger writes and checks them)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Action(str, Enum):
    CREDENTIAL_ADDED = "credential.added"
    CREDENTIAL_ROTATED = "credential.rotated"
    CREDENTIAL_REMOVED = "credential.removed"
    DESTINATION_ADDED = "destination.added"
    DESTINATION_EDITED = "destination.edited"
    DESTINATION_REMOVED = "destination.removed"
    SEND_STARTED = "send.started"
    SEND_FINISHED = "send.finished"
    PROMOTION_PENDING = "promotion.pending"        # production.toml is about to be written
    PROMOTION = "promotion"                        # ... and was: details.pending_seq names the entry above
    PROMOTION_ABANDONED = "promotion.abandoned"    # a pending promotion found not to have been written
    REJECTIONS_EXPORTED = "rejections.exported"
    PII_REVEALED = "pii.revealed"


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: str                 # UTC, ISO 8601
    operator: str
    environment: str        # "" when the action belongs to no environment
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "operator": self.operator,
            "environment": self.environment, "action": self.action, "subject": self.subject,
            "details": self.details, "prev_hash": self.prev_hash, "hash": self.hash,
        }
