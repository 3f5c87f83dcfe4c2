"""Every request body the builders can build validates against the schema the shipped OpenAPI spec
gives for that endpoint's request body.

The schemas are not copied here: each validator is compiled (fastjsonschema) from a $ref into the
spec file itself, the same files the package ships, and fastjsonschema resolves the spec's own $refs
from that file.
"""
from __future__ import annotations

import itertools

import fastjsonschema
import pytest
from spec_kit import v1, v2

from tui.attentive import endpoints, payloads

PROPERTY_VALUES = ["gold", "24", 24, 50.89, True, False, "2021-04-23T16:04:33Z", ""]
USERS = [
    {"email": "ada@example.com"},
    {"phone": "+13115552368"},
    {"email": "ada@example.com", "phone": "+13115552368"},
    {"email": "ada@example.com", "phone": ""},        # empty identifiers are dropped, not sent
    {"email": None, "phone": "+13115552368"},
]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("value", PROPERTY_VALUES)
def test_v1_custom_attributes_bodies_match_the_spec(user, value):
    body = payloads.custom_attributes_body(user, {"Favorite color": value, "tier": "gold"})
    v1(endpoints.CUSTOM_ATTRIBUTES.path)(body)
    assert all(body["user"].values())


def test_v1_custom_attributes_with_external_identifiers_match_the_spec():
    user = {
        "email": "ada@example.com",
        "externalIdentifiers": {
            "clientUserId": "c-1",
            "customIdentifiers": [{"name": "loyaltyId", "value": "L-9"}, {"name": "empty", "value": ""}],
        },
    }
    body = payloads.custom_attributes_body(user, {"tier": "gold"})
    v1(endpoints.CUSTOM_ATTRIBUTES.path)(body)
    assert body["user"]["externalIdentifiers"]["customIdentifiers"] == [{"name": "loyaltyId", "value": "L-9"}]


@pytest.mark.parametrize("size", [1, 2, endpoints.BULK_MAX_USERS])
def test_v2_bulk_bodies_match_the_spec(size):
    kinds = itertools.cycle(USERS)
    values = itertools.cycle(PROPERTY_VALUES)
    items = [payloads.bulk_user_item(next(kinds), {"tier": next(values), "visits": i}) for i in range(size)]
    body = payloads.bulk_body(items)
    v2(endpoints.BULK_ATTRIBUTES.path)(body)
    assert len(body["users"]) == size


def test_bulk_items_are_the_items_bulk_user_item_builds():
    external = {"clientUserId": "c-1", "customIdentifiers": [{"name": "loyaltyId", "value": "L-9"}]}
    profiles = [
        ("ada@example.com", {"tier": "gold", "visits": 3}, None),
        ("bob@example.com", {"tier": "silver", "Favorite color": "red"}, None),  # a name not seen before
        ("cy@example.com", {"tier": "bronze"}, external),
        ("di@example.com", {"visits": 0}, {}),
    ]
    items = payloads.bulk_items("email", profiles)
    expected = [payloads.bulk_user_item({"email": i, **({"externalIdentifiers": e} if e else {})}, c) for i, c, e in profiles]
    assert items == expected
    v2(endpoints.BULK_ATTRIBUTES.path)(payloads.bulk_body(items))


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        ([("ada@example.com", {"tier": "gold"}, None), ("  ", {"tier": "gold"}, None)], "needs an email or a phone"),
        ([("ada@example.com", {"tier": "gold"}, None), ("bob@example.com", {"": 1}, None)], "non-empty strings"),
        ([("ada@example.com", {"tier": "gold"}, None), ("bob@example.com", {7: 1}, None)], "non-empty strings"),
    ],
)
def test_bulk_items_refuse_what_bulk_user_item_refuses(profiles, message):
    with pytest.raises(payloads.PayloadError, match=message):
        payloads.bulk_items("email", profiles)


def test_bulk_items_take_one_identifier_kind():
    with pytest.raises(payloads.PayloadError, match="unsupported identifier 'clientUserId'"):
        payloads.bulk_items("clientUserId", [("c-1", {"tier": "gold"}, None)])


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(
    "options",
    [
        {"sign_up_source_id": "123456"},
        {"locale": ("en", "US"), "subscription_type": "MARKETING"},
        {"locale": ("fr", "CA"), "subscription_type": "TRANSACTIONAL", "single_opt_in": True},
        {"sign_up_source_id": "123456", "client_user_id": "c-1"},
    ],
)
def test_v1_subscription_bodies_match_the_spec(user, options):
    body = payloads.subscription_body(user, **options)
    v1(endpoints.SUBSCRIPTIONS.path)(body)


def test_the_spec_validators_are_real_and_refuse_what_the_spec_forbids():
    custom = v1(endpoints.CUSTOM_ATTRIBUTES.path)
    bulk = v2(endpoints.BULK_ATTRIBUTES.path)
    for bad in ({"properties": {}}, {"user": {}, "properties": {}}, {"user": {"name": "x"}, "properties": {}}):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            custom(bad)
    for bad in ({"users": []}, {"users": [{"identifiers": {}}]}, {"users": [{"identifiers": {"email": "a"}}] * 257}):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            bulk(bad)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: payloads.custom_attributes_body({"email": "", "phone": "  "}, {"a": 1}), "needs an email"),
        (lambda: payloads.custom_attributes_body({"mail": "a@example.com"}, {"a": 1}), "unsupported user field 'mail'"),
        (lambda: payloads.bulk_user_item({}, {"a": 1}), "needs an email or a phone"),
        (lambda: payloads.bulk_body([]), "1 to 256"),
        (lambda: payloads.bulk_body([{"identifiers": {"email": "a@example.com"}}] * 257), "got 257"),
        (lambda: payloads.subscription_body({"email": "a@example.com"}), "sign-up source"),
        (lambda: payloads.subscription_body({"email": "a@example.com"}, locale=("en", "US"), subscription_type="PROMO"), "MARKETING"),
        (lambda: payloads.custom_attributes_body({"email": "a@example.com"}, {"": 1}), "non-empty strings"),
    ],
)
def test_builders_refuse_what_they_cannot_build_with_a_clear_message(build, message):
    with pytest.raises(payloads.PayloadError, match=message):
        build()
