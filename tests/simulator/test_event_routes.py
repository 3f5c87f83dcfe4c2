"""The simulator's event endpoints over loopback HTTP: spec-valid bodies are accepted and recorded,
bodies the spec or its texts forbid get a 400 saying why, keys without Custom Events or eCommerce
get 403, the endpoints' rate limits and the faults apply, and the record of arrivals survives a
restart."""
from __future__ import annotations

import argparse

import aiohttp
import pytest
from simulator_fixtures import ATTRIBUTES_KEY, FULL_KEY, TEST_KEYS

from tui.attentive import endpoints
from tui.attentive.endpoints import Permission
from tui.attentive.simulator.config import KeySpec
from tui.attentive.simulator.demo import DEMO_KEY_SPECS
from tui.attentive.simulator.faults import parse_fault_spec
from tui.attentive.simulator.standalone import add_arguments, config_from_args
from tui.attentive.simulator.state import SimulatorState

CUSTOM = endpoints.CUSTOM_EVENTS
USER = {"email": "ada@example.com"}
ITEM = {"productId": "AB12345", "productVariantId": "CD12345", "price": [{"value": 19.99, "currency": "USD"}],
        "name": "T-Shirt", "quantity": 1}
EVENT = {"type": "Order Shipped", "properties": {"Order Id": "54321", "products": ["p1"], "shipment": {"carrier": "fedex"}},
         "externalEventId": "37fb97a9-6cfd-4983-bd65-68d104d53b70", "occurredAt": "2021-03-30T14:38:29.000Z", "user": USER}
PURCHASE = {"items": [ITEM], "orderId": "order-17", "occurredAt": "2021-03-30T14:38:29+0000", "user": USER,
            "salesChannel": {"channelType": "IN_STORE"}}
VALID = {CUSTOM.name: EVENT, **{spec.name: PURCHASE if kind == "purchase" else {"items": [ITEM], "user": USER}
                                for kind, spec in endpoints.ECOMMERCE_EVENTS.items()}}
EVENTS_ONLY = "test-events-only-key-0005"
ECOMMERCE_ONLY = "test-ecommerce-only-key-0006"
KEYS = {**TEST_KEYS,
        EVENTS_ONLY: KeySpec("Test Company", "tests (events only)", frozenset({Permission.EVENTS})),
        ECOMMERCE_ONLY: KeySpec("Test Company", "tests (ecommerce only)", frozenset({Permission.ECOMMERCE}))}


@pytest.mark.parametrize("spec", endpoints.EVENTS, ids=lambda spec: spec.name)
async def test_each_route_accepts_a_spec_valid_body_and_records_it_once(simulator, spec):
    reply = await simulator.call("POST", spec.path, json=VALID[spec.name])
    assert (reply.status, reply.text) == (200, "")
    assert reply.headers["x-ratelimit-limit"] == "150"
    [arrived] = simulator.sim.state.events.of(spec.name)
    assert arrived.body == VALID[spec.name]
    assert arrived.company_id == TEST_KEYS[FULL_KEY].resolved_company_id and arrived.application == "tests"
    assert len(simulator.sim.state.events) == 1  # and at no other route


async def test_arrivals_are_counted_by_event_id_and_never_de_duplicated(simulator):
    for _ in range(2):
        assert (await simulator.call("POST", CUSTOM.path, json=EVENT)).status == 200
    assert (await simulator.call("POST", CUSTOM.path, json={"type": "Visit", "user": USER})).status == 200
    assert (await simulator.call("POST", endpoints.PURCHASE_EVENTS.path, json=PURCHASE)).status == 200
    log = simulator.sim.state.events
    assert log.counts(CUSTOM.name) == {EVENT["externalEventId"]: 2, None: 1}
    assert log.counts(endpoints.PURCHASE_EVENTS.name) == {"order-17": 1}
    assert log.counts(company_id="another company") == {}


@pytest.mark.parametrize("char", sorted("\"'(){}[]\\|,"))
async def test_a_forbidden_character_in_the_type_is_a_400(simulator, char):
    reply = await simulator.call("POST", CUSTOM.path, json={**EVENT, "type": f"Order{char}Shipped"})
    assert reply.status == 400
    assert f"contains {char}; a custom event type cannot contain" in reply.json()["message"]
    assert len(simulator.sim.state.events) == 0


@pytest.mark.parametrize("char", sorted('"{}[]\\|'))
async def test_a_forbidden_character_in_a_property_key_is_a_400(simulator, char):
    reply = await simulator.call("POST", CUSTOM.path, json={**EVENT, "properties": {f"order{char}id": "1"}})
    assert reply.status == 400
    assert f"properties: key 'order{char}id' contains {char}" in reply.json()["message"].replace("\\\\", "\\")
    assert len(simulator.sim.state.events) == 0


async def test_characters_forbidden_only_in_types_are_allowed_in_property_keys(simulator):
    reply = await simulator.call("POST", CUSTOM.path, json={**EVENT, "properties": {"it's (a), key": "ok"}})
    assert reply.status == 200


@pytest.mark.parametrize(("path", "body", "message"), [
    (CUSTOM.path, {**EVENT, "occurredAt": "2021-03-30T14:38:29"}, "occurredAt '2021-03-30T14:38:29' has no UTC offset"),
    (CUSTOM.path, {**EVENT, "occurredAt": "2021-03-30T14:38:29+0000"}, "write the offset with a colon, +00:00"),
    (CUSTOM.path, {**EVENT, "occurredAt": "March 30"}, "is not an RFC 3339 timestamp"),
    (CUSTOM.path, {**EVENT, "occurredAt": "2021-02-30T14:38:29Z"}, "is not a real date and time"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "occurredAt": "2021-03-30 14:38"}, "is not an RFC 3339 timestamp"),
    (CUSTOM.path, {"type": "Visit"}, "body must contain ['user']"),
    (CUSTOM.path, {"type": "Visit", "user": {}}, "user must contain at least 1 properties"),
    (CUSTOM.path, {"type": "Visit", "user": {"name": "Ada"}}, "user must not contain {'name'} properties"),
    (CUSTOM.path, {"type": "Visit", "user": {"phone": "19148440001"}}, "user.phone '19148440001' is not in E.164 format"),
    (CUSTOM.path, {"type": "Visit", "user": {"externalIdentifiers": {"clientUserId": "never-seen"}}}, "no known clientUserId"),
    (CUSTOM.path, {**EVENT, "type": " "}, "type is empty"),
    (CUSTOM.path, {**EVENT, "type": 7}, "type must be string"),
    (CUSTOM.path, b"{not json", "body is not valid JSON"),
    (endpoints.PURCHASE_EVENTS.path, {"user": USER}, "body must contain ['items'] properties"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "items": []}, "items is empty"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "items": [{**ITEM, "price": []}]}, "items[0].price must contain at least 1 items"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "items": [{**ITEM, "price": [{"value": "19.99"}]}]}, "must be number"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "items": [{**ITEM, "price": [{"value": 1, "currency": "dollars"}]}]},
     "items[0].price[0].currency 'dollars' is not an ISO 4217 code"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "items": [{**ITEM, "productVariantId": " "}]}, "items[0].productVariantId is empty"),
    (endpoints.PURCHASE_EVENTS.path, {**PURCHASE, "salesChannel": {"channelType": "MAIL"}}, "salesChannel.channelType must be one of"),
    (endpoints.ADD_TO_CART_EVENTS.path, {"items": [{"productId": "a", "price": [{"value": 1}]}], "user": USER},
     "items[0] must contain ['productVariantId'] properties"),
])
async def test_a_bad_body_is_a_400_that_says_why_and_records_nothing(simulator, path, body, message):
    kwargs = {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, bytes) else {"json": body}
    reply = await simulator.call("POST", path, **kwargs)
    assert reply.status == 400
    assert message in reply.json()["message"]
    assert len(simulator.sim.state.events) == 0


async def test_a_purchase_may_carry_the_offset_forms_of_the_spec_and_of_rfc_3339(simulator):
    for stamp in ("2021-03-30T14:38:29+0000", "2021-03-30T09:38:29-05:00", "2021-03-30T14:38:29.123456789Z"):
        reply = await simulator.call("POST", endpoints.PURCHASE_EVENTS.path, json={**PURCHASE, "occurredAt": stamp})
        assert reply.status == 200, reply.text


@pytest.mark.parametrize(("key", "allowed"), [
    (ATTRIBUTES_KEY, set()),
    (EVENTS_ONLY, {CUSTOM.name}),
    (ECOMMERCE_ONLY, {spec.name for spec in endpoints.ECOMMERCE_EVENTS.values()}),
], ids=["attributes-only", "events-only", "ecommerce-only"])
async def test_each_route_needs_its_permission(start_simulator, key, allowed):
    handle = await start_simulator(keys=KEYS)
    for spec in endpoints.EVENTS:
        reply = await handle.call("POST", spec.path, key=key, json=VALID[spec.name])
        if spec.name in allowed:
            assert reply.status == 200
        else:
            label = "Custom Events" if spec is CUSTOM else "eCommerce"
            assert reply.status == 403
            assert f"lacks the {label} permission needed by POST {spec.path}" in reply.json()["message"]
    assert {event.endpoint for event in handle.sim.state.events.of()} == allowed


def test_the_demo_keys_may_send_every_event():
    for spec in DEMO_KEY_SPECS.values():
        assert {Permission.EVENTS, Permission.ECOMMERCE} <= spec.permissions


async def test_each_route_has_its_own_rate_limit(start_simulator):
    handle = await start_simulator(limits={CUSTOM.name: 2})
    statuses = [(await handle.call("POST", CUSTOM.path, json=EVENT)).status for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429
    purchase = await handle.call("POST", endpoints.PURCHASE_EVENTS.path, json=PURCHASE)
    assert purchase.status == 200 and purchase.headers["x-ratelimit-limit"] == "150"
    assert handle.sim.state.events.counts(CUSTOM.name) == {EVENT["externalEventId"]: 2}


@pytest.mark.parametrize(("faults", "status", "recorded"), [
    ("500=1", 500, 0),        # before the endpoint: nothing happened
    ("500after=1", 500, 1),   # after it: the event is in, the answer says otherwise
    ("503=1", 503, 0),
])
async def test_error_faults_before_and_after_the_endpoint(start_simulator, faults, status, recorded):
    handle = await start_simulator(faults=parse_fault_spec(faults), seed=1)
    reply = await handle.call("POST", CUSTOM.path, json=EVENT)
    assert reply.status == status
    assert len(handle.sim.state.events) == recorded


@pytest.mark.parametrize(("faults", "recorded"), [("drop=1", 0), ("dropafter=1", 1)])
async def test_a_dropped_connection_before_or_after_the_event_was_recorded(start_simulator, faults, recorded):
    handle = await start_simulator(faults=parse_fault_spec(faults), seed=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await handle.call("POST", CUSTOM.path, json=EVENT)
    assert len(handle.sim.state.events) == recorded


def test_the_after_faults_are_read_and_counted_in_the_shares():
    spec = parse_fault_spec("dropafter=0.1,500after=0.2")
    assert (spec.drop_after_rate, spec.rate_500_after, spec.active) == (0.1, 0.2, True)
    with pytest.raises(ValueError, match="dropafter and 500after add up to 1.1"):
        parse_fault_spec("drop=0.5,dropafter=0.3,500after=0.3")


async def test_arrivals_survive_a_restart_from_the_snapshot_and_the_journal(start_simulator, tmp_path):
    state_file = tmp_path / "state.json"
    handle = await start_simulator(state_file=state_file)
    assert (await handle.call("POST", CUSTOM.path, json=EVENT)).status == 200
    assert (await handle.call("POST", endpoints.PURCHASE_EVENTS.path, json=PURCHASE)).status == 200
    await handle.stop()  # saves the snapshot
    restored = SimulatorState.load(state_file)
    assert restored.events.counts() == {EVENT["externalEventId"]: 1, "order-17": 1}
    # A journal line written between snapshots (what a killed simulator leaves) is replayed too.
    [event] = restored.events.of(CUSTOM.name)
    restored.record_event(event)
    restored.write_journal(restored.take_pending())
    with state_file.with_name(state_file.name + ".journal").open("a") as journal:
        journal.write('{"events": [["custom-ev')  # torn by a crash mid-write: skipped
    assert SimulatorState.load(state_file).events.counts(CUSTOM.name) == {EVENT["externalEventId"]: 2}


def test_the_standalone_simulator_grants_event_permissions_by_name():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args(["--key", "k1=events", "--key", "k2=ecommerce,attributes", "--key", "k3"]))
    assert config.keys["k1"].permissions == {Permission.EVENTS}
    assert config.keys["k2"].permissions == {Permission.ECOMMERCE, Permission.ATTRIBUTES}
    assert {Permission.EVENTS, Permission.ECOMMERCE} <= config.keys["k3"].permissions
    assert config.limit_for(CUSTOM.name) == 150
