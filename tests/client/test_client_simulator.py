"""The client against the real simulator over loopback HTTP: every endpoint's success path, each 400
reason surfacing as a rejection with its text, 401/403/429, retries through injected faults,
cancellation, and pacing a 1,500-call burst under a 150/s limit."""
from __future__ import annotations

import asyncio
import random

import pytest
from simulator_fixtures import JobClock

from tui.attentive import payloads
from tui.attentive.client import AttentiveClient, BulkJob, Me
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import PacingRegistry, SystemClock
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.faults import parse_fault_spec


class RecordingClock(SystemClock):
    """The real clock, noting every sleep asked for (to see a Retry-After honoured)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(seconds)


def client(handle, key: str | None = None, *, registry: PacingRegistry | None = None, **options) -> AttentiveClient:
    options.setdefault("backoff_base_s", 0.01)
    return AttentiveClient(
        handle.url, ApiKey(key or handle.full_key), pacing=registry or PacingRegistry(), rng=random.Random(11), **options
    )


async def test_me_names_the_company_behind_the_key(simulator):
    async with client(simulator) as attentive:
        outcome = await attentive.me()
    assert outcome.ok and isinstance(outcome.data, Me)
    assert outcome.data.company_name == "Test Company"
    assert outcome.data.application_name and outcome.data.company_id


async def test_v1_attributes_are_sent_and_read_back_by_email_and_by_phone(simulator):
    user = {"email": "ada@example.com", "phone": "+14155550100"}
    async with client(simulator) as attentive:
        sent = await attentive.post_custom_attributes(user, {"tier": "gold", "visits": 12})
        by_email = await attentive.get_custom_attributes(email="ada@example.com")
        by_phone = await attentive.get_custom_attributes(phone="+14155550100")
        unknown = await attentive.get_custom_attributes(email="nobody@example.com")
    assert (sent.kind, sent.status) == (OutcomeKind.ACCEPTED, 200)
    assert by_email.ok and by_email.data == {"tier": "gold", "visits": "12"}
    assert by_phone.data == by_email.data
    assert (unknown.kind, unknown.status) == (OutcomeKind.REJECTED, 404)
    assert "no profile" in unknown.text


async def test_a_bulk_job_is_followed_to_completion_and_its_results_parsed(start_simulator):
    clock = JobClock()
    handle = await start_simulator(bulk_job_delay_s=30, clock=clock)
    items = [
        payloads.bulk_user_item({"email": "a@example.com"}, {"tier": "gold"}),
        payloads.bulk_user_item({"phone": "+14155550101"}, {"tier": "silver"}),
        payloads.bulk_user_item({"phone": "4155550102"}, {"tier": "bronze"}),  # not E.164: one bad record
    ]
    async with client(handle) as attentive:
        posted = await attentive.post_bulk_attributes(items)
        assert (posted.kind, posted.status) == (OutcomeKind.ACCEPTED, 202)
        pending = await attentive.get_bulk_job(posted.data)
        clock.advance(10)
        running = await attentive.get_bulk_job(posted.data)
        clock.advance(30)
        done = await attentive.get_bulk_job(posted.data)
        results = await attentive.download_bulk_results(done.data.url)
        read_back = await attentive.get_custom_attributes(phone="+14155550101")
    assert isinstance(pending.data, BulkJob) and (pending.data.status, pending.data.url) == ("PENDING", None)
    assert running.data.status == "IN_PROGRESS" and running.data.url is None
    assert done.ok and done.data.status == "COMPLETED" and done.data.total_records == 3
    assert results.ok and results.unparsed == []
    by_identifier = {record.identifier: record for record in results.records}
    assert by_identifier["a@example.com"].ok and by_identifier["+14155550101"].ok
    bad = by_identifier["4155550102"]
    assert (bad.ok, bad.status, bad.identifier_kind) == (False, 400, "phone")
    assert "E.164" in bad.message
    assert read_back.data == {"tier": "silver"}


async def test_an_unknown_bulk_job_is_a_rejection(simulator):
    async with client(simulator) as attentive:
        outcome = await attentive.get_bulk_job("no-such-job")
    assert (outcome.kind, outcome.status) == (OutcomeKind.REJECTED, 404)


async def test_a_subscription_is_created_once_and_then_reported_as_existing(simulator):
    body = payloads.subscription_body({"email": "ada@example.com"}, locale=("en", "US"), subscription_type="MARKETING")
    async with client(simulator) as attentive:
        first = await attentive.post_subscription(body)
        second = await attentive.post_subscription(body)
    assert (first.kind, first.status) == (OutcomeKind.ACCEPTED, 202)
    statuses = [r["subscriptionCreationStatus"] for r in (first.data["subscriptionResponses"] + second.data["subscriptionResponses"])]
    assert statuses == ["NEWLY_CREATED", "PREVIOUSLY_CREATED"]


@pytest.mark.parametrize(
    ("user", "first", "then", "expected"),
    [
        ({"email": "t@example.com"}, {"age": 24}, {"age": "old"}, "fixed by the first value"),
        ({"email": "e@example.com"}, {}, {"tier": "platinum"}, "enumerated attribute"),
        ({"email": "a@example.com"}, {}, {"pets": ["cat", "dog"]}, "is an array"),
        ({"email": "o@example.com"}, {}, {"address": {"city": "Oslo"}}, "is an object"),
        ({"email": "n@example.com"}, {}, {"x" * 201: "long"}, "the limit is 200"),
        ({"phone": "19148440001"}, {}, {"tier": "gold"}, "E.164"),
        ({"email": "i" * 95 + "@example.com"}, {}, {"tier": "gold"}, "limited to 100"),
    ],
)
async def test_each_400_reason_comes_back_as_a_rejection_with_the_servers_text(start_simulator, user, first, then, expected):
    handle = await start_simulator(enum_attributes={"tier": frozenset({"gold", "silver"})})
    async with client(handle) as attentive:
        if first:
            assert (await attentive.post_custom_attributes(user, first)).ok
        outcome = await attentive.post_custom_attributes(user, then)
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.REJECTED, 400, 1)
    assert expected in outcome.text


async def test_an_unknown_key_is_fatal(simulator):
    async with client(simulator, "not-a-known-key") as attentive:
        outcome = await attentive.me()
    assert outcome.kind is OutcomeKind.FATAL and outcome.status == 401
    assert "the API key was not accepted" in outcome.text


async def test_a_missing_permission_is_fatal_and_named(simulator):
    async with client(simulator, simulator.attributes_key) as attributes_only:
        subscribe = await attributes_only.post_subscription(
            payloads.subscription_body({"email": "ada@example.com"}, sign_up_source_id="1")
        )
        allowed = await attributes_only.post_custom_attributes({"email": "ada@example.com"}, {"tier": "gold"})
    async with client(simulator, simulator.subscriptions_key) as subscriptions_only:
        attributes = await subscriptions_only.post_custom_attributes({"email": "ada@example.com"}, {"tier": "gold"})
    assert allowed.ok
    assert (subscribe.kind, subscribe.status, subscribe.permission) == (OutcomeKind.FATAL, 403, "Subscribers")
    assert (attributes.kind, attributes.status, attributes.permission) == (OutcomeKind.FATAL, 403, "Custom Attributes")
    assert "Custom Attributes permission" in attributes.text


async def test_429s_are_waited_out_with_retry_after_and_the_pace_follows_the_servers_limit(start_simulator):
    handle = await start_simulator(limits={"custom-attributes": 2})
    for i in range(2):  # another process with the same key spends this second's allowance first
        spent = await handle.call("POST", "/v1/attributes/custom", json={"user": {"email": f"o{i}@example.com"}, "properties": {"n": i}})
        assert spent.status == 200
    clock = RecordingClock()
    async with client(handle, registry=PacingRegistry(clock=clock)) as attentive:
        outcomes = await asyncio.gather(
            *(attentive.post_custom_attributes({"email": f"p{i}@example.com"}, {"n": i}) for i in range(3))
        )
        stats = attentive.stats.of("custom-attributes")
        assert attentive.rate("custom-attributes") == 2  # lowered from 150 by x-ratelimit-limit
    assert all(o.ok and o.attempts == 1 for o in outcomes)  # a 429 is not an attempt
    assert stats.throttled >= 1 and stats.requests == 3 + stats.throttled
    assert stats.ratelimit_limit == 2 and stats.ratelimit_remaining is not None
    assert 1.0 in clock.sleeps  # the simulator's Retry-After: 1


async def test_retries_through_injected_500_503_and_dropped_connections_finish_within_bounds(start_simulator):
    handle = await start_simulator(faults=parse_fault_spec("500=0.1,503=0.1,drop=0.1"), seed=5, rate_limits=False)
    async with client(handle, max_attempts=6) as attentive:
        outcomes = [await attentive.post_custom_attributes({"email": f"r{i}@example.com"}, {"n": i}) for i in range(40)]
        stats = attentive.stats.of("custom-attributes")
    assert all(o.ok for o in outcomes)
    assert all(1 <= o.attempts <= 6 for o in outcomes)
    assert stats.retries > 0 and stats.errors > 0  # 5xx and dropped connections both happened
    assert stats.requests == 40 + stats.retries


async def test_cancelling_a_call_mid_flight_leaves_no_client_task(start_simulator):
    handle = await start_simulator(faults=parse_fault_spec("latency=1s"), rate_limits=False)
    arrived = asyncio.Event()
    decide = handle.sim.faults.decide

    def noting_arrival():
        arrived.set()
        return decide()

    handle.sim.faults.decide = noting_arrival
    current = asyncio.current_task()
    async with client(handle) as attentive:
        call = asyncio.create_task(attentive.post_custom_attributes({"email": "c@example.com"}, {"n": 1}))
        await arrived.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The simulator's connection handlers and job settler share this loop; any other task would be the client's.
        left = [t for t in asyncio.all_tasks() if t is not current and "web_protocol" not in t.get_coro().cr_code.co_filename
                and not t.get_name().startswith("simulator-")]
    assert left == []
    assert call.cancelled()


async def test_a_burst_of_1500_calls_from_three_senders_of_one_key_stays_under_the_limit(simulator):
    registry = PacingRegistry()  # one process-wide registry: the three clients share the key's bucket
    senders = [client(simulator, registry=registry) for _ in range(3)]
    for sender in senders:
        sender.open()
    try:
        outcomes = await asyncio.gather(
            *(
                sender.post_custom_attributes({"email": f"b{n}-{i}@example.com"}, {"n": i})
                for n, sender in enumerate(senders)
                for i in range(500)
            )
        )
        throttled = sum(s.stats.throttled for s in senders)
        requests = sum(s.stats.requests for s in senders)
    finally:
        for sender in senders:
            await sender.aclose()
    assert all(o.ok for o in outcomes)  # none lost
    assert throttled < 15  # under 1%
    assert requests == 1500 + throttled
