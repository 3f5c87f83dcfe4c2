"""The first rows of a source as a send would build them: the destination's mapping applied by the
engine's own builders (profiles; for event and subscriptions destinations each event, purchase or
subscription, with how many events are over 12 hours old), invalid rows with the reason code the
run would record.

No Textual here; it runs in a worker (inspect_source streams the whole file once, as a send does,
so a file the send would refuse is refused here with the same message).
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tui.settings.access import mask_identifier
from tui.settings.model import Destination
from tui.sync.event_planner import Record, event_builder
from tui.sync.events import is_stale
from tui.sync.history import HistoryStore
from tui.sync.membership import AudienceCounts, count, scope_of
from tui.sync.number_traps import TrapScanner
from tui.sync.profiles import Invalid, ProfileBuilder
from tui.sync.purchases import PurchaseBuilder, PurchaseRecord
from tui.sync.segment_target import offline_bound
from tui.sync.sources import SourceInfo, SourceReader, inspect_source
from tui.sync.subscriptions import SubscriptionRecord

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class PreviewRow:
    row: int
    identifier: str             # normalised when valid; as found (or "") when not
    attributes: dict[str, str]  # attribute name -> value as it will be sent (empty for invalid rows)
    reason: str = ""            # reason code of an invalid row
    message: str = ""

    @property
    def valid(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class SendPreview:
    destination: str
    source: Path
    format: str
    rows_estimate: int
    identifier_kind: str
    attribute_names: tuple[str, ...]
    rows: tuple[PreviewRow, ...]
    constants: tuple[tuple[str, str], ...] = ()   # (name, value as written) sent on every profile
    warnings: tuple[str, ...] = ()                # untyped columns Attentive would make Numbers
    # An audience destination: members, joins, stays, leaves and the refusal a send would meet
    # (None without an audience, or when the preview was not given the history to compare with).
    audience: AudienceCounts | None = None

    @property
    def invalid(self) -> int:
        return sum(not row.valid for row in self.rows)


def build_preview(destination: Destination, source: Path, limit: int = PREVIEW_ROWS, *,
                  masked: bool = False, data_dir: Path | None = None, environment: str | None = None) -> SendPreview:
    """Raises SourceError (the file cannot be used) or ValueError (the mapping lacks the primary
    identifier's column), with the send's own wording. `masked`: identifiers, the messages that
    quote them and attributes mapped from identifier columns, as a restricted-PII operator sees them.
    With `data_dir` and `environment`, an audience destination's preview also counts who would join,
    stay and leave (reading the whole file once more, as the send's start does)."""
    info = inspect_source(source)
    if destination.sends_once:
        return _event_preview(destination, source, info, limit, masked)
    counted = destination.keeps_members and data_dir is not None and environment is not None
    with HistoryStore(data_dir, readonly=True) if counted and data_dir is not None else nullcontext() as store:
        return _profile_preview(destination, source, info, limit, masked, store, environment)


def _profile_preview(destination: Destination, source: Path, info: SourceInfo, limit: int, masked: bool,
                     store: HistoryStore | None, environment: str | None) -> SendPreview:
    """`store`: the history, when members are counted (an audience or a segment, with a data_dir)."""
    scope = scope_of(store.connection, destination.name, environment) if store is not None and environment else None
    # A segment's rows carry its membership, as the send builds them (else they would have nothing to send).
    bound = (offline_bound(destination, store.connection if store else None, scope) if destination.segment
             else destination)
    builder = ProfileBuilder(bound)
    identifier_columns = set(destination.identifiers.values())
    hidden = {name for name, column in destination.attributes.items() if column in identifier_columns} if masked else set()
    rows: list[PreviewRow] = []
    traps = TrapScanner(destination, builder.columns)
    with closing(SourceReader(info, builder.columns).chunks(limit)) as chunks:
        first = next(chunks, [])
        traps.feed(first)
        for item in first:
            built = builder.build(item)
            if isinstance(built, Invalid):
                rows.append(_invalid_row(built, masked))
            else:
                attributes = {name: mask_identifier(str(value)) if name in hidden else str(value)
                              for name, value in built.attributes.items()}
                rows.append(PreviewRow(built.row, mask_identifier(built.identifier) if masked else built.identifier,
                                       attributes))
    audience = None
    if store is not None:
        audience = count(store.connection, scope, bound, info, builder)
    names = (*destination.attributes, *destination.constants, *((destination.audience,) if destination.audience else ()))
    return SendPreview(destination.name, source, info.format, info.rows_estimate,
                       destination.primary_identifier, names, tuple(rows),
                       tuple(destination.constants.items()), tuple(traps.warnings()), audience)


def _invalid_row(invalid: Invalid, masked: bool) -> PreviewRow:
    identifier, message = invalid.identifier or "", invalid.message
    if masked and identifier:
        identifier, message = mask_identifier(identifier), message.replace(identifier, mask_identifier(identifier))
    return PreviewRow(invalid.row, identifier, {}, invalid.reason, message)


def _event_preview(destination: Destination, source: Path, info: SourceInfo, limit: int, masked: bool) -> SendPreview:
    """Custom events, purchases (a row per order) or subscriptions; the warnings count the events
    over 12 hours old."""
    builder = event_builder(destination)
    with closing(SourceReader(info, builder.columns).chunks(limit)) as chunks:
        first = next(chunks, [])
    built: list[tuple[int, Record | Invalid | None]] = (
        [(record.row, record) for record in builder.group(first)] if isinstance(builder, PurchaseBuilder)
        else [(item.row, builder.build(item)) for item in first])
    now = dt.datetime.now(dt.timezone.utc)
    rows: list[PreviewRow] = []
    stale = events = 0
    for row, record in built:
        if record is None:  # a subscription row with no consent: shown, with nothing to send
            rows.append(PreviewRow(row, "", {"action": "(none: consent empty)"}))
        elif isinstance(record, Invalid):
            rows.append(_invalid_row(record, masked))
        else:
            events += 1
            stale += not isinstance(record, SubscriptionRecord) and is_stale(record.occurred_at, now)
            rows.append(PreviewRow(row, mask_identifier(record.identifier) if masked else record.identifier,
                                   _event_values(record)))
    warnings = (f"{stale:,} of the first {events:,} events are over 12 hours old: Attentive records them, but they "
                "trigger no journeys",) if stale else ()
    constants = tuple(destination.constants.items()) if destination.kind == "custom-event" else ()
    return SendPreview(destination.name, source, info.format, info.rows_estimate, destination.primary_identifier,
                       _event_columns(destination), tuple(rows), constants, warnings)


def _event_columns(destination: Destination) -> tuple[str, ...]:
    if destination.kind == "purchase":
        return ("orderId", "items", "total", "occurredAt", "salesChannel")
    if destination.kind == "subscription":
        return ("action", "channel")
    return ("type", "occurredAt", *destination.attributes, *destination.constants)


def _event_values(record: Record) -> dict[str, str]:
    if isinstance(record, SubscriptionRecord):
        return {"action": record.action, "channel": record.channel}
    if isinstance(record, PurchaseRecord):
        totals: dict[str, float] = {}
        for item in record.items:
            totals[item.currency] = totals.get(item.currency, 0) + item.price * (item.quantity or 1)
        total = ", ".join(f"{amount:.2f} {currency}" for currency, amount in totals.items())
        return {"orderId": record.order_id, "items": str(len(record.items)), "total": total,
                "occurredAt": record.occurred_at, "salesChannel": record.sales_channel}
    values = {"type": record.type, "occurredAt": record.occurred_at}
    values.update((name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
                  for name, value in record.properties.items())
    return values
