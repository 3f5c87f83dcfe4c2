"""Decides what happens to each row of an event destination before anything is sent: which rows
this run covers, validation (events.py, purchases.py), in-run duplicates and the event ledger.

An event the ledger holds as sent to this scope is `skipped_already_sent`; one it holds as unknown
(an earlier send had no answer that says whether it arrived) stays `unknown` and is not sent, unless
this is a retry the operator started with --include-unknown. Everything else goes out, recorded as
pending; the sender marks each one in flight in the ledger before its request leaves.

A purchase is several rows (one per item) and one event: its rows share its outcome. A sample of a
purchase destination takes whole orders: every order one of the sampled rows belongs to.

Subscriptions go the same way: a subscribe and an unsubscribe of a person are two ids, and whichever
Attentive accepted last is the one the ledger holds (the sender deletes the other), so a person
recorded as subscribed is not posted again, and one who unsubscribed since can subscribe again. A
person's second row in a file is a duplicate (`duplicate_identifier`): their order would be a race.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from tui.attentive import payloads
from tui.settings.model import Destination
from tui.sync import event_ledger, reasons
from tui.sync.events import CustomEventBuilder, EventRecord, is_stale
from tui.sync.history import HistoryStore
from tui.sync.history_schema import INVALID, NOT_SENT, PENDING, SKIPPED, SKIPPED_SENT, UNKNOWN
from tui.sync.history_writer import RunRecorder
from tui.sync.key_filter import key_filter, mark_in, maybe_in
from tui.sync.planner import still_to_do
from tui.sync.profiles import Invalid
from tui.sync.purchases import PurchaseBuilder, PurchaseRecord
from tui.sync.source_files import CHUNK_ROWS
from tui.sync.sources import SourceChunk, SourceRow
from tui.sync.subscriptions import SUBSCRIBE, SubscriptionBuilder, SubscriptionRecord

Record = EventRecord | PurchaseRecord | SubscriptionRecord

UNKNOWN_BEFORE = ("sent by run {run} without an answer that says whether it arrived, so it is not sent again on its "
                  "own; check in Attentive, then `attentive-console retry {run} --include-unknown` sends it")


@dataclass(frozen=True, slots=True)
class Outbound:
    """A request ready to leave: its ledger id, its rows, the endpoint and the request body."""
    event_id: str
    rows: tuple[int, ...]
    identifier: str
    body: dict[str, Any]
    endpoint: str                    # endpoints.BY_NAME key: custom-events, purchase-events, subscriptions, unsubscribe
    key: int                         # the rows' key in row_outcomes: in-run duplicates share it
    opposite_id: str | None = None   # a subscription's other action: its ledger entry goes when this one is accepted
    check_first: bool = False        # ask Attentive whether the person is subscribed already (subscriptions only)


def event_key(event_id: str) -> int:
    """The 64-bit key an event's rows carry in row_outcomes, for in-run duplicates."""
    return int.from_bytes(uuid.UUID(event_id).bytes[:8], "big", signed=True)


def event_builder(destination: Destination) -> CustomEventBuilder | PurchaseBuilder | SubscriptionBuilder:
    if destination.kind == "subscription":
        return SubscriptionBuilder(destination)
    return CustomEventBuilder(destination) if destination.kind == "custom-event" else PurchaseBuilder(destination)


class EventPlanner:
    def __init__(
        self,
        destination: Destination,
        recorder: RunRecorder,
        store: HistoryStore,
        *,
        dry_run: bool,
        resuming: bool,
        only_rows: Collection[int] | None = None,
        only_ordinals: Collection[int] | None = None,
        include_unknown: bool = False,
        clock: Callable[[], float],
        expected_rows: int = 0,
    ):
        self.chunk_rows = CHUNK_ROWS
        self.destination = destination
        self.builder = event_builder(destination)
        self.recorder = recorder
        self.store = store
        self.dry_run = dry_run
        self.resuming = resuming
        self.only_rows = only_rows
        self.only_ordinals = only_ordinals
        self.include_unknown = include_unknown
        self.clock = clock
        self._ordinal = 0
        self._sampled: set[int] = set()
        self._seen = key_filter(expected_rows)   # event keys this run planned, as in Planner
        if resuming:
            for key in store.planned_keys(recorder.run_id):
                mark_in(self._seen, key)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.builder.columns

    def plan(self, chunk: SourceChunk) -> list[Outbound]:
        built: list[Record | Invalid] = []
        for source in self._covered(chunk.rows()):
            if isinstance(self.builder, PurchaseBuilder):
                built.extend(self.builder.feed(source))
                continue
            record = self.builder.build(source)
            if record is None:  # a subscription row whose consent is empty: nothing to change
                self.recorder.counts.rows_read += 1
                self.recorder.plan(source.row, None, SKIPPED)
            else:
                built.append(record)
        return self._decide(built)

    def finish(self) -> list[Outbound]:
        """The last purchase, held until the file ended (custom events hold nothing)."""
        return self._decide(self.builder.end()) if isinstance(self.builder, PurchaseBuilder) else []

    def _covered(self, chunk: list[SourceRow]) -> list[SourceRow]:
        if self.only_ordinals is not None:
            for ordinal, source in enumerate(chunk, self._ordinal):
                if ordinal in self.only_ordinals:
                    self._sampled.add(source.row)
            self._ordinal += len(chunk)
            if not isinstance(self.builder, PurchaseBuilder):  # orders are sampled whole, after grouping
                chunk = [source for source in chunk if source.row in self._sampled]
        if self.only_rows is not None:
            chunk = [source for source in chunk if source.row in self.only_rows]
        if self.resuming:
            chunk = [chunk[index] for index in still_to_do(self.store, self.recorder, [row.row for row in chunk])]
        return chunk

    def _in_sample(self, rows: tuple[int, ...]) -> bool:
        return self.only_ordinals is None or any(row in self._sampled for row in rows)

    def _decide(self, built: Sequence[Record | Invalid]) -> list[Outbound]:
        recorder = self.recorder
        events: list[Outbound] = []
        for record in built:
            if isinstance(record, Invalid):
                if self._in_sample((record.row,)):
                    recorder.counts.rows_read += 1
                    recorder.reject(record.row, INVALID, record.reason, identifier=record.identifier,
                                    message=record.message)
                continue
            event = self._outbound(record)
            if self._in_sample(event.rows):
                recorder.counts.rows_read += len(event.rows)
                events.append(event)
        events = self._first_of_each_event(events)
        held = event_ledger.states(self.store.connection, recorder.scope, [e.event_id for e in events]) if events else {}
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        going: list[Outbound] = []
        for event in events:
            state, run = held.get(event.event_id, (None, 0))
            for row in event.rows:
                recorder.plan(row, event.key, PENDING)
            if state == event_ledger.SENT:
                for row in event.rows:
                    recorder.settle(row, SKIPPED_SENT)
                continue
            if state is not None and not (self.include_unknown and self.only_rows is not None):
                for row in event.rows:
                    recorder.reject(row, UNKNOWN, reasons.EVENT_UNKNOWN, identifier=event.identifier,
                                    message=UNKNOWN_BEFORE.format(run=run))
                continue
            if "occurredAt" in event.body and is_stale(event.body["occurredAt"], now):
                recorder.counts.stale_events += 1
            if self.dry_run:
                for row in event.rows:
                    recorder.settle(row, NOT_SENT)
            else:
                going.append(event)
        return going

    def _outbound(self, record: Record) -> Outbound:
        event_id = event_ledger.event_id(self.destination.name, record.key)
        if isinstance(record, SubscriptionRecord):
            return subscription_outbound(self.destination, record, event_id)
        if isinstance(record, PurchaseRecord):
            body = payloads.ecommerce_event_body(
                "purchase", record.user(), [item.as_json() for item in record.items], order_id=record.order_id,
                occurred_at=record.occurred_at, sales_channel=record.sales_channel)
            return Outbound(event_id, record.rows, record.identifier, body, "purchase-events", event_key(event_id))
        body = payloads.custom_event_body(record.user(), record.type, record.properties,
                                          external_event_id=event_id, occurred_at=record.occurred_at)
        return Outbound(event_id, (record.row,), record.identifier, body, "custom-events", event_key(event_id))

    def _first_of_each_event(self, events: list[Outbound]) -> list[Outbound]:
        if not events:
            return events
        first_rows = self.recorder.first_rows([e.key for e in events if maybe_in(self._seen, e.key)])
        unique = []
        for event in events:
            first = first_rows.setdefault(event.key, event.rows[0])
            if first == event.rows[0]:
                mark_in(self._seen, event.key)
                unique.append(event)
                continue
            subscription = event.opposite_id is not None
            reason = reasons.DUPLICATE_IDENTIFIER if subscription else reasons.DUPLICATE_EVENT
            what = "person" if subscription else "event (its event key's values)"
            for row in event.rows:
                self.recorder.reject(row, INVALID, reason, identifier=event.identifier,
                                     message=f"the same {what} as row {first}, which is the one sent")
        return unique


def subscription_outbound(destination: Destination, record: SubscriptionRecord, event_id: str) -> Outbound:
    """A subscribe (POST /v1/subscriptions) or an unsubscribe of one channel, keyed by the person."""
    mapping = destination.subscription
    assert mapping is not None, "a subscription record comes from a subscriptions destination"
    opposite = event_ledger.event_id(destination.name, (
        "unsubscribe" if record.action == SUBSCRIBE else SUBSCRIBE, record.channel, record.identifier))
    person = event_key(event_ledger.event_id(destination.name, ("person", record.channel, record.identifier)))
    if record.action == SUBSCRIBE:
        body = payloads.subscription_body(
            record.user(), sign_up_source_id=mapping.sign_up_source_id,
            locale=(mapping.language, mapping.country) if mapping.language and mapping.country else None,
            subscription_type=mapping.subscription_type, single_opt_in=mapping.single_opt_in)
        return Outbound(event_id, (record.row,), record.identifier, body, "subscriptions", person, opposite,
                        check_first=mapping.check_eligibility)
    # With a sign-up source only, the type is not known here: every subscription of the channel goes.
    kinds = [(mapping.subscription_type, record.channel)] if mapping.subscription_type else None
    body = payloads.unsubscribe_body(record.user(), kinds, notification_disabled=not mapping.notify_unsubscribe)
    return Outbound(event_id, (record.row,), record.identifier, body, "unsubscribe", person, opposite)
