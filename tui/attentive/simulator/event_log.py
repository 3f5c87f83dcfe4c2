"""Every event the simulator accepted, in arrival order, so tests can count exactly what arrived and
how many times. Attentive documents no de-duplication (not even by externalEventId), so neither does
the simulator: the same body sent twice is two arrivals.

    log = simulator.state.events
    log.of("custom-events")                     -> [ArrivedEvent(...)], oldest first
    log.counts("custom-events")["3f2c..."]      -> arrivals of the custom event with that externalEventId
    log.counts("purchase-events")["order-17"]   -> arrivals of purchases with that orderId
The names are the endpoint names (tui.attentive.endpoints.EVENTS). SimulatorState keeps the log and
persists it with the profiles when the simulator has a state file.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ArrivedEvent:
    endpoint: str            # "custom-events", "purchase-events", "add-to-cart-events", "product-view-events"
    company_id: str
    application: str         # the custom app behind the key that sent it
    body: dict[str, Any]     # as sent (validated)

    @property
    def event_id(self) -> str | None:
        """What names the event: externalEventId for a custom event, orderId for a purchase."""
        value = self.body.get("externalEventId", self.body.get("orderId"))
        return value if isinstance(value, str) else None

    def to_json(self) -> list[Any]:
        return [self.endpoint, self.company_id, self.application, self.body]

    @classmethod
    def from_json(cls, data: list[Any]) -> "ArrivedEvent":
        endpoint, company_id, application, body = data
        return cls(endpoint, company_id, application, body)


class EventLog:
    def __init__(self) -> None:
        self._events: list[ArrivedEvent] = []

    def __len__(self) -> int:
        return len(self._events)

    def record(self, event: ArrivedEvent) -> None:
        self._events.append(event)

    def of(self, endpoint: str | None = None, *, company_id: str | None = None) -> list[ArrivedEvent]:
        """The arrivals at one endpoint (every endpoint when None), of one company or all, oldest first."""
        return [e for e in self._events
                if (endpoint is None or e.endpoint == endpoint) and (company_id is None or e.company_id == company_id)]

    def counts(self, endpoint: str | None = None, *, company_id: str | None = None) -> Counter[str | None]:
        """Arrivals per event id (None counts the events sent without one)."""
        return Counter(event.event_id for event in self.of(endpoint, company_id=company_id))
