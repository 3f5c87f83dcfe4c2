"""Every event body the builders can build validates against the request schema of its operation in
the shipped v1 spec (compiled from a $ref into the spec file itself, as test_contract_payloads.py
does), and the builders refuse what Attentive's texts forbid before anything is sent."""
from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal

import fastjsonschema
import pytest
from spec_kit import v1 as _v1

from tui.attentive import endpoints, events, payloads


def v1(path: str):
    """The spec's validator, on a copy: fastjsonschema fills in defaults (a price's USD) as it checks."""
    check = _v1(path)
    return lambda body: check(copy.deepcopy(body))


USERS = [
    {"email": "ada@example.com"},
    {"phone": "+13115552368", "email": ""},
    {"email": "ada@example.com", "externalIdentifiers": {"clientUserId": "c-1",
                                                         "customIdentifiers": [{"name": "loyaltyId", "value": "L-9"}]}},
]
TIMES = [None, "2021-03-30T14:38:29.000Z", "2021-03-30T09:38:29-05:00",
         dt.datetime(2021, 3, 30, 14, 38, 29, tzinfo=dt.timezone.utc),
         dt.datetime(2021, 3, 30, 16, 38, 29, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("occurred_at", TIMES)
def test_custom_event_bodies_match_the_spec(user, occurred_at):
    properties = {"Order Id": "54321", "total": 19.99, "products": ["p1", "p2"], "shipment": {"carrier": "fedex"}}
    body = payloads.custom_event_body(user, "Order Shipped", properties,
                                      external_event_id="37fb97a9-6cfd-4983-bd65-68d104d53b70", occurred_at=occurred_at)
    v1(endpoints.CUSTOM_EVENTS.path)(body)
    assert body["type"] == "Order Shipped" and body["properties"] == properties
    assert ("occurredAt" in body) is (occurred_at is not None)


def test_a_minimal_custom_event_leaves_out_every_empty_field():
    body = payloads.custom_event_body({"email": "ada@example.com", "phone": None}, "Visited Store", {})
    v1(endpoints.CUSTOM_EVENTS.path)(body)
    assert body == {"type": "Visited Store", "user": {"email": "ada@example.com"}}


@pytest.mark.parametrize(("moment", "text"), [
    (dt.datetime(2021, 3, 30, 14, 38, 29, tzinfo=dt.timezone.utc), "2021-03-30T14:38:29Z"),
    (dt.datetime(2021, 3, 30, 14, 38, 29, 120000, tzinfo=dt.timezone.utc), "2021-03-30T14:38:29.120Z"),
    (dt.datetime(2021, 3, 30, 9, 38, 29, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2021-03-30T09:38:29-05:00"),
])
def test_datetimes_are_written_as_rfc_3339_with_z_or_an_offset(moment, text):
    body = payloads.custom_event_body({"email": "ada@example.com"}, "Visit", occurred_at=moment)
    assert body["occurredAt"] == text
    assert events.parse_occurred_at(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.mark.parametrize("kind", list(endpoints.ECOMMERCE_EVENTS))
@pytest.mark.parametrize("user", USERS)
def test_ecommerce_bodies_match_the_spec(kind, user):
    items = [
        payloads.product_item("AB12345", "CD12345", 19.99, "USD", name="T-Shirt", quantity=2,
                              product_url="https://shop.example.com/p/ab", product_image="https://cdn.example.com/ab.png"),
        payloads.product_item("EF1", "EF1-M", Decimal("5.50")),
        payloads.product_item("GH2", "GH2-L", 12, "EUR", name=""),
    ]
    purchase = {"order_id": "order-17", "sales_channel": "IN_STORE"} if kind == "purchase" else {}
    body = payloads.ecommerce_event_body(kind, user, items, occurred_at="2021-03-30T14:38:29+00:00", **purchase)
    v1(endpoints.ECOMMERCE_EVENTS[kind].path)(body)
    assert body["items"][1] == {"productId": "EF1", "productVariantId": "EF1-M", "price": [{"value": 5.5}]}
    assert "name" not in body["items"][2]
    if kind == "purchase":
        assert (body["orderId"], body["salesChannel"]) == ("order-17", {"channelType": "IN_STORE"})
    else:
        assert "orderId" not in body and "salesChannel" not in body


def test_the_event_validators_are_real_and_refuse_what_the_spec_forbids():
    custom, purchase = v1(endpoints.CUSTOM_EVENTS.path), v1(endpoints.PURCHASE_EVENTS.path)
    for bad in ({"user": {"email": "a@example.com"}}, {"type": "x", "user": {}}, {"type": "x", "user": {"name": "n"}},
                {"type": "x", "user": {"email": "a@example.com"}, "occurredAt": "2021-03-30T14:38:29"}):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            custom(bad)
    item = {"productId": "a", "productVariantId": "b", "price": []}
    for bad in ({"items": [item], "user": {"email": "a@example.com"}},
                {"items": [{**item, "price": [{"value": 1}]}], "user": {"email": "a@example.com"},
                 "salesChannel": {"channelType": "MAIL"}}):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            purchase(bad)


USER = {"email": "ada@example.com"}
ITEM = {"productId": "a", "productVariantId": "b", "price": [{"value": 1.0}]}


@pytest.mark.parametrize(("build", "message"), [
    (lambda: payloads.custom_event_body(USER, ""), "needs a type"),
    (lambda: payloads.custom_event_body(USER, "Order (shipped)"), "contains ()"),
    (lambda: payloads.custom_event_body(USER, "a,b|c"), "contains ,|"),
    (lambda: payloads.custom_event_body(USER, "Visit", {"bad[key]": 1}), "contains []"),
    (lambda: payloads.custom_event_body(USER, "Visit", {"": 1}), "non-empty strings"),
    (lambda: payloads.custom_event_body(USER, "Visit", external_event_id=" "), "externalEventId is blank"),
    (lambda: payloads.custom_event_body(USER, "Visit", occurred_at="2021-03-30T14:38:29"), "has no UTC offset"),
    (lambda: payloads.custom_event_body(USER, "Visit", occurred_at="2021-03-30T14:38:29+0000"), "with a colon, +00:00"),
    (lambda: payloads.custom_event_body(USER, "Visit", occurred_at="30/03/2021"), "not an RFC 3339 timestamp"),
    (lambda: payloads.custom_event_body(USER, "Visit", occurred_at="2021-02-30T14:38:29Z"), "not a real date"),
    (lambda: payloads.custom_event_body(USER, "Visit", occurred_at=dt.datetime(2021, 3, 30)), "has no time zone"),
    (lambda: payloads.custom_event_body({"email": " "}, "Visit"), "needs an email"),
    (lambda: payloads.product_item("a", "", 1), "needs a productVariantId"),
    (lambda: payloads.product_item("a", "b", "1.00"), "is not a number"),
    (lambda: payloads.product_item("a", "b", float("nan")), "is not a number"),
    (lambda: payloads.product_item("a", "b", 1, "usd"), "not an ISO 4217 code"),
    (lambda: payloads.product_item("a", "b", 1, quantity=0), "at least 1"),
    (lambda: payloads.ecommerce_event_body("refund", USER, [ITEM]), "unknown eCommerce event 'refund'"),
    (lambda: payloads.ecommerce_event_body("purchase", USER, []), "at least one item"),
    (lambda: payloads.ecommerce_event_body("purchase", USER, [{"productId": "a"}]), "items[0] needs"),
    (lambda: payloads.ecommerce_event_body("add-to-cart", USER, [ITEM], order_id="o-1"), "only a purchase"),
    (lambda: payloads.ecommerce_event_body("purchase", USER, [ITEM], sales_channel="MAIL"), "not one of WEB"),
    (lambda: payloads.ecommerce_event_body("purchase", USER, [ITEM], order_id=""), "orderId is blank"),
])
def test_event_builders_refuse_what_attentive_forbids_with_a_clear_message(build, message):
    with pytest.raises(payloads.PayloadError, match=re.escape(message)):
        build()


def test_an_ecommerce_timestamp_may_use_the_specs_own_offset_form():
    body = payloads.ecommerce_event_body("purchase", USER, [ITEM], occurred_at="2021-03-30T14:38:29+0000")
    v1(endpoints.PURCHASE_EVENTS.path)(body)
    assert body["occurredAt"] == "2021-03-30T14:38:29+0000"
