"""Every reason the simulator refuses a request: 400s naming the field, 401, 403, 429."""
from __future__ import annotations

import json

import pytest

from tui.attentive.simulator.rules import AttributeType, infer_type

USER = {"email": "ada@example.com"}


async def post_attributes(sim, properties, user=USER, key=None):
    return await sim.call("POST", "/v1/attributes/custom", key=key or sim.full_key,
                          json={"user": user, "properties": properties})


@pytest.mark.parametrize(
    "body, field",
    [
        ({"properties": {"a": "1"}}, "body must contain ['user']"),                # required
        ({"user": {"phone": 14155550100}, "properties": {}}, "user.phone"),        # type
        ({"user": {"email": "a@example.com", "twitter": "@a"}, "properties": {}}, "user"),  # additionalProperties
        ({"user": {}, "properties": {}}, "user"),                                  # minProperties
        ({"user": USER, "properties": "age=24"}, "properties"),                    # not an object
    ],
)
async def test_body_failing_the_schema_is_400_naming_the_field(simulator, body, field):
    reply = await simulator.call("POST", "/v1/attributes/custom", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(field)


async def test_body_that_is_not_json_is_400(simulator):
    reply = await simulator.call("POST", "/v1/attributes/custom", data=b"{not json")
    assert reply.status == 400
    assert "not valid JSON" in reply.json()["message"]


@pytest.mark.parametrize(
    "first, later, message",
    [
        ({"age": "24"}, {"age": "twenty"}, "properties.age: 'twenty' is a String, but attribute 'age' is a Number"),
        ({"vip": True}, {"vip": 3}, "properties.vip: 3 is a Number, but attribute 'vip' is a Boolean"),
        ({"since": "2021-04-23"}, {"since": "yesterday"}, "is a String, but attribute 'since' is a Date"),
    ],
)
async def test_type_is_fixed_by_the_first_value(simulator, first, later, message):
    assert (await post_attributes(simulator, first)).status == 200
    reply = await post_attributes(simulator, later, user={"email": "other@example.com"})
    assert reply.status == 400
    assert message in reply.json()["message"]


async def test_string_attribute_takes_any_scalar_and_refused_profile_fixes_no_type(simulator):
    assert (await post_attributes(simulator, {"team": "Vikings"})).status == 200
    assert (await post_attributes(simulator, {"team": 49})).status == 200
    refused = await post_attributes(simulator, {"fresh": "7", "bad": ["x"]})
    assert refused.status == 400
    assert (await post_attributes(simulator, {"fresh": "seven"})).status == 200  # "7" did not fix Number


@pytest.mark.parametrize(
    "value, expected",
    [("24", AttributeType.NUMBER), ("-3.5e2", AttributeType.NUMBER), ("02134", AttributeType.NUMBER),
     ("TRUE", AttributeType.BOOLEAN), (False, AttributeType.BOOLEAN), (7, AttributeType.NUMBER),
     ("2021-04-23T16:04:33Z", AttributeType.DATE), ("2021-02-30", AttributeType.STRING),
     ("24 years", AttributeType.STRING), ("", AttributeType.STRING)],
)
def test_type_inference(value, expected):
    assert infer_type(value) is expected


async def test_enumerated_attribute_accepts_only_its_values(start_simulator):
    sim = await start_simulator(enum_attributes={"Loyalty Tier": frozenset({"Gold", "Silver"})})
    assert (await post_attributes(sim, {"Loyalty Tier": "Gold"})).status == 200
    reply = await post_attributes(sim, {"Loyalty Tier": "gold"})
    assert reply.status == 400
    assert reply.json()["message"] == (
        "properties.Loyalty Tier: 'gold' is not a value of this enumerated attribute; allowed: Gold, Silver"
    )


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"cities": ["chicago", "new york"]}, "properties.cities is an array"),
        ({"address": {"city": "Chicago"}}, "properties.address is an object"),
        ({"x" * 201: "long"}, "properties: attribute name 'xxx"),
        ({"gone": None}, "properties.gone is null"),
    ],
)
async def test_attribute_values_and_names_that_are_refused(simulator, properties, message):
    reply = await post_attributes(simulator, properties)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


async def test_attribute_name_of_200_characters_is_accepted(simulator):
    assert (await post_attributes(simulator, {"x" * 200: "ok"})).status == 200


@pytest.mark.parametrize(
    "user, message",
    [
        ({"phone": "19148440001"}, "user.phone '19148440001' is not in E.164 format"),
        ({"phone": "+1 914 844 0001"}, "user.phone '+1 914 844 0001' is not in E.164 format"),
        ({"email": "a" * 95 + "@x.com"}, "user.email is 101 characters; identifiers are limited to 100"),
        ({"email": ""}, "user.email is empty"),
        ({"email": "not-an-email"}, "user.email 'not-an-email' is not an email address"),
        ({"externalIdentifiers": {"clientUserId": "c" * 101}}, "user.externalIdentifiers.clientUserId is 101"),
        ({"externalIdentifiers": {"clientUserId": "unknown"}}, "user: no email or phone"),
    ],
)
async def test_identifiers_that_are_refused(simulator, user, message):
    reply = await post_attributes(simulator, {"a": "1"}, user=user)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


async def test_read_back_needs_exactly_one_valid_identifier(simulator):
    both = await simulator.call("GET", "/v1/attributes/custom", params={"email": "a@example.com", "phone": "+14155550100"})
    neither = await simulator.call("GET", "/v1/attributes/custom")
    unencoded_plus = await simulator.call("GET", "/v1/attributes/custom?phone=+14155550100")
    assert both.status == neither.status == unencoded_plus.status == 400
    assert "%2B" in unencoded_plus.json()["message"]


async def test_bulk_rule_violations_are_per_record_and_the_rest_is_applied(simulator):
    users = [
        {"identifiers": {"email": "ok@example.com"}, "attributes": {"custom": {"age": 30}}},
        {"identifiers": {"phone": "4155550100"}, "attributes": {"custom": {"age": 31}}},
        {"identifiers": {"email": "ok2@example.com"}, "attributes": {"custom": {"age": "old"}}},
        {"identifiers": {"email": "ok3@example.com"}, "attributes": {"custom": {"tags": ["a"]}}},
        {"identifiers": {"email": "e" * 101}},
        {"attributes": {"custom": {"age": 1}}},
    ]
    accepted = await simulator.call("POST", "/v2/bulk/user/attributes", json={"users": users})
    assert accepted.status == 202
    job = simulator.job_run(accepted.json()["batchJobId"])
    lines = [json.loads(line) for line in job.results().decode().splitlines()]
    assert [line["response"]["status"] for line in lines] == [200, 400, 400, 400, 400, 400]
    messages = [line["response"]["message"] for line in lines[1:]]
    assert messages[0].startswith("identifiers.phone '4155550100' is not in E.164 format")
    assert messages[1].startswith("attributes.custom.age: 'old' is a String, but attribute 'age' is a Number")
    assert messages[2].startswith("attributes.custom.tags is an array")
    assert messages[3].startswith("identifiers.email is 101 characters")
    assert messages[4].startswith("identifiers: no email or phone")
    assert (await simulator.call("GET", "/v1/attributes/custom", params={"email": "ok@example.com"})).status == 200
    assert (await simulator.call("GET", "/v1/attributes/custom", params={"email": "ok2@example.com"})).status == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"users": []}, "users must contain at least 1 items"),
        ({"users": [{"identifiers": {"email": "a@example.com"}}] * 257}, "users must contain less than or equal to 256"),
        ({"users": [{"identifiers": {}}]}, "users[0].identifiers must contain at least 1"),
        ({"users": [{"identifiers": {"email": "a@example.com"}, "attributes": {"demographic": {"age": "x"}}}]},
         "users[0].attributes.demographic.age must be integer"),
    ],
)
async def test_bulk_body_failing_the_schema_is_400_for_the_whole_request(simulator, body, field):
    reply = await simulator.call("POST", "/v2/bulk/user/attributes", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(field)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"user": {"phone": "+14155550100"}}, "give signUpSourceId, or both locale and subscriptionType"),
        ({"user": {}, "signUpSourceId": "1"}, "user: give a phone or an email"),
        ({"user": {"phone": "555-0100"}, "signUpSourceId": "1"}, "user.phone '555-0100' is not in E.164"),
        ({"user": {"email": "a@example.com"}, "locale": {"language": "EN", "country": "US"},
          "subscriptionType": "MARKETING"}, "locale.language 'EN' must be an ISO 639-1 code"),
        ({"user": {"email": "a@example.com"}, "signUpSourceId": "1", "subscriptionType": "PROMO"},
         "subscriptionType must be one of"),
    ],
)
async def test_subscription_refusals(simulator, body, message):
    reply = await simulator.call("POST", "/v1/subscriptions", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic abc"}])
async def test_missing_or_unknown_key_is_401_with_rate_headers(simulator, headers):
    reply = await simulator.call("GET", "/v1/me", key=None, headers=headers)
    assert reply.status == 401
    assert reply.headers["x-ratelimit-limit"] == "150"
    assert "wrong-key" not in reply.text


@pytest.mark.parametrize(
    "key_name, method, path, body, permission",
    [
        ("subscriptions_key", "POST", "/v1/attributes/custom", {"user": USER, "properties": {}}, "Custom Attributes"),
        ("subscriptions_key", "GET", "/v1/attributes/custom?email=a@example.com", None, "Custom Attributes"),
        ("attributes_key", "POST", "/v1/subscriptions", {"user": USER, "signUpSourceId": "1"}, "Subscribers"),
        ("attributes_key", "POST", "/v2/bulk/user/attributes", {"users": [{"identifiers": USER}]}, "Subscribers"),
        ("subscriptions_key", "POST", "/v2/bulk/user/attributes", {"users": [{"identifiers": USER}]}, "Custom Attributes"),
    ],
)
async def test_key_without_the_permission_is_403_naming_it(simulator, key_name, method, path, body, permission):
    reply = await simulator.call(method, path, key=getattr(simulator, key_name), json=body)
    assert reply.status == 403
    assert f"lacks the {permission} permission" in reply.json()["message"]
    assert "x-ratelimit-remaining" in reply.headers


async def test_every_key_passes_me(simulator):
    for key in (simulator.attributes_key, simulator.subscriptions_key):
        assert (await simulator.call("GET", "/v1/me", key=key)).status == 200


async def test_beyond_the_limit_is_429_with_headers_per_key_and_endpoint(start_simulator):
    sim = await start_simulator(limits={"custom-attributes-read": 3})
    path = "/v1/attributes/custom?email=nobody@example.com"
    replies = [await sim.call("GET", path) for _ in range(4)]
    assert [r.status for r in replies] == [404, 404, 404, 429]
    assert [r.headers["x-ratelimit-limit"] for r in replies] == ["3"] * 4
    assert [r.headers["x-ratelimit-remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert int(replies[-1].headers["Retry-After"]) >= 1
    other_key = await sim.call("GET", path, key=sim.attributes_key)
    other_endpoint = await sim.call("GET", "/v1/me")
    assert other_key.status == 404 and other_endpoint.status == 200


async def test_rate_limits_off_never_429(start_simulator):
    sim = await start_simulator(limits={"me": 1}, rate_limits=False)
    replies = [await sim.call("GET", "/v1/me") for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert replies[-1].headers["x-ratelimit-remaining"] == "1"


# Bodies the spec's schemas allow (or that are not JSON objects at all) but the simulator cannot
# process: each is a 400 with a message, never a 500, and none writes a profile.
@pytest.mark.parametrize("body", [{}, [], 3, "users", None, True, {"user": USER}])
async def test_bulk_body_without_users_is_400(simulator, body):
    reply = await simulator.call("POST", "/v2/bulk/user/attributes", data=json.dumps(body).encode())
    assert (reply.status, reply.json()["message"]) == (400, "body must be an object with users: an array of 1 to 256 profiles")


async def test_deeply_nested_body_is_400(simulator):
    reply = await simulator.call("POST", "/v1/attributes/custom", data=b"[" * 100_000 + b"]" * 100_000)
    assert (reply.status, reply.json()["message"]) == (400, "body is nested too deeply")


@pytest.mark.parametrize(
    "item, message",
    [
        ({"identifiers": USER, "attributes": {"custom": {"a": "1"}},
          "subscriptions": [{"signUpSourceId": "1", "channel": "EMAIL", "subscriptionType": ["MARKETING"]}]},
         'subscriptions[0].subscriptionType must be MARKETING or TRANSACTIONAL, not ["MARKETING"]'),
        ({"identifiers": {**USER, "externalIdentifiers": "c-1"}, "attributes": {"custom": {"a": "1"}}},
         "identifiers.externalIdentifiers must be an object, not a string"),
        ({"identifiers": {**USER, "externalIdentifiers": {"clientUserId": 7}}},
         "identifiers.externalIdentifiers.clientUserId must be a string, not a number"),
    ],
)
async def test_bulk_item_of_untyped_fields_is_refused_whole_and_writes_nothing(simulator, item, message):
    accepted = await simulator.call("POST", "/v2/bulk/user/attributes", json={"users": [item]})
    assert accepted.status == 202
    [line] = [json.loads(text) for text in simulator.job_run(accepted.json()["batchJobId"]).results().decode().splitlines()]
    assert line["response"] == {"status": 400, "message": message}
    read_back = await simulator.call("GET", "/v1/attributes/custom", params=USER)
    assert read_back.status == 404  # refused before anything was written


@pytest.mark.parametrize(
    "user, message",
    [
        ({**USER, "externalIdentifiers": "c-1"}, "user.externalIdentifiers must be an object, not a string"),
        ({**USER, "customIdentifiers": {"a": "b"}}, "user.customIdentifiers must be an array, not an object"),
        ({**USER, "customIdentifiers": ["x"]}, "user.customIdentifiers[0] must be an object, not a string"),
        ({**USER, "clientUserId": ["c"]}, "user.clientUserId must be a string, not an array"),
        ({**USER, "externalIdentifiers": {"customIdentifiers": [{"name": 1}]}},
         "user.customIdentifiers[0].name must be a string, not a number"),
    ],
)
async def test_subscription_user_with_untyped_extras_of_the_wrong_type_is_400(simulator, user, message):
    reply = await simulator.call("POST", "/v1/subscriptions", json={"user": user, "signUpSourceId": "1"})
    assert (reply.status, reply.json()["message"]) == (400, message)
    assert (await simulator.call("GET", "/v1/attributes/custom", params=USER)).status == 404
