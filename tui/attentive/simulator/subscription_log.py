"""Every subscribe and unsubscribe the simulator accepted, in arrival order, and the messages each
one sent the person, so tests can count exactly what arrived and who was texted.

    log = simulator.state.subscriptions
    log.posts("subscriptions")                    -> [SubscriptionPost(...)], oldest first
    log.counts("unsubscribe")[("phone", "+1...")] -> accepted unsubscribes naming that phone
    log.texts_sent(("phone", "+1..."))            -> side-effect texts that person was sent

The endpoint names are tui.attentive.endpoints' ("subscriptions", "unsubscribe"). A person is the
(identifier kind, value) of the request's `user`, value as sent. The messages counted are those the
v1 spec says a repeat causes: a TEXT subscription subscribed again (PREVIOUSLY_CREATED) texts "already
subscribed"; a TEXT unsubscribe texts "you are unsubscribed" unless notification.disabled is true.
The opt-in flow's own texts of a new subscription are not counted. SimulatorState keeps the log and
persists it with the profiles when the simulator has a state file.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

Person = tuple[str, str]  # ("email" | "phone", value)

NEWLY_CREATED, PREVIOUSLY_CREATED = "NEWLY_CREATED", "PREVIOUSLY_CREATED"
NEWLY_UNSUBSCRIBED, PREVIOUSLY_UNSUBSCRIBED = "NEWLY_UNSUBSCRIBED", "PREVIOUSLY_UNSUBSCRIBED"


@dataclass(frozen=True)
class SubscriptionResult:
    """What one accepted request did to one subscription of one person."""

    kind: str        # "email" or "phone": the identifier that reached the subscription
    value: str
    channel: str     # "TEXT" (phone) or "EMAIL" (email)
    type: str        # "MARKETING", "TRANSACTIONAL", "CHECKOUT_ABANDONED"
    status: str      # NEWLY_CREATED / PREVIOUSLY_CREATED, or NEWLY_UNSUBSCRIBED / PREVIOUSLY_UNSUBSCRIBED
    messaged: bool   # the person was sent a text because of it

    @property
    def person(self) -> Person:
        return self.kind, self.value

    def to_json(self) -> list[Any]:
        return [self.kind, self.value, self.channel, self.type, self.status, self.messaged]


@dataclass(frozen=True)
class SubscriptionPost:
    endpoint: str                              # "subscriptions" or "unsubscribe"
    company_id: str
    people: tuple[Person, ...]                 # the identifiers of the request's user
    results: tuple[SubscriptionResult, ...]    # per subscription answered, in the answer's order

    def to_json(self) -> list[Any]:
        return [self.endpoint, self.company_id, [list(p) for p in self.people], [r.to_json() for r in self.results]]

    @classmethod
    def from_json(cls, data: list[Any]) -> "SubscriptionPost":
        endpoint, company_id, people, results = data
        return cls(endpoint, company_id, tuple((kind, value) for kind, value in people),
                   tuple(SubscriptionResult(*result) for result in results))


class SubscriptionLog:
    def __init__(self) -> None:
        self._posts: list[SubscriptionPost] = []

    def __len__(self) -> int:
        return len(self._posts)

    def record(self, post: SubscriptionPost) -> None:
        self._posts.append(post)

    def posts(self, endpoint: str | None = None, *, company_id: str | None = None) -> list[SubscriptionPost]:
        """The accepted requests to one endpoint (both when None), of one company or all, oldest first."""
        return [p for p in self._posts
                if (endpoint is None or p.endpoint == endpoint) and (company_id is None or p.company_id == company_id)]

    def counts(self, endpoint: str | None = None, *, company_id: str | None = None) -> Counter[Person]:
        """Accepted requests per person (each identifier of a request's user counts that request once)."""
        return Counter(person for post in self.posts(endpoint, company_id=company_id) for person in post.people)

    def texts_sent(self, person: Person, *, company_id: str | None = None) -> int:
        """How many side-effect texts the person was sent, over both endpoints."""
        return sum(1 for post in self.posts(company_id=company_id) for result in post.results
                   if result.messaged and result.person == person)
