"""Subscription rows: one source row -> a subscribe or an unsubscribe (`SubscriptionRecord`), nothing
(an empty consent), or a rejection (`profiles.Invalid`). Pure: no network, no history.

- The user is the destination's primary identifier, normalised as for profiles; it decides the
  channel (email -> EMAIL, phone -> TEXT), as Attentive's spec says each reaches its own.
- Consent: true/false from JSON Lines or Parquet, or text: true, yes, y, 1 subscribe; false, no, n,
  0 unsubscribe (any case, trimmed); empty means no change. Anything else rejects the row
  (`consent_invalid`): a typo must not unsubscribe anyone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.settings.model import Destination, SubscriptionMapping
from tui.sync import reasons
from tui.sync.events import ColumnReader, RowProblem
from tui.sync.profiles import Invalid
from tui.sync.source_files import SourceRow

SUBSCRIBE, UNSUBSCRIBE = "subscribe", "unsubscribe"
_YES = frozenset({"true", "yes", "y", "1"})
_NO = frozenset({"false", "no", "n", "0"})
CHANNELS = {"email": "EMAIL", "phone": "TEXT"}


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    row: int
    action: str          # SUBSCRIBE | UNSUBSCRIBE
    identifier: str      # normalised
    kind: str            # "email" | "phone"

    @property
    def channel(self) -> str:
        return CHANNELS[self.kind]

    @property
    def key(self) -> tuple[str, ...]:
        return (self.action, self.channel, self.identifier)

    def user(self) -> dict[str, str]:
        return {self.kind: self.identifier}


class SubscriptionBuilder:
    """Builds the subscribes and unsubscribes of one destination (kind "subscription")."""

    def __init__(self, destination: Destination):
        if destination.kind != "subscription" or destination.subscription is None:
            raise ValueError(f"destination {destination.name!r} is not a subscriptions destination")
        self.mapping: SubscriptionMapping = destination.subscription
        self.reader = ColumnReader(destination)
        self._consent = self.reader.column(self.mapping.consent_column)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.reader.columns

    def build(self, source: SourceRow) -> SubscriptionRecord | Invalid | None:
        """None: the row's consent is empty, so nothing changes for that person."""
        row = source.row
        if source.problem is not None:
            return Invalid(row, reasons.MALFORMED_ROW, f"row {row} {source.problem}")
        identifier: str | None = None
        try:
            identifier = self.reader.identifier(source)
            consent = self._consent_of(source.values[self._consent])
        except RowProblem as problem:
            return Invalid(row, problem.reason, problem.message, identifier)
        if consent is None:
            return None
        return SubscriptionRecord(row, SUBSCRIBE if consent else UNSUBSCRIBE, identifier, self.reader.kind)

    def _consent_of(self, value: Any) -> bool | None:
        column = self.mapping.consent_column
        if isinstance(value, bool):
            return value
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if text in _YES:
            return True
        if text in _NO:
            return False
        shown = repr(value)[:40] if not isinstance(value, (list, dict)) else "a list or object"
        raise RowProblem(reasons.CONSENT_INVALID, f"{column!r} (consent) is {shown}; write true or false (yes/no, "
                                                  "1/0), or leave it empty to change nothing")
