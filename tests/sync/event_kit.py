"""Event destinations and files for the event send tests: a custom-event destination (store visits)
and a purchase one (till receipts), rows relative to the real clock (fresh ones an hour old, stale
ones a day old: nothing waits), and what the simulator recorded of them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sync_kit import write_csv

from tui.settings.model import Destination, EventMapping, SubscriptionMapping

VISIT_HEADER = ("email", "visit_id", "store", "visited_at", "kind")
ORDER_HEADER = ("email", "order_no", "sku", "variant", "price", "currency", "sold_at")


def visits(**changes: Any) -> Destination:
    fields: dict[str, Any] = dict(
        name="store-visits", description="test", credential="test", primary_identifier="email",
        endpoint="custom-events", kind="custom-event", identifiers={"email": "email"},
        attributes={"Store": "store"}, constants={"Source": "POS"},
        event=EventMapping(occurred_at="visited_at", type_column="kind", event_key=("visit_id",)),
    )
    fields.update(changes)
    return Destination(**fields)


def orders(**changes: Any) -> Destination:
    fields: dict[str, Any] = dict(
        name="till-receipts", description="test", credential="test", primary_identifier="email",
        endpoint="purchase-events", kind="purchase", identifiers={"email": "email"},
        event=EventMapping(occurred_at="sold_at", order_column="order_no", product_id_column="sku",
                           product_variant_id_column="variant", price_column="price", currency_column="currency"),
    )
    fields.update(changes)
    return Destination(**fields)


def stamp(hours_ago: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def visit(i: int, *, hours_ago: float = 1, **changes: Any) -> dict[str, Any]:
    row = {"email": f"visitor{i}@example.com", "visit_id": f"V{i:05d}", "store": f"Store {i % 7}",
           "visited_at": stamp(hours_ago), "kind": "In-store visit"}
    row.update(changes)
    return row


def write_visits(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_csv(path, rows, VISIT_HEADER)


def order_rows(order: int, items: int = 2, **changes: Any) -> list[dict[str, Any]]:
    rows = []
    for item in range(items):
        row = {"email": f"buyer{order}@example.com", "order_no": f"R{order:05d}", "sku": f"SKU{item}",
               "variant": f"SKU{item}-M", "price": f"{10 + item}.50", "currency": "USD", "sold_at": stamp(2)}
        row.update(changes)
        rows.append(row)
    return rows


def write_orders(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_csv(path, rows, ORDER_HEADER)


def arrivals(sim: Any, endpoint: str) -> dict[str, int]:
    """How many times each event arrived: by externalEventId (custom events) or orderId (purchases)."""
    return dict(sim.sim.state.events.counts(endpoint))


CONSENT_HEADER = ("phone", "sms_opt_in")


def optins(**changes: Any) -> Destination:
    """A subscriptions destination: phones, consent in `sms_opt_in`, a locale and a type (no sign-up id)."""
    fields: dict[str, Any] = dict(
        name="sms-optins", description="test", credential="test", primary_identifier="phone",
        endpoint="subscriptions", kind="subscription", identifiers={"phone": "phone"},
        subscription=SubscriptionMapping(consent_column="sms_opt_in", single_opt_in=False, language="en",
                                         country="US", subscription_type="MARKETING"),
    )
    fields.update(changes)
    return Destination(**fields)


def phone(i: int) -> str:
    return f"+1212555{i:04d}"


def write_consents(path: Path, consents: list[str]) -> Path:
    """One row per person i: phone(i) and the consent text given."""
    return write_csv(path, [{"phone": phone(i), "sms_opt_in": consent} for i, consent in enumerate(consents)],
                     CONSENT_HEADER)
