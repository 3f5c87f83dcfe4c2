"""Event destinations (kind "custom-event" and "purchase"): every accepted shape loads into an
EventMapping; every refusal names the file, the line, the key and a fix; attribute destinations keep
their config_hash; the store writes an [event] table back with the file's comments kept."""
from __future__ import annotations

import dataclasses

import pytest
from destination_kit import HEAD, PATH, load, problems

from tui.settings.currencies import ISO_4217
from tui.settings.errors import InvalidChange
from tui.settings.model import Destination, EventMapping
from tui.settings.store import EnvironmentFile

CUSTOM = '''
[destinations.visits]
kind = "custom-event"
credential = "main"
primary_identifier = "email"
identifiers = { email = "email" }

[destinations.visits.event]
type = "In-store visit"
occurred_at = "visited_at"
time_zone = "America/New_York"
event_key = ["store_id", "visit_no"]

[destinations.visits.attributes]
"Store" = "store"

[destinations.visits.constants]
"Source" = "POS"
'''
PURCHASE = '''
[destinations.orders]
kind = "purchase"
credential = "main"
primary_identifier = "phone"
identifiers = { phone = "phone" }

[destinations.orders.event]
occurred_at = "sold_at"
order_column = "order_no"
product_id_column = "sku"
product_variant_id_column = "variant"
price_column = "price"
currency_column = "currency"
'''




def line_of(text: str, needle: str) -> int:
    """The line of `needle` in HEAD + text (1-based)."""
    lines = (HEAD + text).split("\n")
    return next(index + 1 for index, line in enumerate(lines) if needle in line)


# -- accepted shapes -------------------------------------------------------------------------------
def test_custom_event_with_a_constant_type_loads() -> None:
    visits = load(CUSTOM)["visits"]
    assert visits.kind == "custom-event" and visits.sends_events
    assert visits.event == EventMapping(occurred_at="visited_at", time_zone="America/New_York",
                                        event_key=("store_id", "visit_no"), type="In-store visit")
    assert visits.attributes == {"Store": "store"} and visits.constants == {"Source": "POS"}


def test_custom_event_with_a_type_column_and_sms_loads() -> None:
    text = CUSTOM.replace('type = "In-store visit"', 'type_column = "event_type"\nsms = true')
    event = load(text)["visits"].event
    assert event is not None and event.type is None and event.type_column == "event_type" and event.sms


def test_purchase_with_a_currency_column_and_the_default_channel_loads() -> None:
    orders = load(PURCHASE)["orders"]
    assert orders.kind == "purchase" and orders.event is not None
    assert orders.event.sales_channel == "IN_STORE" and orders.event.currency_column == "currency"
    assert orders.event.event_key == ()   # the order column identifies the purchase


def test_purchase_with_every_optional_column_a_constant_currency_and_a_channel_loads() -> None:
    text = PURCHASE.replace('currency_column = "currency"', '''currency = "EUR"
quantity_column = "qty"
name_column = "title"
product_url_column = "url"
product_image_column = "image"
sales_channel = "PHONE"
event_key = ["store_id", "order_no"]
time_zone = "Europe/Paris"''')
    event = load(text)["orders"].event
    assert event == EventMapping(occurred_at="sold_at", time_zone="Europe/Paris", event_key=("store_id", "order_no"),
                                 order_column="order_no", product_id_column="sku", product_variant_id_column="variant",
                                 price_column="price", currency="EUR", quantity_column="qty", name_column="title",
                                 product_url_column="url", product_image_column="image", sales_channel="PHONE")


def test_currency_list_holds_the_usual_codes_and_not_the_test_ones() -> None:
    assert {"USD", "EUR", "GBP", "JPY", "CAD", "CHF"} <= ISO_4217
    assert not {"XTS", "XXX", "usd", "US", "HRK"} & ISO_4217


# -- config_hash -----------------------------------------------------------------------------------
def test_attribute_destinations_keep_the_hash_they_had_before_event_kinds() -> None:
    # Literals computed with tui/settings/model.py as it was before `kind` and `event` existed.
    plain = Destination(name="loyalty", description="x", credential="main", primary_identifier="email",
                        identifiers={"email": "email"}, attributes={"Loyalty Tier": "tier"})
    fuller = Destination(name="vip", description="x", credential="main", primary_identifier="phone",
                         endpoint="custom-attributes", identifiers={"phone": "phone"}, attributes={"Tier": "tier"},
                         constants={"C": "1"}, types={"C": "number"}, audience="VIP", rate_limit=20.0)
    assert plain.config_hash() == "56753a2bacdf66aab76ddb9defa8b1668334c6aecc15d04f8f958dc98def9afa"
    assert fuller.config_hash() == "05440aaa323344b1381471e1de99a9329f638bd371637093f7eab8ae4c3234e5"
    assert dataclasses.replace(plain, kind="attributes").config_hash() == plain.config_hash()


def test_event_settings_are_in_the_hash_and_defaults_written_out_change_nothing() -> None:
    orders = load(PURCHASE)["orders"]
    explicit = load(PURCHASE.replace('currency_column = "currency"', 'currency_column = "currency"\nsales_channel = "IN_STORE"'))
    assert explicit["orders"].config_hash() == orders.config_hash()
    assert orders.event is not None
    for change in ({"sales_channel": "WEB"}, {"price_column": "amount"}, {"time_zone": "UTC"}):
        changed = dataclasses.replace(orders, event=dataclasses.replace(orders.event, **change))
        assert changed.config_hash() != orders.config_hash(), change
    assert dataclasses.replace(orders, kind="custom-event").config_hash() != orders.config_hash()


# -- refusals: (id, edit of the file, the line's text, words of the message, words of the fix) ------------------
REFUSALS = [
    ("unknown-kind", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-events"'), 'kind = "custom-events"',
     'unknown kind "custom-events"', 'did you mean "custom-event"?'),
    ("event-table-on-attributes", (CUSTOM, 'kind = "custom-event"\n', ""), "[destinations.visits.event]",
     "destinations.visits.event is read only for event destinations", 'add kind = "custom-event"'),
    ("no-event-table", (PURCHASE, PURCHASE[PURCHASE.index("[destinations.orders.event]"):], ""), "[destinations.orders]",
     "a purchase destination needs an [destinations.orders.event] table", "add [destinations.orders.event] with occurred_at"),
    ("unknown-event-key", (CUSTOM, 'time_zone =', 'timezone = "UTC"\ntime_zone ='), "timezone =",
     "unknown key timezone in [destinations.visits.event]", 'did you mean "time_zone"?'),
    ("missing-occurred-at", (CUSTOM, 'occurred_at = "visited_at"\n', ""), "[destinations.visits.event]",
     "missing required key occurred_at in [destinations.visits.event]", 'add occurred_at = "occurred_at"'),
    ("missing-event-key", (CUSTOM, 'event_key = ["store_id", "visit_no"]\n', ""), "[destinations.visits.event]",
     "missing required key event_key", 'add event_key = ["store_id", "receipt_no"]'),
    ("missing-price-column", (PURCHASE, 'price_column = "price"\n', ""), "[destinations.orders.event]",
     "missing required key price_column in [destinations.orders.event]", 'add price_column = "price"'),
    ("missing-product-id", (PURCHASE, 'product_id_column = "sku"\n', ""), "[destinations.orders.event]",
     "missing required key product_id_column", 'add product_id_column = "product_id"'),
    ("no-type", (CUSTOM, 'type = "In-store visit"\n', ""), "[destinations.visits.event]",
     "destinations.visits.event: a custom event needs its type", 'add type = "In-store visit", or type_column'),
    ("type-and-type-column", (CUSTOM, 'type = "In-store visit"', 'type = "Visit"\ntype_column = "t"'), "type_column =",
     "type and type_column are both given", "keep one"),
    ("type-forbidden-characters", (CUSTOM, '"In-store visit"', '"Visit, (store)"'), 'type = "Visit',
     'event type "Visit, (store)" contains ,(), which Attentive refuses', "remove those characters"),
    ("type-quote", (CUSTOM, '"In-store visit"', '''"Bob's visit"'''), "type = \"Bob",
     "contains '", "remove those characters"),
    ("type-empty", (CUSTOM, '"In-store visit"', '" "'), 'type = " "', "the event type is empty", "name the event"),
    ("type-wrong-toml-kind", (CUSTOM, '"In-store visit"', "5"), "type = 5",
     "destinations.visits.event.type must be a string, not a number", 'write type = "In-store visit"'),
    ("empty-column", (CUSTOM, 'occurred_at = "visited_at"', 'occurred_at = " "'), 'occurred_at = " "',
     "destinations.visits.event.occurred_at: must name a source column", 'write occurred_at = "occurred_at"'),
    ("unknown-time-zone", (CUSTOM, '"America/New_York"', '"America/NewYork"'), "time_zone =",
     'unknown time zone "America/NewYork"', 'did you mean "America/New_York"?'),
    ("time-zone-nonsense", (CUSTOM, '"America/New_York"', '"Mars/Olympus"'), "time_zone =",
     'unknown time zone "Mars/Olympus"', "use an IANA name"),
    ("event-key-empty", (CUSTOM, '["store_id", "visit_no"]', "[]"), "event_key =", "event.event_key: names no column",
     "list the columns"),
    ("event-key-twice", (CUSTOM, '["store_id", "visit_no"]', '["store_id", "store_id"]'), "event_key =",
     'event_key[1]: names "store_id" twice', "list each column once"),
    ("event-key-not-text", (CUSTOM, '["store_id", "visit_no"]', '["store_id", 3]'), "event_key =",
     "event_key[1]: must name a source column", "write each column as text"),
    ("purchase-key-on-custom", (CUSTOM, 'time_zone =', 'price_column = "p"\ntime_zone ='), "price_column =",
     "price_column applies to purchase destinations only", 'set kind = "purchase"'),
    ("custom-key-on-purchase", (PURCHASE, 'price_column = "price"', 'price_column = "price"\ntype = "Sale"'), 'type = "Sale"',
     "type applies to custom-event destinations only", 'set kind = "custom-event"'),
    ("sms-on-purchase", (PURCHASE, 'price_column = "price"', 'price_column = "price"\nsms = true'), "sms = true",
     "sms applies to custom-event destinations only", "remove it"),
    ("no-currency", (PURCHASE, 'currency_column = "currency"\n', ""), "[destinations.orders.event]",
     "a purchase needs the currency of its prices", 'add currency_column = "currency", or currency = "USD"'),
    ("both-currencies", (PURCHASE, 'currency_column = "currency"', 'currency_column = "currency"\ncurrency = "USD"'),
     'currency = "USD"', "currency and currency_column are both given", "keep one"),
    ("currency-lower-case", (PURCHASE, 'currency_column = "currency"', 'currency = "usd"'), 'currency = "usd"',
     'currency "usd" is not an ISO 4217 code', 'write currency = "USD"'),
    ("currency-unknown", (PURCHASE, 'currency_column = "currency"', 'currency = "ABC"'), 'currency = "ABC"',
     'currency "ABC" is not an ISO 4217 code', "three-letter ISO 4217 code"),
    ("sales-channel-unknown", (PURCHASE, 'price_column = "price"', 'price_column = "price"\nsales_channel = "in_store"'),
     "sales_channel =", 'unknown sales channel "in_store"', 'did you mean "IN_STORE"?'),
    ("sales-channel-nonsense", (PURCHASE, 'price_column = "price"', 'price_column = "price"\nsales_channel = "MAIL"'),
     "sales_channel =", 'unknown sales channel "MAIL"', "use one of WEB, IOS_APP, ANDROID_APP, IN_STORE, PHONE, OTHER"),
    ("endpoint-on-event", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-event"\nendpoint = "bulk"'), 'endpoint = "bulk"',
     "destinations.visits.endpoint: not used by an event destination", "remove endpoint"),
    ("audience-on-event", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-event"\naudience = "VIP"'), 'audience = "VIP"',
     "destinations.visits.audience: not used by an event destination", 'kind = "attributes"'),
    ("types-on-event", (CUSTOM, '[destinations.visits.constants]', '[destinations.visits.types]\nStore = "string"\n\n'
                        '[destinations.visits.constants]'), "[destinations.visits.types]",
     "destinations.visits.types: not used by an event destination", "remove [types]"),
    ("custom-identifiers-on-event", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-event"\ncustom_identifiers = { a = "b" }'),
     "custom_identifiers =", "destinations.visits.custom_identifiers: not used", "remove [custom_identifiers]"),
    ("subscriptions-on-event", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-event"\nsubscriptions = true'),
     "subscriptions = true", "destinations.visits.subscriptions: not used", "remove subscriptions"),
    ("client-user-id-on-event", (CUSTOM, '{ email = "email" }', '{ email = "email", client_user_id = "id" }'), "identifiers =",
     "identifiers.client_user_id: an event's user is its primary identifier (email) alone", "remove client_user_id"),
    ("second-identifier-on-event", (CUSTOM, '{ email = "email" }', '{ email = "email", phone = "phone" }'), "identifiers =",
     "identifiers.phone: an event's user is its primary identifier", "remove phone"),
    ("attributes-on-purchase", (PURCHASE, 'identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\n'
                                'attributes = { Store = "store" }'), "attributes =",
     "destinations.orders.attributes: not used by an event destination: a purchase has no properties", "remove [attributes]"),
    ("rate-above-events-limit", (CUSTOM, 'kind = "custom-event"', 'kind = "custom-event"\nrate_limit = 151'), "rate_limit =",
     "above the custom-events endpoint's published limit of 150", "write at most 150"),
    ("property-forbidden-characters", (CUSTOM, '"Store" = "store"', '"Store [main]" = "store"'), '"Store [main]"',
     'property name "Store [main]" contains [], which Attentive refuses in property names', "rename the property"),
    ("property-sensitive", (CUSTOM, '"Store" = "store"', '"Diagnosis" = "dx"'), '"Diagnosis"',
     'sensitive-data category "health"', "sensitive personal data must not be sent"),
    ("constant-forbidden-characters", (CUSTOM, '"Source" = "POS"', '"Source|x" = "POS"'), '"Source|x"',
     "constants.\"Source|x\": property name", "rename the property"),
    ("constant-clash", (CUSTOM, '"Source" = "POS"', '"Store" = "POS"'), '"Store" = "POS"',
     "constant 'Store' has the same name as the mapped property 'Store'", "rename the constant"),
    ("constant-not-text", (CUSTOM, '"Source" = "POS"', '"Source" = 3'), '"Source" = 3',
     "constant 'Source' must be text, not int", 'quote the value'),
    ("constant-empty", (CUSTOM, '"Source" = "POS"', '"Source" = ""'), '"Source" = ""', "constant 'Source' is empty",
     "give it a value"),
    ("too-many-properties", (CUSTOM, '"Store" = "store"', "\n".join(f'"p{i}" = "c{i}"' for i in range(200))), "[destinations.visits.attributes]",
     "201 event properties (with the constants); Attentive makes at most 200 usable", "send at most 200 properties"),
]


@pytest.mark.parametrize("edit, line_text, message, fix", [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_each_refusal_names_the_file_line_key_and_fix(edit: tuple[str, str, str], line_text: str, message: str,
                                                      fix: str) -> None:
    base, old, new = edit
    assert old in base
    text = base.replace(old, new)
    found = problems(text)
    matching = [p for p in found if message in p]
    assert matching, found
    assert matching[0].startswith(f"sandbox.toml:{line_of(text, line_text)}:"), (matching[0], line_text)
    assert f"({fix}" in matching[0] or fix in matching[0].rsplit("(", 1)[-1], matching[0]


def test_several_problems_are_reported_at_once() -> None:
    text = PURCHASE.replace('currency_column = "currency"', 'currency = "usd"\nsales_channel = "MAIL"\ntime_zone = "Nowhere"')
    assert len(problems(text)) == 3


# -- writing back ----------------------------------------------------------------------------------
def test_store_writes_a_new_event_destination_that_loads_back_the_same() -> None:
    handle = EnvironmentFile(PATH, "sandbox", HEAD + "# keep me\n" + CUSTOM)
    orders = load(PURCHASE)["orders"]
    assert orders.event is not None
    orders = dataclasses.replace(orders, event=dataclasses.replace(orders.event, sales_channel="WEB",
                                                                   event_key=("store", "order_no")))
    handle.upsert_destination(orders)
    assert "# keep me" in handle.text and "endpoint" not in handle.text.split("[destinations.orders]")[1]
    assert handle.environment.destinations["orders"] == orders
    assert 'event_key = ["store", "order_no"]' in handle.text and 'sales_channel = "WEB"' in handle.text


def test_store_edits_an_event_table_in_place_keeping_comments() -> None:
    commented = CUSTOM.replace('time_zone = "America/New_York"', 'time_zone = "America/New_York"   # the stores\' zone')
    handle = EnvironmentFile(PATH, "sandbox", HEAD + commented)
    visits = handle.environment.destinations["visits"]
    assert visits.event is not None
    edited = dataclasses.replace(visits, event=dataclasses.replace(visits.event, type=None, type_column="kind"))
    result = handle.edit_destination(visits, edited)
    assert result.changed == ("event",)
    assert "# the stores' zone" in handle.text and 'type_column = "kind"' in handle.text
    assert 'type = "In-store visit"' not in handle.text
    assert handle.environment.destinations["visits"] == edited


def test_store_refuses_an_invalid_event_edit() -> None:
    handle = EnvironmentFile(PATH, "sandbox", HEAD + CUSTOM)
    visits = handle.environment.destinations["visits"]
    assert visits.event is not None
    with pytest.raises(InvalidChange, match="unknown time zone"):
        handle.upsert_destination(dataclasses.replace(visits, event=dataclasses.replace(visits.event, time_zone="Mars")))


def test_a_loaded_event_destination_previews_and_dry_runs_as_events(tmp_path) -> None:
    """The file's destination goes through the send's own path: its endpoint follows from its kind,
    a dry run counts what would be sent, and the preview shows the event's type, time and properties."""
    import asyncio

    from tui.core.send_preview import build_preview
    from tui.settings.promotion_diff import destination_table
    from tui.sync.engine import SendRequest, run_send

    destination = load(CUSTOM)["visits"]
    assert destination.endpoint == "custom-events"
    assert destination_table(destination)["event"]["type"] == "In-store visit"  # the promotion diff can show it
    source = tmp_path / "visits.csv"
    source.write_text("email,visited_at,store_id,visit_no,store\na@example.com,2026-12-01 10:00,1,1,Soho\n"
                      "b@example,2026-12-01 11:00,1,2,Soho\n")
    request = SendRequest(environment="sandbox", destination=destination, source=source, operator="t",
                          data_dir=tmp_path / "data", dry_run=True)
    run = asyncio.run(run_send(request)).run
    assert (run.endpoint, run.rows_read, run.not_sent, run.invalid) == ("custom-events", 2, 1, 1)
    preview = build_preview(destination, source)
    assert preview.attribute_names == ("type", "occurredAt", "Store", "Source")
    assert preview.rows[0].attributes == {"type": "In-store visit", "occurredAt": "2026-12-01T10:00:00-05:00",
                                          "Store": "Soho", "Source": "POS"}
    assert preview.rows[1].reason == "invalid_email"
