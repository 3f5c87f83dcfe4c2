"""AttentiveClient: the one way the engine, the console and the CLI talk to Attentive.

Every call returns an Outcome (responses.classify); retries happen in here. 429 waits (Retry-After when
given, else exponential back-off with full jitter, capped at backoff_cap_s) without counting as an
attempt, up to `max_throttled` 429s per call (default 60: about a quarter of an hour of back-off) so a
permanently throttled key still ends; 5xx, 408, timeouts and connection errors get `max_attempts` in
total. Every API request is paced by the shared bucket of its (key, endpoint) (pacing.py); a bulk
job's results file is not an API endpoint and is fetched unpaced. The key travels only in the
Authorization header of requests to base_url's origin; a results URL on another host is fetched
without it. Events, subscribes and unsubscribes are sent once (a repeat is counted twice, or texts
the person again): an answer that leaves their fate open is UNKNOWN, never repeated; a 429 or a
connection that never opened is retried as for any call (outcomes.OutcomeKind).
"""
from __future__ import annotations

import ipaddress
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from tui.attentive import endpoints, json_body, payloads, responses
from tui.attentive.backoff import Backoff
from tui.attentive.bulk_results import BulkResults, parse_text
from tui.attentive.endpoints import EndpointSpec
from tui.attentive.exchange import NO_HEADERS, Exchange, request_once
from tui.attentive.outcomes import Outcome, OutcomeKind
from tui.attentive.pacing import DEFAULT_REGISTRY, PacingRegistry, SendStamp, TokenBucket, key_fingerprint
from tui.attentive.responses import BulkJob, ClientStats, Me
from tui.attentive.results_url import MAX_REDIRECTS, REDIRECT_STATUSES, results_target
from tui.attentive.secret import ApiKey
from tui.attentive.steering import Cancelled, Steering, take_slot, unless_cancelled

__all__ = ["AttentiveClient", "BulkJob", "BulkResults", "ClientStats", "Me", "Steering"]

USER_AGENT = "attentive-console/0.1"
_HEADERS = {
    False: {"Accept": "application/json", "User-Agent": USER_AGENT},
    True: {"Accept": "application/json", "User-Agent": USER_AGENT, "Content-Type": "application/json"},
}
# The results file of a bulk job: a file link (a signed URL at Attentive), not the rate-limited
# job-status endpoint, so it has no published limit (0) and is never paced. Pacing it with the
# status calls would halve the jobs a second that the job endpoint's budget can follow.
RESULTS_FILE = EndpointSpec("bulk-results", "GET", "(bulk job results file)", 0, ())
# An event sent twice is counted twice; a subscribe or unsubscribe sent twice can text the person
# "already subscribed" / "you are unsubscribed" (the v1 spec). So one that may have arrived comes
# back UNKNOWN, not repeated; only a 429 or a connection that never opened is sent again.
SEND_ONCE = frozenset(spec.name for spec in (*endpoints.EVENTS, *endpoints.SUBSCRIPTION_WRITES))
EVENT_NAMES = frozenset(spec.name for spec in endpoints.EVENTS)


@dataclass(slots=True)
class _Reply:
    outcome: Outcome
    body: str
    headers: Mapping[str, str]
class AttentiveClient:
    def __init__(
        self,
        base_url: str,
        api_key: ApiKey,
        *,
        rate_limits: Mapping[str, float] | None = None,
        max_attempts: int = 5,
        timeout_s: float = 30.0,
        max_throttled: int = 60,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        connection_limit: int = 64,
        pacing: PacingRegistry | None = None,
        rng: random.Random | None = None,
        steering: Steering | None = None,
        shared_pacing: Path | None = None,
    ):
        if not isinstance(api_key, ApiKey):
            raise TypeError("api_key must be an ApiKey, so that it prints masked")
        base = URL(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"api_url must be an http(s) URL such as https://api.attentivemobile.com, got {base_url!r}")
        if max_attempts < 1 or max_throttled < 0:
            raise ValueError("max_attempts must be at least 1 and max_throttled at least 0")
        self.base_url = base
        self._key = api_key
        # Built once: a fresh dict per request is a measurable share of a v1 call.
        self._auth_headers = {body: {**_HEADERS[body], "Authorization": api_key.authorization()} for body in (False, True)}
        # A budget is a key at one server: the same key against two servers (two simulators, say)
        # is two budgets, and a limit one of them announces must not pace the other.
        self._fingerprint = key_fingerprint(api_key, str(base.origin()))
        self._registry = pacing or DEFAULT_REGISTRY
        self._clock = self._registry.clock
        self._rates = {spec.name: float(spec.limit_per_second) for spec in endpoints.ALL}
        for name, rate in (rate_limits or {}).items():
            self._rates[_known_endpoint(name)] = rate
        self._max_attempts = max_attempts
        self._max_throttled = max_throttled
        self._backoff = Backoff(backoff_base_s, backoff_cap_s)  # full jitter: many senders share a key
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._timeout_s = timeout_s
        self._connection_limit = connection_limit
        self._rng = rng or random.Random()
        self._steering = steering
        self._shared_pacing = shared_pacing  # a folder: slots shared with every process using this key
        self._owner = object()  # this client's claim on the shared buckets
        self._buckets: dict[str, TokenBucket] = {}
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"AttentiveClient({str(self.base_url)!r}, {self._key!r})"

    async def __aenter__(self) -> "AttentiveClient":
        self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def open(self) -> None:
        """Create the HTTP session; needs a running event loop. `async with` does this."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connection_limit, limit_per_host=self._connection_limit, keepalive_timeout=30
            )
            # Proxy variables apply to real hosts only, never to the simulator on loopback.
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, trust_env=not _is_loopback(self.base_url.host)
            )

    async def aclose(self) -> None:
        for bucket in self._buckets.values():
            bucket.release(self._owner)
        self._buckets.clear()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # -- pacing ---------------------------------------------------------------------------------------

    def set_rate(self, endpoint_name: str, per_second: float) -> None:
        """Change this client's pace for one endpoint, live (console keys +/-, destination override)."""
        name = _known_endpoint(endpoint_name)
        if not per_second > 0:
            raise ValueError(f"rate must be a positive number of requests per second, got {per_second!r}")
        self._rates[name] = float(per_second)
        if name in self._buckets:
            self._buckets[name].claim(self._owner, per_second)

    def rate(self, endpoint_name: str) -> float:
        """Requests per second in force for an endpoint (the lowest of every claim on the key's bucket)."""
        return self._bucket(endpoints.BY_NAME[_known_endpoint(endpoint_name)]).rate

    def _bucket(self, endpoint: EndpointSpec) -> TokenBucket:
        bucket = self._buckets.get(endpoint.name)
        if bucket is None:
            bucket = self._registry.bucket(self._fingerprint, endpoint.name)
            if self._shared_pacing is not None:
                bucket.share(self._shared_pacing / f"{self._fingerprint}-{endpoint.name}.slots")
            bucket.claim(self._owner, self._rates[endpoint.name])
            self._buckets[endpoint.name] = bucket
        return bucket

    # -- endpoints ------------------------------------------------------------------------------------

    async def me(self) -> Outcome:
        """GET /v1/me; data: Me."""
        reply = await self._call(endpoints.ME, endpoints.ME.path)
        return responses.with_parsed_body(reply.outcome, reply.body, responses.parse_me, "the documented /v1/me object")

    async def post_custom_attributes(self, user: Mapping[str, Any], properties: Mapping[str, Any]) -> Outcome:
        """POST /v1/attributes/custom for one profile."""
        try:
            body = payloads.custom_attributes_body(user, properties)
        except payloads.PayloadError as exc:
            return responses.not_sent(exc)
        reply = await self._call(endpoints.CUSTOM_ATTRIBUTES, endpoints.CUSTOM_ATTRIBUTES.path, body=body)
        return reply.outcome

    async def get_custom_attributes(self, *, email: str | None = None, phone: str | None = None) -> Outcome:
        """GET /v1/attributes/custom by exactly one identifier; data: dict of name -> value."""
        given = {kind: value for kind, value in (("email", email), ("phone", phone)) if value}
        if len(given) != 1:
            return responses.not_sent(payloads.PayloadError("read-back takes exactly one of email or phone"))
        spec = endpoints.CUSTOM_ATTRIBUTES_READ
        reply = await self._call(spec, spec.path, params=given)
        return responses.with_parsed_body(reply.outcome, reply.body, responses.parse_custom_attributes,
                                          "an array of {name, value}")

    async def post_bulk_attributes(self, users: Sequence[Mapping[str, Any]]) -> Outcome:
        """POST /v2/bulk/user/attributes with 1..256 items built by payloads.bulk_user_item; data: the
        batch job id. A 2xx without a readable batchJobId is still accepted (Attentive took the batch,
        and posting it again is not ours to decide) with data None and the whole body as text."""
        try:
            body = payloads.bulk_body(users)
        except payloads.PayloadError as exc:
            return responses.not_sent(exc)
        reply = await self._call(endpoints.BULK_ATTRIBUTES, endpoints.BULK_ATTRIBUTES.path, body=body)
        if not reply.outcome.ok:
            return reply.outcome
        try:
            job_id = responses.parse_batch_job_id(json.loads(reply.body))
        except ValueError:
            job_id = None
        return replace(reply.outcome, data=job_id, text=reply.body[:responses.MAX_TEXT] if job_id is None else reply.outcome.text)

    async def get_bulk_job(self, job_id: str) -> Outcome:
        """GET /v2/bulk/job/{id}; data: BulkJob (its `body` is the whole answer, verbatim)."""
        path = endpoints.BULK_JOB.path.replace("{id}", quote(job_id, safe=""))
        reply = await self._call(endpoints.BULK_JOB, path)
        return responses.with_parsed_body(reply.outcome, reply.body,
                                          lambda parsed: responses.parse_bulk_job(parsed, job_id, reply.body),
                                          "a bulk job status")

    async def download_bulk_results(self, url: str) -> BulkResults:
        """Fetch and parse a job's .jsonl results. `url` may be absolute (a signed URL on another host)
        or relative to base_url. Redirects are followed by hand, up to MAX_REDIRECTS, so that the
        Authorization header only ever goes to base_url's own origin. Every failure (a malformed URL,
        an HTTP error, a redirect loop) comes back as BulkResults(failure=<its outcome>)."""
        try:
            target = results_target(url, self.base_url)
            for _ in range(MAX_REDIRECTS + 1):
                reply = await self._call(RESULTS_FILE, target, authorized=target.origin() == self.base_url.origin(),
                                         paced=False)
                location = reply.headers.get("Location") if reply.outcome.status in REDIRECT_STATUSES else None
                if location is None:
                    break
                target = results_target(location, target)
            else:
                return BulkResults(failure=responses.not_sent(ValueError(f"more than {MAX_REDIRECTS} redirects")))
        except ValueError as exc:
            return BulkResults(failure=responses.not_sent(ValueError(f"unusable results URL: {exc}")))
        outcome = reply.outcome
        if outcome.kind is OutcomeKind.FATAL:
            # A refused results link (an expired signature) says nothing about the key: not fatal.
            note = "; the link may have expired: read the job status again for a fresh one"
            outcome = replace(outcome, kind=OutcomeKind.REJECTED, permission=None, text=outcome.text + note)
        if not outcome.ok:
            return BulkResults(failure=outcome)
        return parse_text(reply.body)

    async def post_subscription(self, body: Mapping[str, Any]) -> Outcome:
        """POST /v1/subscriptions with a body from payloads.subscription_body; data: the parsed answer.
        Sent once (a TEXT subscriber subscribed again is texted): a fate left open is UNKNOWN, not repeated."""
        reply = await self._call(endpoints.SUBSCRIPTIONS, endpoints.SUBSCRIPTIONS.path, body=dict(body))
        return responses.with_parsed_body(reply.outcome, reply.body, lambda parsed: parsed, "JSON", allow_empty=True)

    async def post_unsubscribe(self, body: Mapping[str, Any]) -> Outcome:
        """POST /v1/subscriptions/unsubscribe, body from payloads.unsubscribe_body; data: the parsed answer. Sent once."""
        reply = await self._call(endpoints.UNSUBSCRIBE, endpoints.UNSUBSCRIBE.path, body=dict(body))
        return responses.with_parsed_body(reply.outcome, reply.body, lambda parsed: parsed, "JSON", allow_empty=True)

    async def get_subscriptions(self, *, email: str | None = None, phone: str | None = None) -> Outcome:
        """GET /v1/subscriptions by exactly one identifier; data: the parsed GetSubscriptionsResponseDto."""
        given = {kind: value for kind, value in (("email", email), ("phone", phone)) if value}
        if len(given) != 1:
            return responses.not_sent(payloads.PayloadError("a subscriptions read takes exactly one of email or phone"))
        spec = endpoints.SUBSCRIPTIONS_READ
        reply = await self._call(spec, spec.path, params=given)
        return responses.with_parsed_body(reply.outcome, reply.body, lambda parsed: parsed if isinstance(parsed, dict) else None,
                                          "an object with subscriptionEligibilities")

    async def post_custom_event(self, body: Mapping[str, Any]) -> Outcome:
        """POST /v1/events/custom with a body from payloads.custom_event_body. Sent once: an answer
        that leaves open whether it arrived is OutcomeKind.UNKNOWN and is not repeated."""
        reply = await self._call(endpoints.CUSTOM_EVENTS, endpoints.CUSTOM_EVENTS.path, body=dict(body))
        return reply.outcome

    async def post_ecommerce_event(self, kind: str, body: Mapping[str, Any]) -> Outcome:
        """POST /v1/events/ecommerce/{kind} (purchase, add-to-cart, product-view) with a body from
        payloads.ecommerce_event_body; sent once, like post_custom_event."""
        spec = endpoints.ECOMMERCE_EVENTS.get(kind)
        if spec is None:
            return responses.not_sent(payloads.PayloadError(
                f"unknown eCommerce event {kind!r}; use {', '.join(endpoints.ECOMMERCE_EVENTS)}"))
        reply = await self._call(spec, spec.path, body=dict(body))
        return reply.outcome

    # -- transport ------------------------------------------------------------------------------------

    async def call(self, endpoint: EndpointSpec, path: str, *, body: Any = None,
                   params: Mapping[str, str] | None = None) -> tuple[Outcome, str]:
        """Any endpoints.ALL endpoint at base_url + path, paced and retried as every call is
        (segment_calls.py builds on this); returns the outcome and the full answer text."""
        reply = await self._call(endpoint, path, body=body, params=params)
        return reply.outcome, reply.body

    async def _call(self, endpoint: EndpointSpec, target: str | URL, *, body: Any = None,
                    params: Mapping[str, str] | None = None, authorized: bool = True, paced: bool = True) -> _Reply:
        """Send with pacing and retries; returns the final outcome, the full response text and its headers."""
        url = target if isinstance(target, URL) else self._url(target)
        data = None if body is None else json_body.encode(body)
        bucket = self._bucket(endpoint) if paced else None
        send_once = endpoint.name in SEND_ONCE
        stats = self.stats.of(endpoint.name)
        attempts = throttled = 0
        while True:
            try:
                sent = await take_slot(bucket, self._steering)
            except Cancelled:
                return _Reply(responses.cancelled(attempts), "", NO_HEADERS)
            stats.requests += 1
            exchange = await self._exchange(endpoint, url, data, params, authorized)
            self._observe(exchange, stats, bucket, sent)
            outcome = exchange.outcome
            if outcome.status == 429:
                throttled += 1
                stats.throttled += 1
                if throttled > self._max_throttled:
                    note = f" ({throttled} rate-limit answers to this request; giving up)"
                    final = replace(outcome, attempts=attempts + 1, text=outcome.text + note)
                    return _Reply(final, exchange.body, exchange.headers)
                if outcome.retry_after is not None:
                    delay = outcome.retry_after
                    if bucket is not None:
                        bucket.hold_for(delay)  # every sender of this key waits, not just this one
                else:
                    delay = self._backoff.delay(throttled, self._rng)
            elif outcome.kind is OutcomeKind.RETRYABLE:
                attempts += 1
                if send_once and exchange.reached_server:
                    note = ("and a repeat would count it twice" if endpoint.name in EVENT_NAMES
                            else "and a repeat could text the person again")
                    return _Reply(responses.unknown(replace(outcome, attempts=attempts), note), exchange.body,
                                  exchange.headers)
                if attempts >= self._max_attempts:
                    return _Reply(replace(outcome, attempts=attempts), exchange.body, exchange.headers)
                delay = self._backoff.delay(attempts, self._rng)
            else:
                final = outcome if attempts == 0 else replace(outcome, attempts=attempts + 1)
                return _Reply(final, exchange.body, exchange.headers)
            stats.retries += 1
            await unless_cancelled(self._steering, self._clock.sleep(delay))

    def _url(self, path: str) -> URL:
        """base_url + path, built once per path (yarl parsing is a measurable share of a v1 call)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) > 1024:  # job-status paths are one per job: keep the cache bounded
                self._urls.clear()
            url = self._urls[path] = URL(str(self.base_url) + path, encoded=False)
        return url

    async def _exchange(
        self, endpoint: EndpointSpec, url: URL, data: bytes | None, params: Mapping[str, str] | None, authorized: bool
    ) -> Exchange:
        if self._session is None:
            raise RuntimeError("AttentiveClient is not open; use `async with AttentiveClient(...) as client`")
        headers = _HEADERS[data is not None] if not authorized else self._auth_headers[data is not None]
        return await request_once(self._session, endpoint, url, data, params, headers, timeout_s=self._timeout_s,
                                scrub=self._scrub)

    def _observe(
        self, exchange: Exchange, stats: responses.EndpointStats, bucket: TokenBucket | None, sent: SendStamp | None
    ) -> None:
        remaining = exchange.outcome.ratelimit_remaining
        limit = responses.header_int(exchange.headers, "x-ratelimit-limit")
        if exchange.outcome.status is None:
            stats.errors += 1
        if remaining is not None:
            stats.ratelimit_remaining = remaining
        if limit is not None:
            stats.ratelimit_limit = limit
        if bucket is not None and sent is not None:
            bucket.observe(remaining=remaining, limit=limit, sent=sent)

    def _scrub(self, text: str) -> str:
        """Belt and braces: a server or an exception that echoes the key gets it masked, in any
        letter case (a proxy may upper-case what it echoes)."""
        secret = self._key.value
        if not secret or secret.casefold() not in text.casefold():
            return text
        return re.sub(re.escape(secret), self._key.masked(), text, flags=re.IGNORECASE)


def _known_endpoint(name: str) -> str:
    if name not in endpoints.BY_NAME:
        raise ValueError(f"unknown endpoint {name!r}; known: {', '.join(endpoints.BY_NAME)}")
    return name


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
