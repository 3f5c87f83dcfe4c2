"""Profiles per company: identifiers, custom attributes and their fixed types, subscriptions and
opt-outs; the events that arrived (event_log.py); the subscribes and unsubscribes that arrived
(subscription_log.py); the v2 segments and their queued member changes (segment_state.py).

In memory, optionally persisted: a JSON snapshot (written atomically) plus an append-only journal
of changes since that snapshot. Changes are queued in memory on the hot path and written to the
journal in batches by the server's flusher; the snapshot is rewritten at start (after replaying
the journal) and at shutdown. A torn last journal line (a crash mid-write) is skipped on load.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.attentive.simulator.event_log import ArrivedEvent, EventLog
from tui.attentive.simulator.rules import AttributeType, stored_as
from tui.attentive.simulator.segment_state import SegmentStore
from tui.attentive.simulator.subscription_log import SubscriptionLog, SubscriptionPost

STATE_VERSION = 1
# Identifiers that find a profile. Sending two that point at different profiles bridges them into
# one, as Attentive does.
LINKING_IDENTIFIERS = ("email", "phone", "clientUserId", "shopifyId", "klaviyoId")
# Custom identifiers are stored under this prefix + their key, but find no profile: whether Attentive
# links profiles by them is undocumented, and a simulator that did could bridge what it should not.
CUSTOM_IDENTIFIER = "custom:"


class StateFileError(Exception):
    """The state file cannot be read; the message names the file and what to do."""


@dataclass
class Profile:
    identifiers: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    standard: dict[str, Any] = field(default_factory=dict)  # v2 firstName, lastName, location, ...
    subscriptions: set[tuple[str, str]] = field(default_factory=set)  # (type, channel)
    unsubscribed: set[tuple[str, str]] = field(default_factory=set)   # (type, channel) opted out of

    def to_json(self) -> dict[str, Any]:
        return {
            "identifiers": self.identifiers,
            "custom": self.custom,
            "standard": self.standard,
            "subscriptions": sorted(self.subscriptions),
            "unsubscribed": sorted(self.unsubscribed),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Profile":
        return cls(
            dict(data["identifiers"]),
            dict(data.get("custom", {})),
            dict(data.get("standard", {})),
            {(kind, channel) for kind, channel in data.get("subscriptions", [])},
            {(kind, channel) for kind, channel in data.get("unsubscribed", [])},
        )


@dataclass(frozen=True)
class ProfileChange:
    """One accepted write to one profile; replaying the same changes rebuilds the same state."""

    identifiers: dict[str, str]
    custom: dict[str, Any] = field(default_factory=dict)
    standard: dict[str, Any] = field(default_factory=dict)
    new_types: dict[str, AttributeType] = field(default_factory=dict)
    subscriptions: tuple[tuple[str, str], ...] = ()
    unsubscriptions: tuple[tuple[str, str], ...] = ()  # (type, channel) opted out of

    def to_json(self) -> list[Any]:
        data = [self.identifiers, self.custom, self.standard, self.new_types, [list(s) for s in self.subscriptions]]
        if self.unsubscriptions:
            data.append([list(s) for s in self.unsubscriptions])
        return data

    @classmethod
    def from_json(cls, data: list[Any]) -> "ProfileChange":
        ids, custom, standard, types, subs, *rest = data  # journals written before unsubscribes have 5 fields
        unsubs = rest[0] if rest else []
        return cls(ids, custom, standard, {k: AttributeType(v) for k, v in types.items()}, tuple(map(tuple, subs)),
                   tuple(map(tuple, unsubs)))


def _index_key(name: str, value: str) -> str:
    return f"{name}:{value.lower() if name == 'email' else value}"


class CompanyState:
    def __init__(self) -> None:
        self.types: dict[str, AttributeType] = {}
        self._profiles: list[Profile] = []
        self._index: dict[str, Profile] = {}

    @property
    def profiles(self) -> list[Profile]:
        return self._profiles

    def find(self, name: str, value: str) -> Profile | None:
        return self._index.get(_index_key(name, value))

    def apply(self, change: ProfileChange) -> list[bool]:
        """Apply a change; returns, per requested subscription, whether it was newly created."""
        self.types.update(change.new_types)
        profile = self._profile_for(change.identifiers)
        profile.custom.update({name: stored_as(value, self.types.get(name)) for name, value in change.custom.items()})
        profile.standard.update(change.standard)
        created = []
        for subscription in change.subscriptions:
            created.append(subscription not in profile.subscriptions)
            profile.subscriptions.add(subscription)
            profile.unsubscribed.discard(subscription)
        for subscription in change.unsubscriptions:
            profile.subscriptions.discard(subscription)
            profile.unsubscribed.add(subscription)
        return created

    def _profile_for(self, identifiers: dict[str, str]) -> Profile:
        keys = [_index_key(n, identifiers[n]) for n in LINKING_IDENTIFIERS if identifiers.get(n)]
        found: list[Profile] = []
        for key in keys:
            profile = self._index.get(key)
            if profile is not None and all(profile is not other for other in found):
                found.append(profile)
        if not found:
            profile = Profile()
            self._profiles.append(profile)
        else:
            profile = found[0]
            for other in found[1:]:  # bridged: fold the others into the first, newer values win
                self._merge(profile, other)
        profile.identifiers.update({n: v for n, v in identifiers.items() if v})
        for key in keys:
            self._index[key] = profile
        return profile

    def _merge(self, into: Profile, other: Profile) -> None:
        into.custom.update(other.custom)
        into.standard.update(other.standard)
        into.subscriptions |= other.subscriptions
        into.unsubscribed = (into.unsubscribed | other.unsubscribed) - into.subscriptions
        for name, value in other.identifiers.items():
            into.identifiers.setdefault(name, value)
            if name in LINKING_IDENTIFIERS:
                self._index[_index_key(name, value)] = into
        self._profiles.remove(other)

    def add_loaded(self, profile: Profile) -> None:
        self._profiles.append(profile)
        for name in LINKING_IDENTIFIERS:
            if profile.identifiers.get(name):
                self._index[_index_key(name, profile.identifiers[name])] = profile


class SimulatorState:
    def __init__(self, path: Path | None = None):
        self.path = path
        self.companies: dict[str, CompanyState] = {}
        self._pending: list[tuple[str, list[ProfileChange]]] = []
        self.events = EventLog()
        self._pending_events: list[ArrivedEvent] = []
        self.subscriptions = SubscriptionLog()
        self._pending_subscriptions: list[SubscriptionPost] = []
        self.segments = SegmentStore(journaled=path is not None)
        # Attributes declared as text before their first value (SimulatorConfig.text_attributes).
        self.declared: dict[str, AttributeType] = {}

    @property
    def journal_path(self) -> Path | None:
        return self.path.with_name(self.path.name + ".journal") if self.path else None

    def company(self, company_id: str) -> CompanyState:
        state = self.companies.get(company_id)
        if state is None:
            state = self.companies[company_id] = CompanyState()
        for name, kind in self.declared.items():
            state.types.setdefault(name, kind)
        return state

    def apply(self, company_id: str, changes: list[ProfileChange]) -> list[list[bool]]:
        company = self.company(company_id)
        results = [company.apply(change) for change in changes]
        if self.path is not None and changes:
            if self._pending and self._pending[-1][0] == company_id:
                self._pending[-1][1].extend(changes)
            else:
                self._pending.append((company_id, list(changes)))
        return results

    def record_event(self, event: ArrivedEvent) -> None:
        self.events.record(event)
        if self.path is not None:
            self._pending_events.append(event)

    def record_subscription(self, post: SubscriptionPost) -> None:
        self.subscriptions.record(post)
        if self.path is not None:
            self._pending_subscriptions.append(post)

    # -- persistence ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None) -> "SimulatorState":
        """Read the snapshot and replay the journal, then compact both into a fresh snapshot."""
        state = cls(path)
        if path is None:
            return state
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") != STATE_VERSION:
                    raise ValueError(f"unknown version {data.get('version')!r}")
                for company_id, company_data in data["companies"].items():
                    company = state.company(company_id)
                    company.types = {k: AttributeType(v) for k, v in company_data["types"].items()}
                    for profile in company_data["profiles"]:
                        company.add_loaded(Profile.from_json(profile))
                for event in data.get("events", ()):  # absent from files written before events existed
                    state.events.record(ArrivedEvent.from_json(event))
                for post in data.get("subscription_posts", ()):  # absent from files written before them
                    state.subscriptions.record(SubscriptionPost.from_json(post))
                state.segments.load(data.get("segments"))  # absent from files written before segments
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise StateFileError(
                    f"{path}: cannot read the simulator state ({exc}); move the file away to start empty"
                ) from None
        state._replay_journal()
        state.save()
        return state

    def _replay_journal(self) -> None:
        journal = self.journal_path
        if journal is None or not journal.exists():
            return
        with journal.open("r", encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                    if isinstance(entry, dict):  # {"events"|"subscription_posts": [...]}: arrivals, beside the changes
                        for event in [ArrivedEvent.from_json(e) for e in entry.get("events", ())]:
                            self.events.record(event)
                        for post in [SubscriptionPost.from_json(p) for p in entry.get("subscription_posts", ())]:
                            self.subscriptions.record(post)
                        self.segments.replay(entry.get("segments", ()))
                        continue
                    company_id, changes = entry
                    parsed = [ProfileChange.from_json(c) for c in changes]
                except (ValueError, TypeError, KeyError):
                    continue  # torn write from a crash: everything before it is intact
                company = self.company(company_id)
                for change in parsed:
                    company.apply(change)

    def take_pending(self) -> list[str]:
        """Journal lines for the changes since the last call.

        Serialised on the caller's (the event loop's) thread: doing it in a worker thread makes
        the two fight over the GIL and slows the request path far more than the work itself.
        """
        pending, self._pending = self._pending, []
        lines = [json.dumps([cid, [c.to_json() for c in changes]]) + "\n" for cid, changes in pending]
        if self._pending_events:
            events, self._pending_events = self._pending_events, []
            lines.append(json.dumps({"events": [e.to_json() for e in events]}) + "\n")
        if self._pending_subscriptions:
            posts, self._pending_subscriptions = self._pending_subscriptions, []
            lines.append(json.dumps({"subscription_posts": [p.to_json() for p in posts]}) + "\n")
        segment_changes = self.segments.take_pending()
        if segment_changes:
            lines.append(json.dumps({"segments": segment_changes}) + "\n")
        return lines

    def write_journal(self, lines: list[str]) -> None:
        """Append and fsync (blocking I/O: the server runs it in a worker thread)."""
        if not lines or self.journal_path is None:
            return
        # 0600 like the snapshot (mkstemp): both hold identifiers.
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def save(self) -> None:
        """Write the whole state atomically and empty the journal it now contains."""
        if self.path is None:
            return
        self._pending.clear()
        self._pending_events.clear()
        self._pending_subscriptions.clear()
        self.segments.take_pending()
        data: dict[str, Any] = {
            "version": STATE_VERSION,
            "companies": {
                cid: {"types": {k: v.value for k, v in c.types.items()}, "profiles": [p.to_json() for p in c.profiles]}
                for cid, c in self.companies.items()
            },
            "events": [event.to_json() for event in self.events.of()],
            "subscription_posts": [post.to_json() for post in self.subscriptions.posts()],
            "segments": self.segments.to_json(),
        }
        text = json.dumps(data, separators=(",", ":"))  # dumps, not dump: only dumps uses the C encoder
        tmp: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            tmp = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            tmp = None
            if self.journal_path is not None:
                self.journal_path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateFileError(f"{self.path}: cannot save the simulator state ({exc.strerror or exc})") from None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
