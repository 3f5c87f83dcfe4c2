"""The simulator's subscription endpoints over loopback HTTP: POST /v1/subscriptions, POST
/v1/subscriptions/unsubscribe and GET /v1/subscriptions. Spec-valid bodies are accepted, answered in
the spec's response shapes and recorded with the texts they sent the person; bodies the spec or its
texts forbid get a 400 naming the field; keys without Subscribers get 403; the record and the
opt-outs survive a restart."""
from __future__ import annotations

import asyncio

import pytest
from simulator_fixtures import FULL_KEY, TEST_KEYS
from spec_kit import v1_response

from tui.attentive import endpoints
from tui.attentive.simulator.state import ProfileChange, SimulatorState
from tui.attentive.simulator.subscription_log import SubscriptionPost, SubscriptionResult

SUBSCRIBE, UNSUBSCRIBE, READ = endpoints.SUBSCRIPTIONS, endpoints.UNSUBSCRIBE, endpoints.SUBSCRIPTIONS_READ
PHONE, EMAIL = "+19148440001", "ada@example.com"
COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id


def subscribe_body(user: dict, kind: str = "MARKETING") -> dict:
    return {"user": user, "locale": {"language": "en", "country": "US"}, "subscriptionType": kind}


def answer_of(reply, spec, status: int):
    """The answer's JSON, after checking it against the spec's schema for that answer."""
    assert reply.status == status, reply.text
    body = reply.json()
    v1_response(spec.path, spec.method, status)(body)
    return body


async def subscribe(simulator, user: dict, kind: str = "MARKETING") -> list[str]:
    answer = answer_of(await simulator.call("POST", SUBSCRIBE.path, json=subscribe_body(user, kind)), SUBSCRIBE, 202)
    return [r["subscriptionCreationStatus"] for r in answer["subscriptionResponses"]]


async def unsubscribe(simulator, body: dict) -> list[tuple[str, str, str]]:
    answer = answer_of(await simulator.call("POST", UNSUBSCRIBE.path, json=body), UNSUBSCRIBE, 202)
    assert answer["user"] == body["user"]
    return [(r["subscription"]["type"], r["subscription"]["channel"], r["subscriptionUnsubscribeStatus"])
            for r in answer["subscriptionResponses"]]


async def eligibilities(simulator, **query: str) -> list[tuple[str, str, bool]]:
    answer = answer_of(await simulator.call("GET", READ.path, params=query), READ, 200)
    return [(e["subscription"]["type"], e["subscription"]["channel"], e["eligibility"]["isEligible"])
            for e in answer["subscriptionEligibilities"]]


@pytest.mark.parametrize(("user", "person", "texts"), [
    ({"phone": PHONE}, ("phone", PHONE), 1),   # TEXT: "already subscribed" on the second
    ({"email": EMAIL}, ("email", EMAIL), 0),   # EMAIL: no text
])
async def test_subscribing_twice_is_newly_then_previously_created_and_texts_only_a_phone(simulator, user, person, texts):
    assert await subscribe(simulator, user) == ["NEWLY_CREATED"]
    assert await subscribe(simulator, user) == ["PREVIOUSLY_CREATED"]
    log = simulator.sim.state.subscriptions
    assert log.counts(SUBSCRIBE.name) == {person: 2}
    assert log.texts_sent(person) == texts
    assert [r.status for post in log.posts(SUBSCRIBE.name) for r in post.results] == ["NEWLY_CREATED", "PREVIOUSLY_CREATED"]
    assert log.posts(UNSUBSCRIBE.name) == []


async def test_one_subscribe_with_both_identifiers_answers_each_channel(simulator):
    reply = await simulator.call("POST", SUBSCRIBE.path, json={**subscribe_body({"phone": PHONE, "email": EMAIL}),
                                                                "externalIdentifiers": {"clientUserId": "c-1"}})
    answer = answer_of(reply, SUBSCRIBE, 202)
    assert reply.headers["x-ratelimit-limit"] == "10"
    assert answer["externalIdentifiers"] == {"clientUserId": "c-1"}
    assert [(r["subscription"]["channel"], r["subscriptionCreationStatus"]) for r in answer["subscriptionResponses"]] \
        == [("TEXT", "NEWLY_CREATED"), ("EMAIL", "NEWLY_CREATED")]
    assert simulator.sim.state.subscriptions.counts() == {("phone", PHONE): 1, ("email", EMAIL): 1}


@pytest.mark.parametrize(("notification", "texts"), [
    ({"disabled": True}, 0),
    ({"disabled": False}, 1),
    ({"language": "fr-CA"}, 1),   # disabled is "assumed false by default"
    (None, 1),
])
async def test_a_text_unsubscribe_texts_the_person_unless_the_notification_is_disabled(simulator, notification, texts):
    await subscribe(simulator, {"phone": PHONE})
    body = {"user": {"phone": PHONE}, "subscriptions": [{"type": "MARKETING", "channel": "TEXT"}]}
    if notification is not None:
        body["notification"] = notification
    assert await unsubscribe(simulator, body) == [("MARKETING", "TEXT", "NEWLY_UNSUBSCRIBED")]
    log = simulator.sim.state.subscriptions
    assert log.texts_sent(("phone", PHONE)) == texts
    assert log.counts(UNSUBSCRIBE.name) == {("phone", PHONE): 1}
    [post] = log.posts(UNSUBSCRIBE.name)
    assert post.results == (SubscriptionResult("phone", PHONE, "TEXT", "MARKETING", "NEWLY_UNSUBSCRIBED", texts == 1),)
    profile = simulator.sim.state.company(COMPANY).find("phone", PHONE)
    assert (profile.subscriptions, profile.unsubscribed) == (set(), {("MARKETING", "TEXT")})


async def test_unsubscribing_again_is_previously_unsubscribed_and_texts_again(simulator):
    await subscribe(simulator, {"phone": PHONE})
    body = {"user": {"phone": PHONE}}
    assert await unsubscribe(simulator, body) == [("MARKETING", "TEXT", "NEWLY_UNSUBSCRIBED")]
    assert await unsubscribe(simulator, body) == [("MARKETING", "TEXT", "PREVIOUSLY_UNSUBSCRIBED")]
    assert simulator.sim.state.subscriptions.texts_sent(("phone", PHONE)) == 2
    # Subscribing again undoes the opt-out: a new subscription, no "already subscribed" text.
    assert await subscribe(simulator, {"phone": PHONE}) == ["NEWLY_CREATED"]
    assert simulator.sim.state.subscriptions.texts_sent(("phone", PHONE)) == 2


async def test_without_subscriptions_an_unsubscribe_reaches_all_of_its_identifiers_channel_only(simulator):
    await subscribe(simulator, {"phone": PHONE, "email": EMAIL}, "MARKETING")
    await subscribe(simulator, {"phone": PHONE, "email": EMAIL}, "TRANSACTIONAL")
    assert await unsubscribe(simulator, {"user": {"phone": PHONE}, "notification": {"disabled": True}}) == [
        ("MARKETING", "TEXT", "NEWLY_UNSUBSCRIBED"), ("TRANSACTIONAL", "TEXT", "NEWLY_UNSUBSCRIBED")]
    profile = simulator.sim.state.company(COMPANY).find("email", EMAIL)
    assert profile.subscriptions == {("MARKETING", "EMAIL"), ("TRANSACTIONAL", "EMAIL")}
    assert profile.unsubscribed == {("MARKETING", "TEXT"), ("TRANSACTIONAL", "TEXT")}
    # One request, two subscriptions: the person's requests are counted once.
    assert simulator.sim.state.subscriptions.counts(UNSUBSCRIBE.name) == {("phone", PHONE): 1}
    assert await unsubscribe(simulator, {"user": {"email": EMAIL}, "subscriptions": [
        {"type": "TRANSACTIONAL", "channel": "EMAIL"}, {"type": "CHECKOUT_ABANDONED", "channel": "EMAIL"}]}) == [
        ("TRANSACTIONAL", "EMAIL", "NEWLY_UNSUBSCRIBED"), ("CHECKOUT_ABANDONED", "EMAIL", "PREVIOUSLY_UNSUBSCRIBED")]
    assert profile.subscriptions == {("MARKETING", "EMAIL")}
    assert simulator.sim.state.subscriptions.texts_sent(("email", EMAIL)) == 0


async def test_get_answers_what_the_state_holds(simulator):
    await subscribe(simulator, {"phone": PHONE, "email": EMAIL})
    await subscribe(simulator, {"email": EMAIL}, "TRANSACTIONAL")
    await unsubscribe(simulator, {"user": {"phone": PHONE}, "notification": {"disabled": True}})
    expected = [("MARKETING", "EMAIL", True), ("TRANSACTIONAL", "EMAIL", True), ("MARKETING", "TEXT", False)]
    assert await eligibilities(simulator, phone=PHONE) == expected
    assert await eligibilities(simulator, email=EMAIL.upper()) == expected  # emails match in any case
    profile = simulator.sim.state.company(COMPANY).find("phone", PHONE)
    assert {(t, c) for t, c, ok in expected if ok} == profile.subscriptions
    reply = await simulator.call("GET", READ.path, params={"phone": PHONE})
    assert reply.headers["x-ratelimit-limit"] == "10"


async def test_get_of_a_known_person_with_no_subscriptions_is_an_empty_list_and_of_a_stranger_a_404(simulator):
    assert (await simulator.call("POST", endpoints.CUSTOM_ATTRIBUTES.path,
                                 json={"user": {"email": EMAIL}, "properties": {"tier": "gold"}})).status == 200
    assert await eligibilities(simulator, email=EMAIL) == []
    stranger = await simulator.call("GET", READ.path, params={"phone": PHONE})
    assert stranger.status == 404 and "no subscriber with this phone" in stranger.json()["message"]
    unknown = await simulator.call("POST", UNSUBSCRIBE.path, json={"user": {"phone": PHONE}})
    assert unknown.status == 404
    assert len(simulator.sim.state.subscriptions) == 0


@pytest.mark.parametrize(("path", "body", "words"), [
    (SUBSCRIBE.path, {"signUpSourceId": "1"}, "body must contain ['user']"),
    (SUBSCRIBE.path, {"user": {"phone": 19148440001}, "signUpSourceId": "1"}, "user.phone must be string"),
    (SUBSCRIBE.path, {"user": {}, "signUpSourceId": "1"}, "user: give a phone or an email"),
    (SUBSCRIBE.path, {"user": {"phone": "19148440001"}, "signUpSourceId": "1"}, "user.phone '19148440001' is not in E.164"),
    (SUBSCRIBE.path, {"user": {"email": EMAIL}}, "give signUpSourceId, or both locale and subscriptionType"),
    (UNSUBSCRIBE.path, {}, "body must contain ['user']"),
    (UNSUBSCRIBE.path, {"user": {}}, "user: give a phone or an email to unsubscribe"),
    (UNSUBSCRIBE.path, {"user": {"email": "not-an-email"}}, "user.email 'not-an-email' is not an email address"),
    (UNSUBSCRIBE.path, {"user": {"email": EMAIL}, "subscriptions": [{"type": "WEEKLY", "channel": "EMAIL"}]},
     "subscriptions[0].type must be one of"),
    (UNSUBSCRIBE.path, {"user": {"email": EMAIL}, "subscriptions": [{"type": "MARKETING"}]},
     "subscriptions[0].channel is missing"),
    (UNSUBSCRIBE.path, {"user": {"email": EMAIL}, "subscriptions": [{"type": "MARKETING", "channel": "TEXT"}]},
     "subscriptions[0] is a TEXT subscription, which only user.phone reaches"),
    (UNSUBSCRIBE.path, {"user": {"email": EMAIL}, "notification": {"language": "en-us"}},
     "notification.language 'en-us' is not supported"),
    (UNSUBSCRIBE.path, {"user": {"email": EMAIL}, "notification": {"disabled": "yes"}}, "notification.disabled must be boolean"),
])
async def test_a_bad_body_is_a_400_naming_the_field_and_records_nothing(simulator, path, body, words):
    await subscribe(simulator, {"email": EMAIL})
    before = len(simulator.sim.state.subscriptions)
    reply = await simulator.call("POST", path, json=body)
    assert reply.status == 400
    assert words in reply.json()["message"]
    assert len(simulator.sim.state.subscriptions) == before


@pytest.mark.parametrize(("query", "words"), [
    ({}, "give exactly one query parameter, email or phone"),
    ({"email": EMAIL, "phone": PHONE}, "give exactly one query parameter"),
    ({"email": ""}, "the email query parameter is empty"),
    ({"phone": "19148440001"}, "phone '19148440001' is not in E.164"),
])
async def test_a_bad_read_is_a_400_saying_why(simulator, query, words):
    reply = await simulator.call("GET", READ.path, params=query)
    assert reply.status == 400 and words in reply.json()["message"]


async def test_a_phone_with_an_unencoded_plus_is_told_to_encode_it(simulator):
    reply = await simulator.call("GET", READ.path + "?phone=+19148440001")
    assert reply.status == 400 and "encode + as %2B" in reply.json()["message"]


@pytest.mark.parametrize(("method", "spec", "kwargs"), [
    ("POST", SUBSCRIBE, {"json": subscribe_body({"phone": PHONE})}),
    ("POST", UNSUBSCRIBE, {"json": {"user": {"phone": PHONE}}}),
    ("GET", READ, {"params": {"phone": PHONE}}),
], ids=lambda value: getattr(value, "name", ""))
async def test_a_key_without_the_subscribers_permission_gets_403_on_each(simulator, method, spec, kwargs):
    await subscribe(simulator, {"phone": PHONE})
    refused = await simulator.call(method, spec.path, key=simulator.attributes_key, **kwargs)
    assert refused.status == 403 and "Subscribers" in refused.json()["message"]
    allowed = await simulator.call(method, spec.path, key=simulator.subscriptions_key, **kwargs)
    assert allowed.status == (200 if method == "GET" else 202)
    assert refused.headers["x-ratelimit-limit"] == str(spec.limit_per_second)


async def test_the_unsubscribe_limit_is_5_per_second_and_a_refused_one_is_not_recorded(simulator):
    await subscribe(simulator, {"phone": PHONE})
    body = {"user": {"phone": PHONE}, "notification": {"disabled": True}}
    replies = await asyncio.gather(*(simulator.call("POST", UNSUBSCRIBE.path, json=body) for _ in range(15)))
    statuses = [reply.status for reply in replies]
    assert {reply.headers["x-ratelimit-limit"] for reply in replies} == {"5"}
    assert 429 in statuses and set(statuses) == {202, 429}  # 15 at once: well over 5 a second
    assert len(simulator.sim.state.subscriptions.posts(UNSUBSCRIBE.name)) == statuses.count(202)


async def test_the_log_and_the_opt_outs_survive_a_restart(start_simulator, tmp_path):
    state_file = tmp_path / "state.json"
    first = await start_simulator(state_file=state_file)
    await subscribe(first, {"phone": PHONE})
    await subscribe(first, {"phone": PHONE})
    await unsubscribe(first, {"user": {"phone": PHONE}})
    await first.stop()
    second = await start_simulator(state_file=state_file)
    log = second.sim.state.subscriptions
    assert log.counts(SUBSCRIBE.name) == {("phone", PHONE): 2} and log.counts(UNSUBSCRIBE.name) == {("phone", PHONE): 1}
    assert log.texts_sent(("phone", PHONE)) == 2
    assert await eligibilities(second, phone=PHONE) == [("MARKETING", "TEXT", False)]


def test_the_journal_replays_unsubscribes_and_posts(tmp_path):
    path = tmp_path / "state.json"
    state = SimulatorState.load(path)
    state.apply("c", [ProfileChange({"phone": PHONE}, subscriptions=(("MARKETING", "TEXT"), ("TRANSACTIONAL", "TEXT")))])
    state.apply("c", [ProfileChange({"phone": PHONE}, unsubscriptions=(("MARKETING", "TEXT"),))])
    post = SubscriptionPost("unsubscribe", "c", (("phone", PHONE),),
                            (SubscriptionResult("phone", PHONE, "TEXT", "MARKETING", "NEWLY_UNSUBSCRIBED", True),))
    state.record_subscription(post)
    state.write_journal(state.take_pending())  # as the server's flusher does; no snapshot written
    replayed = SimulatorState.load(path)
    profile = replayed.company("c").find("phone", PHONE)
    assert (profile.subscriptions, profile.unsubscribed) == ({("TRANSACTIONAL", "TEXT")}, {("MARKETING", "TEXT")})
    assert replayed.subscriptions.posts() == [post]
