"""Segments per company (v2 Segments API): id, name, description, externalId, timestamps, members.

Members are keyed by identifier ("email:<lower-cased>", "phone:+1...", "clientUserId:..."); a member
sent with several identifiers is one member found by any of them, and adding one twice leaves one
membership. Members change only through queued member operations (a bulk job each): `settle` applies
the ones whose job has finished, in the order they finished; a failed job's operation is dropped.

Archived (DELETE) segments are kept: the spec says an archived segment "can be restored", so its
externalId stays taken, while lists and reads no longer find it.

Persistence rides on SimulatorState: `to_json`/`load` for the snapshot, and journal entries (one
list each: ["create", ...], ["patch", ...], ["archive", ...], ["queue", ...], ["settle", job id])
that `replay` applies in order, so a restart rebuilds the same segments and pending operations.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MEMBER_IDENTIFIERS = ("email", "phone", "clientUserId")
ADD, REMOVE = "add", "remove"


def member_keys(member: Mapping[str, str]) -> list[str]:
    """The keys that find a member: one per identifier it carries (emails match in any case)."""
    return [f"{kind}:{member[kind].lower() if kind == 'email' else member[kind]}"
            for kind in MEMBER_IDENTIFIERS if member.get(kind)]


@dataclass
class Segment:
    external_id: str
    name: str
    description: str
    created: str  # ISO 8601, UTC
    updated: str
    archived: bool = False
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # first key -> identifiers
    _index: dict[str, str] = field(default_factory=dict, repr=False)  # every key -> first key

    def answer(self) -> dict[str, str]:
        """The spec's SegmentResponse."""
        return {"externalId": self.external_id, "name": self.name, "description": self.description,
                "created": self.created, "updated": self.updated}

    def find(self, member: Mapping[str, str]) -> dict[str, str] | None:
        for key in member_keys(member):
            if key in self._index:
                return self.members[self._index[key]]
        return None

    def add(self, member: Mapping[str, str]) -> None:
        """One membership per person: identifiers of members already found by another of them are
        kept (the first value of a kind wins), and members the new one joins are folded into one."""
        keys = member_keys(member)
        found = list(dict.fromkeys(self._index[key] for key in keys if key in self._index))
        if not found:
            self.members[keys[0]] = dict(member)
            for key in keys:
                self._index[key] = keys[0]
            return
        primary, record = found[0], self.members[found[0]]
        for other in found[1:]:
            folded = self.members.pop(other)
            for key in member_keys(folded):
                self._index.pop(key, None)
            for kind, value in folded.items():
                record.setdefault(kind, value)
        for kind, value in member.items():
            record.setdefault(kind, value)
        for key in member_keys(record):
            self._index[key] = primary

    def remove(self, member: Mapping[str, str]) -> None:
        for key in member_keys(member):
            primary = self._index.get(key)
            if primary is not None:
                for other in member_keys(self.members.pop(primary)):
                    self._index.pop(other, None)

    def to_json(self) -> dict[str, Any]:
        return {"externalId": self.external_id, "name": self.name, "description": self.description,
                "created": self.created, "updated": self.updated, "archived": self.archived,
                "members": list(self.members.values())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Segment":
        segment = cls(data["externalId"], data["name"], data["description"], data["created"], data["updated"],
                      bool(data.get("archived", False)))
        for member in data.get("members", ()):
            segment.add(member)
        return segment


@dataclass(frozen=True)
class MemberOperation:
    """Members to add or remove, waiting for their bulk job; `failed`: the job fails, nothing applies."""

    job_id: str
    company_id: str
    external_id: str
    action: str  # ADD or REMOVE
    members: tuple[dict[str, str], ...]
    failed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "members": list(self.members)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MemberOperation":
        return cls(data["job_id"], data["company_id"], data["external_id"], data["action"],
                   tuple(dict(m) for m in data["members"]), bool(data.get("failed", False)))


class SegmentStore:
    def __init__(self, journaled: bool = False) -> None:
        self._companies: dict[str, dict[str, Segment]] = {}  # company -> externalId -> segment
        self._queued: dict[str, MemberOperation] = {}        # job id -> its operation, in submission order
        self._journaled = journaled
        self._pending: list[list[Any]] = []

    # -- reads ----------------------------------------------------------------------------------

    def get(self, company_id: str, external_id: str, *, archived: bool = False) -> Segment | None:
        segment = self._companies.get(company_id, {}).get(external_id)
        return segment if segment is not None and (archived or not segment.archived) else None

    def live(self, company_id: str) -> list[Segment]:
        """The company's segments that are not archived, oldest first."""
        return [s for s in self._companies.get(company_id, {}).values() if not s.archived]

    def queued(self) -> list[MemberOperation]:
        return list(self._queued.values())

    # -- writes (each one journaled) ------------------------------------------------------------

    def create(self, company_id: str, segment: Segment) -> None:
        self._do(["create", company_id, segment.to_json()])

    def patch(self, company_id: str, external_id: str, name: str | None, description: str | None, updated: str) -> None:
        self._do(["patch", company_id, external_id, name, description, updated])

    def archive(self, company_id: str, external_id: str, updated: str) -> None:
        self._do(["archive", company_id, external_id, updated])

    def queue(self, operation: MemberOperation) -> None:
        self._do(["queue", operation.to_json()])

    def settle(self, finished: Callable[[MemberOperation], float | None]) -> None:
        """Apply the queued operations whose job has finished (`finished` gives when, or None while
        it runs), in the order they finished; a failed job's operation goes without a change."""
        done = [(at, n, op) for n, op in enumerate(self._queued.values()) if (at := finished(op)) is not None]
        for _, _, operation in sorted(done, key=lambda item: (item[0], item[1])):
            self._do(["settle", operation.job_id])

    def _do(self, entry: list[Any]) -> None:
        self._apply(entry)
        if self._journaled:
            self._pending.append(entry)

    def _apply(self, entry: list[Any]) -> None:
        kind, *args = entry
        if kind == "create":
            company_id, data = args
            self._companies.setdefault(company_id, {})[data["externalId"]] = Segment.from_json(data)
        elif kind == "patch":
            company_id, external_id, name, description, updated = args
            segment = self._companies[company_id][external_id]
            segment.name = segment.name if name is None else name
            segment.description = segment.description if description is None else description
            segment.updated = updated
        elif kind == "archive":
            company_id, external_id, updated = args
            segment = self._companies[company_id][external_id]
            segment.archived, segment.updated = True, updated
        elif kind == "queue":
            operation = MemberOperation.from_json(args[0])
            self._queued[operation.job_id] = operation
        elif kind == "settle":
            operation = self._queued.pop(args[0])
            target = self.get(operation.company_id, operation.external_id)
            # Archived while the job ran: the job still completes, the archived segment keeps its members.
            if target is not None and not operation.failed:
                for member in operation.members:
                    (target.add if operation.action == ADD else target.remove)(member)
        else:
            raise ValueError(f"unknown segment journal entry {kind!r}")

    # -- persistence ----------------------------------------------------------------------------

    def take_pending(self) -> list[list[Any]]:
        pending, self._pending = self._pending, []
        return pending

    def replay(self, entries: Iterable[list[Any]]) -> None:
        """Journal entries of an earlier run; one that no longer applies (a torn history) is skipped."""
        for entry in entries:
            try:
                self._apply(entry)
            except (KeyError, ValueError, TypeError):
                continue

    def to_json(self) -> dict[str, Any]:
        return {"companies": {cid: [s.to_json() for s in segments.values()] for cid, segments in self._companies.items()},
                "queued": [op.to_json() for op in self._queued.values()]}

    def load(self, data: Mapping[str, Any] | None) -> None:
        """The snapshot's segments (absent from files written before segments existed)."""
        self._pending.clear()
        for company_id, segments in (data or {}).get("companies", {}).items():
            for segment in segments:
                self._companies.setdefault(company_id, {})[segment["externalId"]] = Segment.from_json(segment)
        for operation in (data or {}).get("queued", ()):
            parsed = MemberOperation.from_json(operation)
            self._queued[parsed.job_id] = parsed
