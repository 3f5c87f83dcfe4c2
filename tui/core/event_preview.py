"""The first rows of an event destination's source as the send would build them: each event (a
custom event, or a purchase gathered from its item rows) with its type or order, time and
properties, invalid rows with the reason the run would record, and how many are over 12 hours old
(recorded by Attentive, but they trigger no journeys)."""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from tui.settings.access import mask_identifier
from tui.settings.model import Destination
from tui.sync.event_planner import Record, event_builder
from tui.sync.events import is_stale
from tui.sync.profiles import Invalid
from tui.sync.purchases import PurchaseBuilder, PurchaseRecord
from tui.sync.source_files import SourceRow
from tui.sync.subscriptions import SubscriptionRecord

CUSTOM_COLUMNS = ("type", "occurredAt")
PURCHASE_COLUMNS = ("orderId", "items", "total", "occurredAt", "salesChannel")
SUBSCRIPTION_COLUMNS = ("action", "channel")


def stale_warning(stale: int, seen: int) -> str:
    return (f"{stale:,} of the first {seen:,} events are over 12 hours old: Attentive records them, but they trigger "
            "no journeys")


def event_columns(destination: Destination) -> tuple[str, ...]:
    if destination.kind == "purchase":
        return PURCHASE_COLUMNS
    if destination.kind == "subscription":
        return SUBSCRIPTION_COLUMNS
    return (*CUSTOM_COLUMNS, *destination.attributes, *destination.constants)


def event_rows(destination: Destination, rows: list[SourceRow], *, masked: bool,
               clock: Callable[[], float] = time.time) -> tuple[list[tuple[int, str, dict[str, str], str, str]], list[str]]:
    """(row, identifier, column values, reason, message) per event or invalid row, and the warnings."""
    builder = event_builder(destination)
    built: list[tuple[int, Record | Invalid | None]] = (
        [(record.row, record) for record in builder.group(rows)] if isinstance(builder, PurchaseBuilder)
        else [(source.row, builder.build(source)) for source in rows])
    now = dt.datetime.fromtimestamp(clock(), dt.timezone.utc)
    shown: list[tuple[int, str, dict[str, str], str, str]] = []
    stale = events = 0
    for row, record in built:
        if record is None:  # a subscription row with no consent: shown, with nothing to send
            shown.append((row, "", {"action": "(none: consent empty)"}, "", ""))
            continue
        if isinstance(record, Invalid):
            identifier, message = record.identifier or "", record.message
            if masked and identifier:
                identifier, message = mask_identifier(identifier), message.replace(identifier, mask_identifier(identifier))
            shown.append((record.row, identifier, {}, record.reason, message))
            continue
        events += 1
        stale += not isinstance(record, SubscriptionRecord) and is_stale(record.occurred_at, now)
        identifier = mask_identifier(record.identifier) if masked else record.identifier
        shown.append((record.row, identifier, _values(record), "", ""))
    warnings = [stale_warning(stale, events)] if stale else []
    return shown, warnings


def _values(record: Record) -> dict[str, str]:
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
    values.update((name, _text(value)) for name, value in record.properties.items())
    return values


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
