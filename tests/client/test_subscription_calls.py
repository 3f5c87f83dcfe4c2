"""The client's subscription calls: subscribe and unsubscribe are sent once (a repeat can text the
person "already subscribed" / "you are unsubscribed"), so an answer that leaves open whether the
request arrived is UNKNOWN and never repeated, while a 429 or a connection that never opened is
retried; the eligibility read retries as any read does. Against the simulator, which records every
arrival (SimulatorState.subscriptions), and a scripted server. unsubscribe_body's variants validate
against the spec."""
from __future__ import annotations

import random

import fastjsonschema
import pytest
from scripted_server import ScriptedServer, Step
from simulator_fixtures import FULL_KEY, TEST_KEYS, seed_starting
from spec_kit import v1, v1_response
from virtual_clock import VirtualClock

from tui.attentive import endpoints, payloads
from tui.attentive.client import SEND_ONCE, AttentiveClient
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import PacingRegistry
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.faults import FaultKind, parse_fault_spec
from tui.attentive.simulator.state import ProfileChange

PHONE, EMAIL = "+19148440001", "ada@example.com"
PERSON = ("phone", PHONE)
SUBSCRIBE = payloads.subscription_body({"phone": PHONE}, locale=("en", "US"), subscription_type="MARKETING")
UNSUBSCRIBE = payloads.unsubscribe_body({"phone": PHONE}, [("MARKETING", "TEXT")])
COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id
JSON = {"Content-Type": "application/json"}


def client(url: str, key: str, *, clock: VirtualClock | None = None, **options) -> AttentiveClient:
    options.setdefault("backoff_base_s", 0.01)
    registry = PacingRegistry(clock=clock) if clock else PacingRegistry()
    return AttentiveClient(url, ApiKey(key), pacing=registry, rng=random.Random(3), **options)


def subscribed(handle) -> None:
    """The person holds a TEXT subscription, put straight into the state (no request, no log entry)."""
    handle.sim.state.apply(COMPANY, [ProfileChange({"phone": PHONE}, subscriptions=(("MARKETING", "TEXT"),))])


def test_subscribe_and_unsubscribe_are_send_once_and_the_read_is_not():
    assert {endpoints.SUBSCRIPTIONS.name, endpoints.UNSUBSCRIBE.name} <= SEND_ONCE
    assert endpoints.SUBSCRIPTIONS_READ.name not in SEND_ONCE
    assert [endpoints.BY_NAME[name].limit_per_second for name in ("subscriptions", "unsubscribe", "subscriptions-read")] \
        == [10, 5, 10]


async def test_subscribe_read_unsubscribe_read_against_the_simulator(simulator):
    async with client(simulator.url, simulator.subscriptions_key) as attentive:
        first = await attentive.post_subscription(SUBSCRIBE)
        held = await attentive.get_subscriptions(phone=PHONE)
        out = await attentive.post_unsubscribe(UNSUBSCRIBE)
        after = await attentive.get_subscriptions(phone=PHONE)
        rates = [attentive.rate(name) for name in ("subscriptions", "unsubscribe", "subscriptions-read")]
    assert all(o.kind is OutcomeKind.ACCEPTED and o.attempts == 1 for o in (first, held, out, after))
    assert first.data["subscriptionResponses"][0]["subscriptionCreationStatus"] == "NEWLY_CREATED"
    assert out.status == 202 and out.data["subscriptionResponses"] == [
        {"subscription": {"type": "MARKETING", "channel": "TEXT"}, "subscriptionUnsubscribeStatus": "NEWLY_UNSUBSCRIBED"}]
    assert held.data == {"subscriptionEligibilities": [
        {"subscription": {"type": "MARKETING", "channel": "TEXT"}, "eligibility": {"isEligible": True}}]}
    assert after.data["subscriptionEligibilities"][0]["eligibility"] == {"isEligible": False}
    assert rates == [10, 5, 10]
    log = simulator.sim.state.subscriptions
    assert log.counts("subscriptions") == {PERSON: 1} and log.counts("unsubscribe") == {PERSON: 1}
    assert log.texts_sent(PERSON) == 0  # unsubscribe_body disables the notification by default


async def test_a_read_of_a_stranger_is_a_404_rejection_and_a_read_takes_exactly_one_identifier(simulator):
    async with client(simulator.url, simulator.full_key) as attentive:
        stranger = await attentive.get_subscriptions(email=EMAIL)
        both = await attentive.get_subscriptions(email=EMAIL, phone=PHONE)
        neither = await attentive.get_subscriptions()
        assert attentive.stats.requests == 1
    assert (stranger.kind, stranger.status) == (OutcomeKind.REJECTED, 404)
    for outcome in (both, neither):
        assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.REJECTED, None, 0)
        assert "exactly one of email or phone" in outcome.text


@pytest.mark.parametrize(("faults", "arrived"), [
    ("500after=1", 1),     # applied, then answered 500: the case send-once is for
    ("dropafter=1", 1),    # applied, then the connection closed unanswered
    ("500=1", 0),          # refused before the endpoint acted: the client cannot know that
    ("drop=1", 0),
])
@pytest.mark.parametrize("call", ["subscribe", "unsubscribe"])
async def test_an_answer_that_leaves_the_fate_open_is_unknown_and_not_repeated(start_simulator, faults, arrived, call):
    handle = await start_simulator(faults=parse_fault_spec(faults), seed=1)
    if call == "unsubscribe":
        subscribed(handle)
    async with client(handle.url, handle.full_key, max_attempts=5) as attentive:
        outcome = await (attentive.post_subscription(SUBSCRIBE) if call == "subscribe" else attentive.post_unsubscribe(UNSUBSCRIBE))
        stats = attentive.stats.of("subscriptions" if call == "subscribe" else "unsubscribe")
    assert (outcome.kind, outcome.attempts, outcome.ok) == (OutcomeKind.UNKNOWN, 1, False)
    assert "not repeated" in outcome.text
    assert (stats.requests, stats.retries) == (1, 0)
    endpoint = "subscriptions" if call == "subscribe" else "unsubscribe"
    assert sum(handle.sim.state.subscriptions.counts(endpoint).values()) == arrived
    assert len(handle.sim.state.subscriptions) == arrived


@pytest.mark.parametrize("call", ["subscribe", "unsubscribe"])
async def test_a_429_storm_is_retried_and_the_request_arrives_once(start_simulator, call):
    spec = "429burst=0.5:3"
    seed = seed_starting(spec, [FaultKind.BURST_429, FaultKind.BURST_429, FaultKind.BURST_429, FaultKind.NONE])
    handle = await start_simulator(faults=parse_fault_spec(spec), seed=seed)
    if call == "unsubscribe":
        subscribed(handle)
    async with client(handle.url, handle.full_key, clock=VirtualClock()) as attentive:
        outcome = await (attentive.post_subscription(SUBSCRIBE) if call == "subscribe" else attentive.post_unsubscribe(UNSUBSCRIBE))
        stats = attentive.stats.of("subscriptions" if call == "subscribe" else "unsubscribe")
    assert outcome.kind is OutcomeKind.ACCEPTED and outcome.attempts == 1  # a 429 is not an attempt
    assert (stats.requests, stats.throttled) == (4, 3)
    endpoint = "subscriptions" if call == "subscribe" else "unsubscribe"
    assert handle.sim.state.subscriptions.counts(endpoint) == {PERSON: 1}


async def test_a_missing_permission_is_fatal_and_named_on_all_three(simulator):
    async with client(simulator.url, simulator.attributes_key) as attributes_only:
        outcomes = [await attributes_only.post_subscription(SUBSCRIBE), await attributes_only.post_unsubscribe(UNSUBSCRIBE),
                    await attributes_only.get_subscriptions(phone=PHONE)]
    for outcome in outcomes:
        assert (outcome.kind, outcome.status, outcome.permission) == (OutcomeKind.FATAL, 403, "Subscribers")
    assert len(simulator.sim.state.subscriptions) == 0


async def test_a_timeout_after_sending_an_unsubscribe_is_unknown_and_not_repeated(scripted):
    scripted.add(Step(action="hang"))
    async with client(scripted.url, "sk_test_subscriptions_0001", timeout_s=0.2, max_attempts=3) as attentive:
        outcome = await attentive.post_unsubscribe(UNSUBSCRIBE)
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.UNKNOWN, None, 1)
    assert len(scripted.seen) == 1


async def test_a_408_subscribe_is_unknown_and_a_throttled_one_is_repeated_with_the_same_body(scripted):
    scripted.add(Step(429, "slow down"), Step(202, '{"subscriptionResponses": []}', JSON), Step(408, "request timeout"))
    async with client(scripted.url, "sk_test_subscriptions_0001", clock=VirtualClock()) as attentive:
        first = await attentive.post_subscription(SUBSCRIBE)
        second = await attentive.post_subscription(SUBSCRIBE)
    assert first.ok and first.data == {"subscriptionResponses": []} and len({s.body for s in scripted.seen[:2]}) == 1
    assert (second.kind, second.status) == (OutcomeKind.UNKNOWN, 408)
    assert len(scripted.seen) == 3


async def test_a_refused_connection_sent_nothing_and_an_unsubscribe_is_retried():
    server = ScriptedServer().start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    async with client(url, "sk_test_subscriptions_0001", clock=VirtualClock(), max_attempts=3) as attentive:
        outcome = await attentive.post_unsubscribe(UNSUBSCRIBE)
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.RETRYABLE, None, 3)


async def test_the_read_is_retried_after_a_500_and_sends_the_phone_encoded(scripted):
    answer = '{"subscriptionEligibilities": []}'
    scripted.add(Step(500, "oops"), Step(200, answer, JSON), Step(200, "[]", JSON))
    async with client(scripted.url, "sk_test_subscriptions_0001", clock=VirtualClock()) as attentive:
        outcome = await attentive.get_subscriptions(phone=PHONE)
        odd = await attentive.get_subscriptions(phone=PHONE)
    assert outcome.ok and outcome.data == {"subscriptionEligibilities": []} and outcome.attempts == 2
    assert scripted.seen[1].query == {"phone": PHONE}
    assert (odd.kind, odd.status) == (OutcomeKind.REJECTED, 200)  # a list is not the documented answer


# -- unsubscribe_body ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "subscriptions", "options", "expected"), [
    ({"phone": PHONE}, None, {}, {"user": {"phone": PHONE}, "notification": {"disabled": True}}),
    ({"email": EMAIL, "phone": ""}, [], {"notification_disabled": False},
     {"user": {"email": EMAIL}, "notification": {"disabled": False}}),
    ({"phone": PHONE}, [("MARKETING", "TEXT"), {"type": "CHECKOUT_ABANDONED", "channel": "TEXT"}], {"language": "fr-CA"},
     {"user": {"phone": PHONE}, "subscriptions": [{"type": "MARKETING", "channel": "TEXT"},
                                                   {"type": "CHECKOUT_ABANDONED", "channel": "TEXT"}],
      "notification": {"language": "fr-CA", "disabled": True}}),
    ({"phone": PHONE, "email": EMAIL}, [("TRANSACTIONAL", "EMAIL"), ("TRANSACTIONAL", "TEXT")],
     {"notification_disabled": False, "language": "en-US"},
     {"user": {"email": EMAIL, "phone": PHONE}, "subscriptions": [{"type": "TRANSACTIONAL", "channel": "EMAIL"},
                                                                  {"type": "TRANSACTIONAL", "channel": "TEXT"}],
      "notification": {"language": "en-US", "disabled": False}}),
])
def test_unsubscribe_bodies_match_the_spec(user, subscriptions, options, expected):
    body = payloads.unsubscribe_body(user, subscriptions, **options)
    assert body == expected
    v1(endpoints.UNSUBSCRIBE.path)(body)


@pytest.mark.parametrize(("user", "subscriptions", "options", "words"), [
    ({}, None, {}, "needs an email or a phone"),
    ({"email": " ", "phone": None}, None, {}, "needs an email or a phone"),
    ({"clientUserId": "c-1"}, None, {}, "unsupported identifier 'clientUserId'"),
    ({"phone": PHONE}, [("WEEKLY", "TEXT")], {}, "subscriptions[0].type must be one of MARKETING"),
    ({"phone": PHONE}, [("MARKETING", "PUSH")], {}, "subscriptions[0].channel must be TEXT or EMAIL"),
    ({"phone": PHONE}, [("MARKETING", "TEXT"), ("MARKETING", "EMAIL")], {}, "subscriptions[1] is a EMAIL subscription"),
    ({"phone": PHONE}, ["MARKETING"], {}, "subscriptions[0] must be"),
    ({"phone": PHONE}, None, {"language": "en-us"}, "notification language must be one of en-US, fr-CA"),
    ({"phone": PHONE}, None, {"notification_disabled": "yes"}, "notification_disabled must be True or False"),
])
def test_unsubscribe_body_refuses_what_cannot_be_sent(user, subscriptions, options, words):
    with pytest.raises(payloads.PayloadError) as refused:
        payloads.unsubscribe_body(user, subscriptions, **options)
    assert words in str(refused.value)


def test_the_response_validators_are_real_and_refuse_what_the_spec_forbids():
    unsubscribed = v1_response(endpoints.UNSUBSCRIBE.path, "POST", 202)
    read = v1_response(endpoints.SUBSCRIPTIONS_READ.path, "GET", 200)
    subscribed_ = v1_response(endpoints.SUBSCRIPTIONS.path, "POST", 202)
    for validator, bad in (
        (unsubscribed, {"subscriptionResponses": [{"subscriptionUnsubscribeStatus": "UNSUBSCRIBED"}]}),
        (read, {"subscriptionEligibilities": [{"eligibility": {"isEligible": "yes"}}]}),
        (subscribed_, {"subscriptionResponses": [{"subscription": {"channel": "PUSH"}}]}),
    ):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            validator(bad)
