"""Request bodies for the Attentive endpoints we call, in the shapes of Attentive's OpenAPI specs.

Identifiers that are None, empty or blank are left out, never sent: Attentive asks for that, and an
empty identifier could bridge unrelated profiles. tests/client/test_contract_payloads.py validates
every shape built here against the shipped spec files.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeGuard

from tui.attentive import events
from tui.attentive.endpoints import BULK_MAX_USERS, ECOMMERCE_EVENTS

IDENTIFIER_KINDS = ("email", "phone")
V1_USER_KEYS = frozenset({"email", "phone", "externalIdentifiers"})
SUBSCRIPTION_TYPES = ("MARKETING", "TRANSACTIONAL")
# What an unsubscribe may name (the v1 spec's SubscriptionDto), and the notification languages its
# NotificationConfigDto says are supported ("Currently only supports en-US and fr-CA").
UNSUBSCRIBE_TYPES = ("MARKETING", "TRANSACTIONAL", "CHECKOUT_ABANDONED")
CHANNELS = ("TEXT", "EMAIL")
NOTIFICATION_LANGUAGES = ("en-US", "fr-CA")


class PayloadError(ValueError):
    """A body cannot be built from what was given; the message says what is missing or wrong."""


def identifiers(*, email: str | None = None, phone: str | None = None) -> dict[str, str]:
    """{email?, phone?} with only the identifiers that have a value; at least one is required."""
    found = {kind: value for kind, value in (("email", email), ("phone", phone)) if _present(value)}
    if not found:
        raise PayloadError("a profile needs an email or a phone; both are empty")
    return found


def custom_attributes_body(user: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """POST /v1/attributes/custom: {"user": {email|phone}, "properties": {...}}."""
    return {"user": _v1_user(user), "properties": _properties(properties)}


def bulk_user_item(user: Mapping[str, Any], custom: Mapping[str, Any]) -> dict[str, Any]:
    """One item of POST /v2/bulk/user/attributes: {"identifiers": {...}, "attributes": {"custom": {...}}}.

    `user` uses the same keys as the v1 user ({"email"}, {"phone"}, and beside either
    "externalIdentifiers": {clientUserId?, customIdentifiers?: [{name, value}]}): callers build one
    kind of profile and choose the endpoint later. v2 puts clientUserId and customIdentifiers
    ([{key, value}]) in `identifiers` itself, beside email or phone."""
    if not user.keys() <= V1_USER_KEYS:
        unknown = sorted(set(user) - V1_USER_KEYS)
        raise PayloadError(f"unsupported identifier {unknown[0]!r} for a bulk item; use email or phone, "
                           "and externalIdentifiers beside them")
    found: dict[str, Any] = identifiers(email=user.get("email"), phone=user.get("phone"))
    external = user.get("externalIdentifiers")
    if external:
        cleaned = _external_identifiers(external)
        if "clientUserId" in cleaned:
            found["clientUserId"] = cleaned["clientUserId"]
        if "customIdentifiers" in cleaned:
            found["customIdentifiers"] = [{"key": item["name"], "value": item["value"]}
                                          for item in cleaned["customIdentifiers"]]
    return {"identifiers": found, "attributes": {"custom": _properties(custom)}}


def bulk_items(kind: str, profiles: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]]) -> list[dict[str, Any]]:
    """bulk_user_item for each (identifier, custom attributes, externalIdentifiers or None) of one
    identifier kind: the same items, with the kind checked once and each attribute name once, not per
    profile (a send builds 25,600 a second). An item shares its attributes dict with the caller."""
    if kind not in IDENTIFIER_KINDS:
        raise PayloadError(f"unsupported identifier {kind!r} for a bulk item; use email or phone")
    checked: set[str] = set()
    items = []
    for identifier, custom, external in profiles:
        if external or not _present(identifier) or type(custom) is not dict:
            items.append(bulk_user_item({kind: identifier, "externalIdentifiers": external}, custom))
            continue
        if not custom.keys() <= checked:
            checked.update(_properties(custom))
        items.append({"identifiers": {kind: identifier}, "attributes": {"custom": custom}})
    return items


def bulk_body(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """POST /v2/bulk/user/attributes: {"users": [1..256 items]}."""
    if not 1 <= len(items) <= BULK_MAX_USERS:
        raise PayloadError(f"a bulk request carries 1 to {BULK_MAX_USERS} users, got {len(items)}")
    return {"users": [item if type(item) is dict else dict(item) for item in items]}


def subscription_body(
    user: Mapping[str, Any],
    *,
    sign_up_source_id: str | None = None,
    locale: tuple[str, str] | None = None,
    subscription_type: str | None = None,
    client_user_id: str | None = None,
    single_opt_in: bool = False,
) -> dict[str, Any]:
    """POST /v1/subscriptions. Needs a sign-up source, or a locale (language, country) with a
    subscription type. singleOptIn is sent only when asked for: double opt-in is Attentive's default."""
    unknown = sorted(set(user) - set(IDENTIFIER_KINDS))
    if unknown:
        raise PayloadError(f"unsupported identifier {unknown[0]!r} for a subscription; use email or phone")
    body: dict[str, Any] = {"user": identifiers(email=user.get("email"), phone=user.get("phone"))}
    if _present(sign_up_source_id):
        body["signUpSourceId"] = sign_up_source_id
    elif locale is not None and subscription_type is not None:
        language, country = locale
        if not (_present(language) and _present(country)):
            raise PayloadError("a subscription locale needs both a language and a country, e.g. ('en', 'US')")
        if subscription_type not in SUBSCRIPTION_TYPES:
            raise PayloadError(f"subscription type must be one of {', '.join(SUBSCRIPTION_TYPES)}, got {subscription_type!r}")
        body["locale"] = {"language": language, "country": country}
        body["subscriptionType"] = subscription_type
    else:
        raise PayloadError("a subscription needs a sign-up source id, or a locale and a subscription type")
    if _present(client_user_id):
        body["externalIdentifiers"] = {"clientUserId": client_user_id}
    if single_opt_in:
        body["singleOptIn"] = True
    return body


def unsubscribe_body(
    user: Mapping[str, Any],
    subscriptions: Sequence[Mapping[str, Any] | tuple[str, str]] | None = None,
    *,
    notification_disabled: bool = True,
    language: str | None = None,
) -> dict[str, Any]:
    """POST /v1/subscriptions/unsubscribe: {user: {phone|email}, subscriptions?: [{type, channel}],
    notification: {language?, disabled}}.

    No subscriptions (None or empty) unsubscribes the person from all of theirs. A subscription is
    {"type", "channel"} or a (type, channel) pair. An email reaches EMAIL subscriptions only and a
    phone TEXT ones only (the spec), so a channel whose identifier is missing is refused.
    notification_disabled defaults to True: no "you are unsubscribed" text unless asked for."""
    unknown = sorted(set(user) - set(IDENTIFIER_KINDS))
    if unknown:
        raise PayloadError(f"unsupported identifier {unknown[0]!r} for an unsubscribe; use email or phone")
    found = identifiers(email=user.get("email"), phone=user.get("phone"))
    body: dict[str, Any] = {"user": found}
    if subscriptions:
        body["subscriptions"] = [_subscription(index, item, found) for index, item in enumerate(subscriptions)]
    if not isinstance(notification_disabled, bool):
        raise PayloadError(f"notification_disabled must be True or False, got {notification_disabled!r}")
    notification: dict[str, Any] = {}
    if language is not None:
        if language not in NOTIFICATION_LANGUAGES:
            raise PayloadError(f"notification language must be one of {', '.join(NOTIFICATION_LANGUAGES)} "
                               f"(case-sensitive), got {language!r}")
        notification["language"] = language
    notification["disabled"] = notification_disabled
    body["notification"] = notification
    return body


def _subscription(index: int, item: Mapping[str, Any] | tuple[str, str], user: Mapping[str, str]) -> dict[str, str]:
    if isinstance(item, Mapping):
        kind, channel = item.get("type"), item.get("channel")
    elif isinstance(item, tuple) and len(item) == 2:
        kind, channel = item
    else:
        raise PayloadError(f"subscriptions[{index}] must be {{'type', 'channel'}} or a (type, channel) pair")
    if kind not in UNSUBSCRIBE_TYPES:
        raise PayloadError(f"subscriptions[{index}].type must be one of {', '.join(UNSUBSCRIBE_TYPES)}, got {kind!r}")
    if channel not in CHANNELS:
        raise PayloadError(f"subscriptions[{index}].channel must be TEXT or EMAIL, got {channel!r}")
    needed = "phone" if channel == "TEXT" else "email"
    if needed not in user:
        raise PayloadError(f"subscriptions[{index}] is a {channel} subscription, which only the user's {needed} "
                           f"reaches; give the {needed}")
    return {"type": kind, "channel": channel}


def custom_event_body(
    user: Mapping[str, Any],
    event_type: str,
    properties: Mapping[str, Any] | None = None,
    *,
    external_event_id: str | None = None,
    occurred_at: str | dt.datetime | None = None,
) -> dict[str, Any]:
    """POST /v1/events/custom: {type, properties?, externalEventId?, occurredAt?, user}.

    `type` is sent exactly as given (Attentive's types are case-sensitive). Property values may be any
    JSON; lists and objects reach email messages only, which is the caller's rule to apply. Empty
    properties, id and time are left out (no occurredAt: Attentive takes the time of the call)."""
    if not isinstance(event_type, str) or not event_type.strip():
        raise PayloadError("a custom event needs a type, such as 'Order Shipped'")
    bad = events.forbidden_characters(event_type, events.TYPE_FORBIDDEN)
    if bad:
        raise PayloadError(f"event type {event_type[:60]!r} contains {bad}; a type cannot contain "
                           + _shown(events.TYPE_FORBIDDEN))
    body: dict[str, Any] = {"type": event_type}
    cleaned = _event_properties(properties or {})
    if cleaned:
        body["properties"] = cleaned
    if external_event_id is not None:
        if not _present(external_event_id):
            raise PayloadError("externalEventId is blank; give the event's id or leave it out")
        body["externalEventId"] = external_event_id
    _add_occurred_at(body, occurred_at, basic_offset=False)
    body["user"] = _v1_user(user)
    return body


def product_item(
    product_id: str,
    product_variant_id: str,
    price: float | int | Decimal,
    currency: str | None = None,
    *,
    name: str | None = None,
    quantity: int | None = None,
    product_url: str | None = None,
    product_image: str | None = None,
) -> dict[str, Any]:
    """One item of an eCommerce event: {productId, productVariantId, price: [{value, currency?}], name?,
    quantity?, productUrl?, productImage?}. No currency: Attentive's default (USD) applies."""
    for label, value in (("productId", product_id), ("productVariantId", product_variant_id)):
        if not _present(value):
            raise PayloadError(f"an item needs a {label}; it is empty")
    if isinstance(price, bool) or not isinstance(price, (int, float, Decimal)) or not math.isfinite(price):
        raise PayloadError(f"price {price!r} is not a number")
    amount: dict[str, Any] = {"value": float(price) if isinstance(price, Decimal) else price}
    if currency is not None:
        if not events.is_currency(currency):
            raise PayloadError(f"currency {currency!r} is not an ISO 4217 code such as USD or EUR")
        amount["currency"] = currency
    item: dict[str, Any] = {"productId": product_id, "productVariantId": product_variant_id, "price": [amount]}
    if quantity is not None:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise PayloadError(f"quantity {quantity!r} is not a whole number of at least 1")
        item["quantity"] = quantity
    for key, text in (("name", name), ("productUrl", product_url), ("productImage", product_image)):
        if _present(text):
            item[key] = text
    return item


def ecommerce_event_body(
    kind: str,
    user: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    order_id: str | None = None,
    occurred_at: str | dt.datetime | None = None,
    sales_channel: str | None = None,
) -> dict[str, Any]:
    """POST /v1/events/ecommerce/{purchase,add-to-cart,product-view}: {items, orderId?, occurredAt?,
    user, salesChannel?}, items from product_item. Only a purchase has orderId and salesChannel in the
    spec; given for another kind they are refused, not silently dropped."""
    if kind not in ECOMMERCE_EVENTS:
        raise PayloadError(f"unknown eCommerce event {kind!r}; use {', '.join(ECOMMERCE_EVENTS)}")
    if not items:
        raise PayloadError(f"a {kind} event needs at least one item")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not all(item.get(key) for key in ("productId", "productVariantId", "price")):
            raise PayloadError(f"items[{index}] needs productId, productVariantId and price; build it with product_item")
    body: dict[str, Any] = {"items": [dict(item) for item in items]}
    if kind != "purchase" and (order_id is not None or sales_channel is not None):
        raise PayloadError(f"a {kind} event has no orderId or salesChannel in Attentive's spec; only a purchase does")
    if order_id is not None:
        if not _present(order_id):
            raise PayloadError("orderId is blank; give the order's id or leave it out")
        body["orderId"] = order_id
    _add_occurred_at(body, occurred_at, basic_offset=True)
    body["user"] = _v1_user(user)
    if sales_channel is not None and sales_channel != "":
        if sales_channel not in events.SALES_CHANNELS:
            raise PayloadError(f"sales channel {sales_channel!r} is not one of {', '.join(events.SALES_CHANNELS)}")
        body["salesChannel"] = {"channelType": sales_channel}
    return body


def _add_occurred_at(body: dict[str, Any], occurred_at: str | dt.datetime | None, *, basic_offset: bool) -> None:
    if occurred_at is None or occurred_at == "":
        return
    try:
        if isinstance(occurred_at, dt.datetime):
            body["occurredAt"] = events.format_occurred_at(occurred_at)
        else:
            events.parse_occurred_at(occurred_at, basic_offset=basic_offset)
            body["occurredAt"] = occurred_at
    except events.TimestampError as exc:
        raise PayloadError(f"occurredAt {exc}") from None


def _event_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(properties, Mapping):
        raise PayloadError("event properties must be a mapping of name to value")
    for name in properties:
        if not isinstance(name, str) or not name:
            raise PayloadError(f"event property names must be non-empty strings, got {name!r}")
        bad = events.forbidden_characters(name, events.PROPERTY_KEY_FORBIDDEN)
        if bad:
            raise PayloadError(f"event property {name[:60]!r} contains {bad}; a property name cannot contain "
                               + _shown(events.PROPERTY_KEY_FORBIDDEN))
    return dict(properties)


def _shown(chars: frozenset[str]) -> str:
    return " ".join(sorted(chars))


def _v1_user(user: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(user) - V1_USER_KEYS)
    if unknown:
        raise PayloadError(f"unsupported user field {unknown[0]!r}; use email, phone or externalIdentifiers")
    cleaned: dict[str, Any] = {kind: user[kind] for kind in IDENTIFIER_KINDS if _present(user.get(kind))}
    external = _external_identifiers(user.get("externalIdentifiers"))
    if external:
        cleaned["externalIdentifiers"] = external
    if not cleaned:
        raise PayloadError("a profile needs an email, a phone or an external identifier; all are empty")
    return cleaned


def _external_identifiers(value: Any) -> dict[str, Any]:
    """v1 externalIdentifiers: {clientUserId?, customIdentifiers?: [{name, value}]}, empties dropped."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError("externalIdentifiers must be an object with clientUserId and/or customIdentifiers")
    cleaned: dict[str, Any] = {}
    if _present(value.get("clientUserId")):
        cleaned["clientUserId"] = value["clientUserId"]
    custom = [
        {"name": item["name"], "value": item["value"]}
        for item in value.get("customIdentifiers") or ()
        if _present(item.get("name")) and _present(item.get("value"))
    ]
    if custom:
        cleaned["customIdentifiers"] = custom
    return cleaned


def _properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(properties, Mapping):
        raise PayloadError("attributes must be a mapping of name to value")
    for name in properties:
        if not isinstance(name, str) or not name:
            raise PayloadError(f"attribute names must be non-empty strings, got {name!r}")
    return dict(properties)


def _present(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.strip() != ""
