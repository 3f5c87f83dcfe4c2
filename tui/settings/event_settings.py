"""The rules of an event destination (kind "custom-event" or "purchase"), checked by the loader's
destination rules, which locate and report each problem.

    [destinations.visits]
    kind = "custom-event"
    credential = "attentive"
    primary_identifier = "email"
    identifiers = { email = "email" }
    [destinations.visits.event]
    type = "In-store visit"            # or type_column = "event_type"
    occurred_at = "visited_at"         # the column of the event's time
    time_zone = "America/New_York"     # IANA; for times written without an offset
    event_key = ["store_id", "visit_no"]  # the columns whose values identify one event
    sms = false                        # true: lists and objects in properties are refused (email only)
    [destinations.visits.attributes]   # event properties: property name -> column
    "Store" = "store_name"
    [destinations.visits.constants]    # properties sent on every event
    "Source" = "POS"

A purchase's [event] names order_column, product_id_column, product_variant_id_column, price_column,
currency_column or a constant currency (one is required: Attentive's silent USD default would
mislabel a shop's other currencies), and optionally quantity_column, name_column, product_url_column,
product_image_column, sales_channel (default IN_STORE) and event_key (default: the order column).
A purchase has no properties in the spec, so [attributes] and [constants] are refused for it.

occurred_at is required for both kinds: an offline event sent without its time would be stamped
with the time of the send and, being "new", would trigger journeys meant for that moment.
"""
from __future__ import annotations

import difflib
import json
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.attentive import events
from tui.settings.currencies import is_iso_4217
from tui.settings.model import DestinationKind, EventMapping
from tui.settings.sensitive import sensitive_category

# key of [destinations.NAME.event] -> (TOML kind, example shown in the fix)
EVENT_FIELDS = {
    "type": ("string", '"In-store visit"'), "type_column": ("string", '"event_type"'),
    "occurred_at": ("string", '"occurred_at"'), "time_zone": ("string", '"America/New_York"'),
    "event_key": ("array", '["store_id", "receipt_no"]'), "sms": ("boolean", "false"),
    "order_column": ("string", '"order_id"'), "product_id_column": ("string", '"product_id"'),
    "product_variant_id_column": ("string", '"variant_id"'), "price_column": ("string", '"price"'),
    "currency_column": ("string", '"currency"'), "currency": ("string", '"USD"'),
    "quantity_column": ("string", '"quantity"'), "name_column": ("string", '"product_name"'),
    "product_url_column": ("string", '"product_url"'), "product_image_column": ("string", '"image_url"'),
    "sales_channel": ("string", '"IN_STORE"'),
}
CUSTOM_ONLY = ("type", "type_column", "sms")
PURCHASE_ONLY = ("order_column", "product_id_column", "product_variant_id_column", "price_column", "currency_column",
                 "currency", "quantity_column", "name_column", "product_url_column", "product_image_column",
                 "sales_channel")
REQUIRED: dict[str, tuple[str, ...]] = {
    "custom-event": ("occurred_at", "event_key"),
    "purchase": ("occurred_at", "order_column", "product_id_column", "product_variant_id_column", "price_column"),
}
# Keys of [destinations.NAME] that mean nothing to an event destination -> (why, fix).
NOT_FOR_EVENTS = {
    "endpoint": ("an event destination sends to its kind's v1 events endpoint, not an attributes endpoint",
                 "remove endpoint; kind decides where events go"),
    "audience": ("audience membership is kept with attributes, not events",
                 'remove it, or send the audience from a destination with kind = "attributes"'),
    "audience_shrink_limit": ("audience_shrink_limit guards audience membership, which events do not keep",
                              "remove it"),
    "types": ("event properties are not converted: they go as the file holds them (text from CSV; numbers and "
              "true/false from JSON Lines and Parquet)", "remove [types]"),
    "custom_identifiers": ("an event's user is its primary identifier", "remove [custom_identifiers]"),
    "subscriptions": ("subscriptions are sent with profiles, not events", "remove subscriptions"),
}
PROPERTIES_MAX = events.PROPERTIES_USABLE_MAX


@dataclass(frozen=True)
class EventProblem:
    at: tuple[str | int, ...]   # the key path under [destinations.NAME]
    message: str                # shown after that path
    fix: str
    on_value: bool = True       # the value is wrong (else the key, or a key missing from the table)


def _shown(chars: frozenset[str]) -> str:
    return " ".join(sorted(chars))


def event_mapping(kind: DestinationKind, values: Mapping[str, Any]) -> tuple[EventMapping | None, list[EventProblem]]:
    """The [event] table's keys, each already of its TOML kind or None (absent or wrongly typed,
    reported by the caller), checked for `kind`; the mapping when there is no problem."""
    problems: list[EventProblem] = []

    def add(key: str | None, message: str, fix: str, on_value: bool = True) -> None:
        problems.append(EventProblem(("event",) if key is None else ("event", key), message, fix, on_value))

    other, other_kind = (PURCHASE_ONLY, "purchase") if kind == "custom-event" else (CUSTOM_ONLY, "custom-event")
    for key in other:
        if values.get(key) is not None:
            add(key, f"{key} applies to {other_kind} destinations only", f'remove it, or set kind = "{other_kind}"', False)
    for key, value in values.items():
        if (key == "occurred_at" or key.endswith("_column")) and isinstance(value, str) and not value.strip():
            add(key, "must name a source column (non-empty text)", f"write {key} = {EVENT_FIELDS[key][1]}")
    if kind == "custom-event":
        _type(values, add)
    else:
        _currency(values, add)
        channel = values.get("sales_channel")
        if channel is not None and channel not in events.SALES_CHANNELS:
            close = difflib.get_close_matches(channel.upper(), events.SALES_CHANNELS, n=1)
            add("sales_channel", f"unknown sales channel {json.dumps(channel)}",
                f'did you mean "{close[0]}"?' if close else f"use one of {', '.join(events.SALES_CHANNELS)}")
    zone = values.get("time_zone")
    if zone is not None and (problem := time_zone_problem(zone)) is not None:
        add("time_zone", *problem)
    key_columns = _event_key(values.get("event_key"), problems)
    if problems:
        return None, problems
    fields = {key: value for key, value in values.items() if value is not None and key in EVENT_FIELDS}
    fields["event_key"] = key_columns
    return EventMapping(**fields), []


def _type(values: Mapping[str, Any], add: Any) -> None:
    constant, column = values.get("type"), values.get("type_column")
    if constant is not None and column is not None:
        add("type_column", "type and type_column are both given", "keep one: a constant type or the column holding it")
    elif constant is None and column is None:
        add(None, "a custom event needs its type", 'add type = "In-store visit", or type_column = "event_type"', False)
    elif constant is not None:
        bad = events.forbidden_characters(constant, events.TYPE_FORBIDDEN)
        if not constant.strip():
            add("type", "the event type is empty", 'name the event, e.g. type = "In-store visit"')
        elif bad:
            add("type", f"event type {json.dumps(constant)} contains {bad}, which Attentive refuses in a type "
                        f"({_shown(events.TYPE_FORBIDDEN)})", "remove those characters, e.g. \"In-store visit\"")


def _currency(values: Mapping[str, Any], add: Any) -> None:
    constant, column = values.get("currency"), values.get("currency_column")
    if constant is not None and column is not None:
        add("currency", "currency and currency_column are both given",
            "keep one: a constant currency for every price, or the column holding each price's currency")
    elif constant is None and column is None:
        add(None, "a purchase needs the currency of its prices",
            'add currency_column = "currency", or currency = "USD" when every price is in one currency', False)
    elif constant is not None and not is_iso_4217(constant):
        upper = constant.strip().upper()
        add("currency", f"currency {json.dumps(constant)} is not an ISO 4217 code",
            f'write currency = "{upper}"' if is_iso_4217(upper) else 'use a three-letter ISO 4217 code such as "USD" or "EUR"')


def _event_key(columns: Any, problems: list[EventProblem]) -> tuple[str, ...]:
    if columns is None:
        return ()
    if not columns:
        problems.append(EventProblem(("event", "event_key"), "names no column",
                                     'list the columns whose values identify one event, e.g. ["store_id", "receipt_no"]'))
    seen: list[str] = []
    for index, column in enumerate(columns):
        if not isinstance(column, str) or not column.strip():
            problems.append(EventProblem(("event", "event_key", index), "must name a source column (non-empty text)",
                                         'write each column as text, e.g. ["store_id", "receipt_no"]'))
        elif column in seen:
            problems.append(EventProblem(("event", "event_key", index), f"names {json.dumps(column)} twice",
                                         "list each column once"))
        else:
            seen.append(column)
    return tuple(seen)


def time_zone_problem(name: str) -> tuple[str, str] | None:
    """(message, fix) when `name` is not an IANA time zone zoneinfo knows, else None."""
    try:
        zoneinfo.ZoneInfo(name)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
    return (f"unknown time zone {json.dumps(name)}",
            f'did you mean "{close[0]}"?' if close else 'use an IANA name such as "America/New_York", "Europe/London" or "UTC"')


def property_problems(attributes: Mapping[str, Any], constants: Mapping[str, Any]) -> list[EventProblem]:
    """Every reason a custom event's properties ([attributes]: name -> column, [constants]: name ->
    value) cannot be sent. Columns are checked by the caller, as for attributes."""
    problems: list[EventProblem] = []
    for table, names in (("attributes", attributes), ("constants", constants)):
        for name, value in names.items():
            at = (table, name)
            bad = events.forbidden_characters(name, events.PROPERTY_KEY_FORBIDDEN)
            category = sensitive_category(name)
            if not name.strip():
                problems.append(EventProblem(at, "a property name is empty", "give the event property a name", False))
            elif bad:
                problems.append(EventProblem(at, f"property name {json.dumps(name)} contains {bad}, which Attentive "
                                                 f"refuses in property names ({_shown(events.PROPERTY_KEY_FORBIDDEN)})",
                                             "rename the property without them", False))
            elif category is not None:
                problems.append(EventProblem(at, f"property name {name!r} falls into the sensitive-data category "
                                                 f"\"{category}\"", "remove it; sensitive personal data must not be "
                                                                    "sent to Attentive", False))
            elif table == "constants" and name in attributes:
                problems.append(EventProblem(at, f"constant {name!r} has the same name as the mapped property {name!r} "
                                                 f"(column {attributes[name]!r})",
                                             "rename the constant or remove one of the two", False))
            elif table == "constants" and not isinstance(value, str):
                problems.append(EventProblem(at, f"constant {name!r} must be text, not {type(value).__name__}",
                                             f'quote the value ("{name}" = "{value}")'))
            elif table == "constants" and not value.strip():
                problems.append(EventProblem(at, f"constant {name!r} is empty", "give it a value or remove it"))
    count = len(set(attributes) | set(constants))
    if count > PROPERTIES_MAX:
        problems.append(EventProblem(("attributes",), f"{count} event properties (with the constants); Attentive makes "
                                                      f"at most {PROPERTIES_MAX} usable in journeys and macros",
                                     f"send at most {PROPERTIES_MAX} properties", False))
    return problems
