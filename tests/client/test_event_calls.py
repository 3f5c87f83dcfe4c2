"""The client's event calls are sent once: against the simulator (which records every arrival) and a
scripted server, an answer that leaves open whether the event arrived (a 5xx, a dropped connection,
a timeout after sending) is UNKNOWN and never repeated; what provably did not arrive (a 429, a
refused connection) is retried as for any call. Attribute calls keep retrying as they always have."""
from __future__ import annotations

import random

import pytest
from scripted_server import ScriptedServer, Step
from simulator_fixtures import seed_starting
from virtual_clock import VirtualClock

from tui.attentive import endpoints, payloads
from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import PacingRegistry
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.faults import FaultKind, parse_fault_spec

USER = {"email": "ada@example.com"}
EVENT_ID = "0f8e6c2a-3b1d-4c5e-9a7f-1d2e3f4a5b6c"
EVENT = payloads.custom_event_body(USER, "Visited Store", {"store": "Soho"}, external_event_id=EVENT_ID,
                                   occurred_at="2024-05-01T10:00:00-04:00")
PURCHASE = payloads.ecommerce_event_body("purchase", USER, [payloads.product_item("AB1", "AB1-M", 19.99, "USD", quantity=2)],
                                         order_id="order-17", sales_channel="IN_STORE")
CUSTOM = endpoints.CUSTOM_EVENTS.name


def client(url: str, key: str, *, clock: VirtualClock | None = None, **options) -> AttentiveClient:
    options.setdefault("backoff_base_s", 0.01)
    registry = PacingRegistry(clock=clock) if clock else PacingRegistry()
    return AttentiveClient(url, ApiKey(key), pacing=registry, rng=random.Random(3), **options)


async def test_events_are_accepted_and_arrive_once_at_each_route(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        outcomes = [await attentive.post_custom_event(EVENT)]
        for kind in endpoints.ECOMMERCE_EVENTS:
            body = PURCHASE if kind == "purchase" else payloads.ecommerce_event_body(kind, USER, PURCHASE["items"])
            outcomes.append(await attentive.post_ecommerce_event(kind, body))
        assert attentive.rate(CUSTOM) == 150
    assert all(o.kind is OutcomeKind.ACCEPTED and o.attempts == 1 for o in outcomes)
    log = simulator.sim.state.events
    assert log.counts(CUSTOM) == {EVENT_ID: 1}
    assert log.counts(endpoints.PURCHASE_EVENTS.name) == {"order-17": 1}
    assert [len(log.of(spec.name)) for spec in endpoints.EVENTS] == [1, 1, 1, 1]


@pytest.mark.parametrize(("faults", "arrived"), [
    ("500=1", 0),          # refused before the endpoint acted: the client cannot know that
    ("500after=1", 1),     # the event is in, and the answer is a 500
    ("503=1", 0),
    ("drop=1", 0),         # the connection closed before the endpoint acted
    ("dropafter=1", 1),    # the connection closed after the event was recorded: the case send-once is for
])
async def test_an_answer_that_leaves_the_events_fate_open_is_unknown_and_not_repeated(start_simulator, faults, arrived):
    handle = await start_simulator(faults=parse_fault_spec(faults), seed=1)
    async with client(handle.url, handle.full_key, max_attempts=5) as attentive:
        custom = await attentive.post_custom_event(EVENT)
        purchase = await attentive.post_ecommerce_event("purchase", PURCHASE)
        requests = {name: attentive.stats.of(name).requests for name in (CUSTOM, endpoints.PURCHASE_EVENTS.name)}
    for outcome in (custom, purchase):
        assert (outcome.kind, outcome.attempts, outcome.ok) == (OutcomeKind.UNKNOWN, 1, False)
        assert "may have arrived" in outcome.text
    assert requests == {CUSTOM: 1, endpoints.PURCHASE_EVENTS.name: 1}
    log = handle.sim.state.events
    assert sum(log.counts(CUSTOM).values()) == arrived and sum(log.counts(endpoints.PURCHASE_EVENTS.name).values()) == arrived


async def test_a_429_is_retried_and_the_event_arrives_once(start_simulator):
    spec = "429burst=0.5:2"
    seed = seed_starting(spec, [FaultKind.BURST_429, FaultKind.BURST_429, FaultKind.NONE])
    handle = await start_simulator(faults=parse_fault_spec(spec), seed=seed)
    async with client(handle.url, handle.full_key) as attentive:
        outcome = await attentive.post_custom_event(EVENT)
        stats = attentive.stats.of(CUSTOM)
    assert outcome.kind is OutcomeKind.ACCEPTED and outcome.attempts == 1  # a 429 is not an attempt
    assert (stats.requests, stats.throttled) == (3, 2)
    assert handle.sim.state.events.counts(CUSTOM) == {EVENT_ID: 1}


async def test_a_400_is_a_rejection_and_a_missing_permission_is_fatal_and_named(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        bad = await attentive.post_custom_event({**EVENT, "type": "Order (Shipped)"})
    async with client(simulator.url, simulator.attributes_key) as attributes_only:
        custom = await attributes_only.post_custom_event(EVENT)
        purchase = await attributes_only.post_ecommerce_event("purchase", PURCHASE)
    assert bad.kind is OutcomeKind.REJECTED and "a custom event type cannot contain" in bad.text
    assert (custom.kind, custom.status, custom.permission) == (OutcomeKind.FATAL, 403, "Custom Events")
    assert (purchase.kind, purchase.status, purchase.permission) == (OutcomeKind.FATAL, 403, "eCommerce")
    assert len(simulator.sim.state.events) == 0


async def test_an_unknown_ecommerce_kind_is_not_sent(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        outcome = await attentive.post_ecommerce_event("refund", PURCHASE)
    assert (outcome.kind, outcome.status) == (OutcomeKind.REJECTED, None)
    assert "unknown eCommerce event 'refund'" in outcome.text and attentive.stats.requests == 0


async def test_attribute_calls_still_retry_through_the_same_faults(start_simulator):
    handle = await start_simulator(faults=parse_fault_spec("dropafter=0.3,500after=0.3"), seed=4, rate_limits=False)
    async with client(handle.url, handle.full_key, max_attempts=10) as attentive:
        outcomes = [await attentive.post_custom_attributes({"email": f"a{i}@example.com"}, {"n": i}) for i in range(10)]
        stats = attentive.stats.of("custom-attributes")
    assert all(o.ok for o in outcomes) and stats.retries > 0


async def test_a_timeout_after_sending_is_unknown_and_not_repeated(scripted):
    scripted.add(Step(action="hang"))
    async with client(scripted.url, "sk_test_events_0001", timeout_s=0.2, max_attempts=3) as attentive:
        outcome = await attentive.post_custom_event(EVENT)
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.UNKNOWN, None, 1)
    assert "0.2s" in outcome.text
    assert len(scripted.seen) == 1


async def test_a_408_is_unknown_too_and_a_throttled_event_is_repeated_with_the_same_body(scripted):
    scripted.add(Step(429, "slow down"), Step(200, ""), Step(408, "request timeout"))
    async with client(scripted.url, "sk_test_events_0001", clock=VirtualClock()) as attentive:
        first = await attentive.post_ecommerce_event("purchase", PURCHASE)
        second = await attentive.post_custom_event(EVENT)
    assert first.ok and len({seen.body for seen in scripted.seen[:2]}) == 1
    assert second.kind is OutcomeKind.UNKNOWN and second.status == 408
    assert len(scripted.seen) == 3


async def test_a_refused_connection_provably_sent_nothing_and_is_retried():
    server = ScriptedServer().start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    async with client(url, "sk_test_events_0001", clock=VirtualClock(), max_attempts=3) as attentive:
        outcome = await attentive.post_custom_event(EVENT)
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.RETRYABLE, None, 3)
    assert "cannot connect" in outcome.text
