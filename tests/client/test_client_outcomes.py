"""Classification, retries, back-off and cancellation over real HTTP, against a scripted server that
answers exactly what each case needs (statuses, Retry-After, dropped connections, hangs)."""
from __future__ import annotations

import asyncio
import email.utils
import json
import random

import pytest
from scripted_server import ScriptedServer, Step
from virtual_clock import VirtualClock

from tui.attentive import endpoints
from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import OutcomeKind
from tui.attentive.pacing import PacingRegistry
from tui.attentive.responses import retry_after_seconds
from tui.attentive.secret import ApiKey

KEY = ApiKey("sk_test_client_outcomes_9f3a")
USER = {"email": "ada@example.com"}
JSON = {"Content-Type": "application/json"}


def client_for(server: ScriptedServer, *, clock: VirtualClock | None = None, **options) -> AttentiveClient:
    """A client with its own pacing registry; with a VirtualClock, back-off and pacing waits are
    recorded instead of slept."""
    options.setdefault("backoff_base_s", 0.01)
    registry = PacingRegistry(clock=clock) if clock else PacingRegistry()
    return AttentiveClient(server.url, KEY, pacing=registry, rng=random.Random(7), **options)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(200, OutcomeKind.ACCEPTED), (202, OutcomeKind.ACCEPTED), (400, OutcomeKind.REJECTED), (404, OutcomeKind.REJECTED)],
)
async def test_success_and_rejection_keep_status_and_raw_text(scripted, status, kind):
    body = "<html>odd gateway page</html>" if status == 404 else '{"error": "properties.age: wrong type"}'
    scripted.add(Step(status, body))
    async with client_for(scripted) as client:
        outcome = await client.post_custom_attributes(USER, {"age": 3})
    assert (outcome.kind, outcome.status, outcome.attempts) == (kind, status, 1)
    assert outcome.text == body
    assert len(scripted.seen) == 1


@pytest.mark.parametrize(("answer", "kind", "words"), [
    (Step(401, "unknown key"), OutcomeKind.FATAL, "the API key was not accepted"),
    (Step(200, "<html>captive portal</html>"), OutcomeKind.REJECTED, "captive portal"),  # not the documented body
], ids=["401-fatal", "success-without-the-documented-body"])
async def test_a_connection_test_that_finds_no_company_says_why(scripted, answer, kind, words):
    scripted.add(answer)
    async with client_for(scripted) as client:
        outcome = await client.me()
    assert outcome.kind is kind
    assert words in outcome.text
    assert len(scripted.seen) == 1  # neither is retried


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda c: c.post_custom_attributes(USER, {"tier": "gold"}), "Custom Attributes"),
        (lambda c: c.get_custom_attributes(email="ada@example.com"), "Custom Attributes"),
        (lambda c: c.post_subscription({"user": USER, "signUpSourceId": "1"}), "Subscribers"),
        (lambda c: c.post_bulk_attributes([{"identifiers": USER}]), "Custom Attributes and Subscribers"),
    ],
)
async def test_403_is_fatal_and_names_the_permission_the_endpoint_needs(scripted, call, permission):
    scripted.add(Step(403, ""))
    async with client_for(scripted) as client:
        outcome = await call(client)
    assert outcome.kind is OutcomeKind.FATAL
    assert outcome.permission == permission
    assert permission in outcome.text


async def test_5xx_and_dropped_connections_are_retried_within_max_attempts(scripted):
    scripted.add(Step(500, "boom"), Step(503, "busy"), Step(action="drop"), Step(200, ""))
    async with client_for(scripted, max_attempts=5) as client:
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
        stats = client.stats.of("custom-attributes")
    assert outcome.kind is OutcomeKind.ACCEPTED
    assert outcome.attempts == 4
    assert (stats.requests, stats.retries, stats.errors) == (4, 3, 1)
    assert len({seen.body for seen in scripted.seen}) == 1  # the same body each time


async def test_the_last_retryable_outcome_is_returned_not_raised_after_max_attempts(scripted):
    scripted.default = Step(503, "still busy")
    clock = VirtualClock()
    async with client_for(scripted, clock=clock, max_attempts=3, backoff_base_s=0.5) as client:
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.RETRYABLE, 503, 3)
    assert "still busy" in outcome.text
    assert len(scripted.seen) == 3
    backoffs = [s for s in clock.sleeps if s > 0]
    assert len(backoffs) == 2 and backoffs[0] <= 0.5 and backoffs[1] <= 1.0  # full jitter under 0.5 * 2^n


async def test_429_does_not_count_as_an_attempt(scripted):
    throttled = Step(429, "slow down", {"x-ratelimit-limit": "150", "x-ratelimit-remaining": "0"})
    scripted.add(throttled, throttled, throttled, Step(500, ""), throttled, Step(200, ""))
    async with client_for(scripted, clock=VirtualClock(), max_attempts=2) as client:
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
        stats = client.stats.of("custom-attributes")
    assert outcome.kind is OutcomeKind.ACCEPTED
    assert outcome.attempts == 2  # the 500 and the final 200; four 429s did not use up max_attempts=2
    assert (stats.requests, stats.throttled, stats.retries) == (6, 4, 5)


async def test_retry_after_is_honoured_and_pauses_every_sender_of_the_key(scripted):
    scripted.add(Step(429, "", {"Retry-After": "3"}), Step(200, ""))
    clock = VirtualClock()
    async with client_for(scripted, clock=clock) as client:
        started = clock.now
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
        assert outcome.ok
        assert 3.0 in clock.sleeps
        bucket = client._bucket(endpoints.CUSTOM_ATTRIBUTES)
        assert bucket.reserve()[0] >= started + 3.0


async def test_endless_429_gives_up_after_the_cap(scripted):
    scripted.default = Step(429, "throttled", {"x-ratelimit-remaining": "0"})
    async with client_for(scripted, clock=VirtualClock(), max_throttled=4) as client:
        outcome = await client.me()
    assert outcome.kind is OutcomeKind.RETRYABLE and outcome.status == 429
    assert "giving up" in outcome.text
    assert len(scripted.seen) == 5


async def test_a_timeout_is_retryable_with_no_status(scripted):
    scripted.add(Step(action="hang"), Step(action="hang"))
    async with client_for(scripted, timeout_s=0.2, max_attempts=2) as client:
        outcome = await client.me()
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.RETRYABLE, None, 2)
    assert "0.2s" in outcome.text


async def test_connection_refused_is_retryable_after_max_attempts():
    server = ScriptedServer().start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    client = AttentiveClient(url, KEY, pacing=PacingRegistry(clock=VirtualClock()), max_attempts=3)
    async with client:
        outcome = await client.me()
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.RETRYABLE, None, 3)
    assert "cannot connect" in outcome.text


async def test_a_subscription_the_server_may_have_acted_on_is_unknown_and_not_repeated(scripted):
    scripted.add(Step(500, "partial failure"))
    async with client_for(scripted) as client:
        outcome = await client.post_subscription({"user": USER, "signUpSourceId": "42"})
    assert (outcome.kind, outcome.status, outcome.attempts) == (OutcomeKind.UNKNOWN, 500, 1)
    assert "not repeated" in outcome.text and "partial failure" in outcome.text
    assert len(scripted.seen) == 1


async def test_a_throttled_subscription_is_repeated(scripted):
    scripted.add(Step(429, ""), Step(202, '{"subscriptionResponses": []}', JSON))
    async with client_for(scripted, clock=VirtualClock()) as client:
        outcome = await client.post_subscription({"user": USER, "signUpSourceId": "42"})
    assert outcome.ok and outcome.data == {"subscriptionResponses": []}
    assert len(scripted.seen) == 2


async def test_cancelling_mid_flight_propagates_and_leaves_no_task(scripted):
    scripted.add(Step(action="hang"))
    async with client_for(scripted) as client:
        call = asyncio.create_task(client.post_custom_attributes(USER, {"tier": "gold"}))
        await asyncio.to_thread(scripted.hanging.wait, 10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert asyncio.all_tasks() == {asyncio.current_task()}
        # The client still works after a cancelled call.
        assert (await client.post_custom_attributes(USER, {"tier": "gold"})).ok


async def test_the_key_travels_only_in_the_authorization_header_and_never_prints(scripted):
    scripted.add(Step(400, f"bad request from {KEY.value}"))
    async with client_for(scripted) as client:
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
        assert KEY.value not in repr(client) and KEY.value not in str(client)
    seen = scripted.seen[0]
    assert seen.headers["Authorization"] == f"Bearer {KEY.value}"
    assert KEY.value not in seen.body.decode() and KEY.value not in seen.path + json.dumps(seen.query)
    assert KEY.value not in outcome.text and KEY.masked() in outcome.text


async def test_bad_input_is_rejected_before_anything_is_sent(scripted):
    async with client_for(scripted) as client:
        empty = await client.post_custom_attributes({"email": "  ", "phone": None}, {"tier": "gold"})
        both = await client.get_custom_attributes(email="a@example.com", phone="+15550100")
        too_many = await client.post_bulk_attributes([{"identifiers": USER}] * 257)
    for outcome in (empty, both, too_many):
        assert outcome.kind is OutcomeKind.REJECTED and outcome.status is None
        assert outcome.text.startswith("not sent:")
    assert scripted.seen == []


async def test_results_on_another_host_are_fetched_without_our_key(scripted):
    other = ScriptedServer(default=Step(200, '{"request": {"identifiers": {"email": "a@example.com"}}, "response": {"status": 200}}\n')).start()
    try:
        async with client_for(scripted) as client:
            results = await client.download_bulk_results(f"{other.url}/signed/results.jsonl?sig=abc")
            relative = await client.download_bulk_results("/v2/bulk/job/7/results")
    finally:
        other.stop()
    assert results.ok and results.records[0].identifier == "a@example.com"
    assert "Authorization" not in other.seen[0].headers
    assert other.seen[0].query == {"sig": "abc"}
    assert relative.failure is None
    assert scripted.seen[0].path == "/v2/bulk/job/7/results"
    assert scripted.seen[0].headers["Authorization"] == f"Bearer {KEY.value}"


async def test_a_failed_download_reports_its_outcome(scripted):
    scripted.add(Step(404, "expired"))
    async with client_for(scripted) as client:
        results = await client.download_bulk_results("/results/gone.jsonl")
    assert not results.ok
    assert results.failure.status == 404 and results.failure.text == "expired"
    assert results.records == [] and results.unparsed == []


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("86400", 300.0), ("soon", None), ("", None), (None, None),
     ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0)],
)
def test_retry_after_reads_seconds_and_http_dates_within_bounds(header, seconds):
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    assert retry_after_seconds(header, now=now) == seconds


async def test_a_refused_results_link_is_not_fatal_for_the_run(scripted):
    scripted.add(Step(403, "Request has expired"))
    async with client_for(scripted) as client:
        results = await client.download_bulk_results("/results/old.jsonl")
    assert results.failure.kind is OutcomeKind.REJECTED and results.failure.status == 403
    assert "link may have expired" in results.failure.text


async def test_a_key_echoed_in_another_letter_case_is_masked_too(scripted):
    scripted.add(Step(400, f"bad request from {KEY.value.upper()} and {KEY.value.title()}"))
    async with client_for(scripted) as client:
        outcome = await client.post_custom_attributes(USER, {"tier": "gold"})
    assert KEY.value.casefold() not in outcome.text.casefold() and outcome.text.count(KEY.masked()) == 2
