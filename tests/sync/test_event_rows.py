"""Event rows: a row -> a custom event or a rejection with its reason code; purchase rows grouped by
order; RFC 3339 times with and without a time zone (across daylight saving time); the 12-hour warning."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from tui.settings.model import Destination, EventMapping
from tui.sync import reasons
from tui.sync.events import CustomEventBuilder, EventRecord, is_stale
from tui.sync.profiles import Invalid
from tui.sync.purchases import PurchaseBuilder, PurchaseItem, PurchaseRecord
from tui.sync.source_files import SourceRow

VISITS = Destination(
    name="visits", description="", credential="main", primary_identifier="email", kind="custom-event",
    identifiers={"email": "email"}, attributes={"Store": "store", "Basket": "basket"}, constants={"Source": "POS"},
    event=EventMapping(occurred_at="at", time_zone="America/New_York", event_key=("store", "visit"), type="In-store visit"),
)
ORDERS = Destination(
    name="orders", description="", credential="main", primary_identifier="phone", kind="purchase",
    identifiers={"phone": "phone"},
    event=EventMapping(occurred_at="at", order_column="order", product_id_column="sku", product_variant_id_column="variant",
                       price_column="price", currency_column="currency", quantity_column="qty", name_column="name"),
)


def event_row(builder: CustomEventBuilder, row: int = 2, **values: Any) -> SourceRow:
    base = {"email": "Ann@Example.COM", "at": "2026-01-15T10:00:00-05:00", "store": "12", "visit": "7",
            "basket": None, "event_type": "Visit"}
    base.update(values)
    return SourceRow(row, [base.get(column) for column in builder.columns])


def build(destination: Destination = VISITS, **values: Any) -> EventRecord | Invalid:
    builder = CustomEventBuilder(destination)
    return builder.build(event_row(builder, **values))


def rejected(result: EventRecord | Invalid, reason: str) -> Invalid:
    assert isinstance(result, Invalid), result
    assert result.reason == reason, result
    return result


def with_event(destination: Destination, **changes: Any) -> Destination:
    assert destination.event is not None
    return dataclasses.replace(destination, event=dataclasses.replace(destination.event, **changes))


# -- custom events ---------------------------------------------------------------------------------
def test_a_row_becomes_an_event_with_its_user_key_properties_and_time() -> None:
    event = build(store=" 12 ", basket=["a", "b"])
    assert event == EventRecord(2, "In-store visit", {"Store": "12", "Basket": ["a", "b"], "Source": "POS"},
                                "2026-01-15T10:00:00-05:00", "Ann@example.com", "email", ("12", "7"))
    assert event.user() == {"email": "Ann@example.com"}


def test_empty_properties_are_left_out_and_numbers_in_keys_take_their_short_form() -> None:
    event = build(basket="  ", visit=7.0)
    assert isinstance(event, EventRecord)
    assert event.properties == {"Store": "12", "Source": "POS"} and event.key == ("12", "7")


def test_the_type_comes_from_its_column() -> None:
    destination = with_event(VISITS, type=None, type_column="event_type")
    event = build(destination, event_type=" Curbside pickup ")
    assert isinstance(event, EventRecord) and event.type == "Curbside pickup"


@pytest.mark.parametrize("value, words", [("Visit (store)", "contains ()"), ("Bob's, visit", "contains ',"),
                                          ("", "is empty"), (None, "is empty"), (["x"], "holds a list")])
def test_a_type_column_value_attentive_refuses(value: Any, words: str) -> None:
    result = rejected(build(with_event(VISITS, type=None, type_column="event_type"), event_type=value),
                      reasons.EVENT_TYPE_INVALID)
    assert words in result.message and "'event_type'" in result.message


def test_lists_and_objects_are_refused_on_an_sms_destination_only() -> None:
    assert isinstance(build(basket={"items": 2}), EventRecord)
    result = rejected(build(with_event(VISITS, sms=True), basket={"items": 2}), reasons.SMS_NESTED_PROPERTY)
    assert "'basket' (property 'Basket') holds a nested object" in result.message and "email messages only" in result.message


def test_more_than_200_property_keys_counting_nested_ones() -> None:
    assert isinstance(build(basket={f"k{i}": i for i in range(197)}), EventRecord)   # 197 + Store, Basket, Source
    result = rejected(build(basket={f"k{i}": i for i in range(198)}), reasons.TOO_MANY_PROPERTIES)
    assert "201 property keys" in result.message


def test_a_nested_key_with_a_forbidden_character() -> None:
    result = rejected(build(basket=[{"size|colour": "M"}]), reasons.PROPERTY_NAME_INVALID)
    assert "'size|colour'" in result.message


def test_a_missing_event_key_value() -> None:
    result = rejected(build(visit="  "), reasons.MISSING_EVENT_KEY)
    assert "'visit' (event_key) is empty" in result.message and result.identifier == "Ann@example.com"


@pytest.mark.parametrize("values, reason", [
    ({"email": ""}, reasons.MISSING_IDENTIFIER), ({"email": "not-an-email"}, reasons.INVALID_EMAIL),
    ({"email": ["a@b.com"]}, reasons.NON_SCALAR_VALUE), ({"store": {"id": 1}}, reasons.NON_SCALAR_VALUE),
])
def test_user_and_key_problems_reuse_the_profile_codes(values: dict[str, Any], reason: str) -> None:
    rejected(build(**values), reason)


def test_a_malformed_row() -> None:
    builder = CustomEventBuilder(VISITS)
    rejected(builder.build(SourceRow(9, [], "has 3 fields, the header 5")), reasons.MALFORMED_ROW)


# -- timestamps ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("2026-01-15T15:00:00Z", "2026-01-15T15:00:00Z"),
    ("2026-01-15t15:00:00.250z", "2026-01-15T15:00:00.250Z"),
    ("2026-01-15T10:00:00+0000", "2026-01-15T10:00:00Z"),          # the eCommerce example's offset form
    ("2026-01-15T10:00:00+05:30", "2026-01-15T10:00:00+05:30"),    # an offset given is kept
    ("2026-01-15T10:00:00", "2026-01-15T10:00:00-05:00"),          # New York in winter
    ("2026-07-15 10:00", "2026-07-15T10:00:00-04:00"),             # ... and in summer (daylight saving)
    ("2026-03-08T01:59:59", "2026-03-08T01:59:59-05:00"),          # the last second before spring forward
    ("2026-03-08T03:00:00", "2026-03-08T03:00:00-04:00"),          # the first after it
    ("2026-11-01T01:30:00", "2026-11-01T01:30:00-04:00"),          # repeated in autumn: the first of the two
])
def test_occurred_at_is_rfc_3339_with_z_or_an_offset(value: str, expected: str) -> None:
    event = build(at=value)
    assert isinstance(event, EventRecord), event
    assert event.occurred_at == expected


def test_a_time_without_offset_and_no_time_zone() -> None:
    result = rejected(build(with_event(VISITS, time_zone=None), at="2026-01-15T10:00:00"), reasons.TIMESTAMP_NO_OFFSET)
    assert "no UTC offset" in result.message and "add time_zone" in result.message
    event = build(with_event(VISITS, time_zone=None), at="2026-01-15T10:00:00Z")
    assert isinstance(event, EventRecord) and event.occurred_at == "2026-01-15T10:00:00Z"


def test_a_local_time_the_zone_skips_is_refused() -> None:
    result = rejected(build(at="2026-03-08T02:30:00"), reasons.TIMESTAMP_INVALID)
    assert "does not exist in America/New_York" in result.message


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T10:00:00Z", "2026-01-15", "2026-01-15T10:00:00+05",
                                   "", None, 1768489200, True])
def test_an_unreadable_timestamp(value: Any) -> None:
    result = rejected(build(at=value), reasons.TIMESTAMP_INVALID)
    assert "'at'" in result.message


def test_stale_after_twelve_hours() -> None:
    now = dt.datetime(2026, 1, 15, 22, 0, tzinfo=dt.timezone.utc)
    assert not is_stale("2026-01-15T10:00:00Z", now)                 # exactly 12 hours: still triggers journeys
    assert is_stale("2026-01-15T09:59:59Z", now)
    assert not is_stale("2026-01-15T05:00:00-05:00", now)            # 10:00Z, written in New York's offset
    assert not is_stale(now + dt.timedelta(hours=1), now)           # a clock ahead is not stale
    event = build(at="2026-01-15T04:59:59")                           # New York: 09:59:59Z
    assert isinstance(event, EventRecord) and is_stale(event.occurred_at, now)


# -- purchases -------------------------------------------------------------------------------------
def purchase_rows(builder: PurchaseBuilder, *rows: dict[str, Any]) -> list[SourceRow]:
    out = []
    for number, changes in enumerate(rows, start=2):
        values = {"phone": "(415) 555-2671", "at": "2026-01-15T10:00:00Z", "order": "A1", "sku": "SKU1",
                  "variant": "V1", "price": "19.99", "currency": "USD", "qty": "1", "name": None} | changes
        out.append(SourceRow(number, [values.get(column) for column in builder.columns]))
    return out


def group(*rows: dict[str, Any], destination: Destination = ORDERS) -> list[PurchaseRecord | Invalid]:
    builder = PurchaseBuilder(destination)
    return list(builder.group(purchase_rows(builder, *rows)))


def message(result: PurchaseRecord | Invalid) -> str:
    assert isinstance(result, Invalid), result
    return result.message


def reasons_of(results: list[PurchaseRecord | Invalid]) -> list[tuple[int, str]]:
    return [(r.row, r.reason if isinstance(r, Invalid) else "purchase") for r in results]


def test_rows_of_an_order_become_one_purchase() -> None:
    results = group({"sku": "S1", "name": "Shirt"}, {"sku": "S2", "price": 5, "qty": "2", "currency": "eur"},
                    {"order": "B2", "price": "0"})
    assert reasons_of(results) == [(2, "purchase"), (4, "purchase")]
    first = results[0]
    assert isinstance(first, PurchaseRecord)
    assert first.rows == (2, 3) and first.order_id == "A1" and first.key == ("A1",)
    assert first.user() == {"phone": "+14155552671"} and first.sales_channel == "IN_STORE"
    assert first.occurred_at == "2026-01-15T10:00:00Z"
    assert [item.as_json() for item in first.items] == [
        {"productId": "S1", "productVariantId": "V1", "price": [{"value": 19.99, "currency": "USD"}], "quantity": 1,
         "name": "Shirt"},
        {"productId": "S2", "productVariantId": "V1", "price": [{"value": 5, "currency": "EUR"}], "quantity": 2},
    ]
    assert results[1] == PurchaseRecord((4,), "B2", (PurchaseItem(4, "SKU1", "V1", 0, "USD", 1),), "2026-01-15T10:00:00Z",
                                        "+14155552671", "phone", "IN_STORE", ("B2",))


def test_a_constant_currency_and_a_channel() -> None:
    destination = with_event(ORDERS, currency_column=None, currency="GBP", sales_channel="PHONE")
    result = group({"currency": "nonsense"}, destination=destination)[0]
    assert isinstance(result, PurchaseRecord)
    assert result.items[0].currency == "GBP" and result.sales_channel == "PHONE"


@pytest.mark.parametrize("changes, reason, words", [
    ({"price": "$19.99"}, reasons.PRICE_INVALID, "not a number"),
    ({"price": "19,99"}, reasons.PRICE_INVALID, "not a number"),
    ({"price": ""}, reasons.PRICE_INVALID, "is empty"),
    ({"price": True}, reasons.PRICE_INVALID, "not a number"),
    ({"price": float("nan")}, reasons.PRICE_INVALID, "not a number"),
    ({"price": "-5"}, reasons.PRICE_INVALID, "not a number"),
    ({"price": -5}, reasons.PRICE_INVALID, "negative"),
    ({"currency": "ABC"}, reasons.CURRENCY_INVALID, "not an ISO 4217 code"),
    ({"currency": ""}, reasons.CURRENCY_INVALID, "is empty"),
    ({"qty": "0"}, reasons.QUANTITY_INVALID, "at least 1"),
    ({"qty": "1.5"}, reasons.QUANTITY_INVALID, "whole number"),
    ({"sku": " "}, reasons.MISSING_PURCHASE_VALUE, "'sku' (the product id) is empty"),
    ({"variant": None}, reasons.MISSING_PURCHASE_VALUE, "product variant id"),
    ({"phone": "12"}, reasons.INVALID_PHONE, "not a valid phone number"),
    ({"at": "2026-01-15T10:00:00"}, reasons.TIMESTAMP_NO_OFFSET, "no UTC offset"),
])
def test_a_bad_row_rejects_its_whole_order_naming_it(changes: dict[str, Any], reason: str, words: str) -> None:
    results = group({}, changes, {}, {"order": "B2"})
    assert reasons_of(results) == [(2, reasons.ORDER_REJECTED), (3, reason), (4, reasons.ORDER_REJECTED), (5, "purchase")]
    bad, other = results[1], results[0]
    assert isinstance(bad, Invalid) and words in bad.message
    assert isinstance(other, Invalid) and f"its row 3 was rejected ({reason})" in other.message


def test_rows_of_an_order_must_share_user_time_and_key() -> None:
    results = group({}, {"phone": "+14155550000"}, {"at": "2026-01-15T05:00:00-05:00"}, {"at": "2026-01-15T11:00:00Z"})
    # 05:00-05:00 is the same instant as 10:00Z: that row agrees.
    assert reasons_of(results) == [(2, reasons.ORDER_REJECTED), (3, reasons.ORDER_INCONSISTENT),
                                   (4, reasons.ORDER_REJECTED), (5, reasons.ORDER_INCONSISTENT)]
    assert "this row's user differ from row 2's" in message(results[1])
    assert "occurredAt differ from row 2's" in message(results[3])
    assert "its row 3 was rejected (order_inconsistent)" in message(results[0])
    keyed = with_event(ORDERS, event_key=("store", "order"))
    builder = PurchaseBuilder(keyed)
    rows = purchase_rows(builder, {"store": "1"}, {"store": "2"})
    assert reasons_of(list(builder.group(rows))) == [(2, reasons.ORDER_REJECTED), (3, reasons.ORDER_INCONSISTENT)]


def test_an_order_that_resumes_after_another_is_refused_naming_both_places() -> None:
    results = group({}, {}, {"order": "B2"}, {}, {"order": "C3"})
    assert reasons_of(results) == [(2, "purchase"), (4, "purchase"), (5, reasons.ORDER_NOT_CONTIGUOUS), (6, "purchase")]
    refused = results[2]
    assert isinstance(refused, Invalid)
    assert "order 'A1' was already read at rows 2-3 and resumes at row 5" in refused.message
    assert "sort the export by order" in refused.message


def test_rows_without_an_order_or_unreadable_reject_alone() -> None:
    builder = PurchaseBuilder(ORDERS)
    rows = purchase_rows(builder, {}, {"order": " "}, {})
    rows.insert(2, SourceRow(9, [], "has 2 fields, the header 9"))
    results = list(builder.group(rows))
    assert reasons_of(results) == [(3, reasons.MISSING_PURCHASE_VALUE), (9, reasons.MALFORMED_ROW), (2, "purchase")]
    assert isinstance(results[2], PurchaseRecord) and results[2].rows == (2, 4)


def test_grouping_streams_one_order_at_a_time() -> None:
    builder = PurchaseBuilder(ORDERS)
    read: list[int] = []

    def rows() -> Any:
        for number in range(2, 2_002):
            read.append(number)
            yield purchase_rows(builder, {"order": f"O{number // 2}"})[0]

    purchases = builder.group(rows())
    first = next(purchases)
    assert isinstance(first, PurchaseRecord) and first.order_id == "O1"
    assert len(read) == 3           # the order's rows and the next order's first: never the file
    assert sum(1 for _ in purchases) == 999
