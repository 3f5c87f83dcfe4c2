"""The endpoint handlers: what Attentive does with a request once the key, the rate limit and the
faults have let it through (see server.py for those). The subscription endpoints are in
subscription_routes.py and the segment ones in segment_routes.py, served through AttentiveApi.routes();
the events are in event_routes.py."""
from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tui.attentive import endpoints
from tui.attentive.simulator.config import KeySpec, SimulatorConfig
from tui.attentive.simulator.jobs import COMPLETED, FAILED, FAILED_MESSAGE, BulkJob, JobStore
from tui.attentive.simulator.rules import RuleViolation, as_text, check_attributes, check_identifiers, check_phone
from tui.attentive.simulator.state import CUSTOM_IDENTIFIER, Profile, ProfileChange, SimulatorState
from tui.attentive.simulator.validation import BodyError, BodyValidator, compile_validator

KEY_SPEC = web.RequestKey("key_spec", KeySpec)
_SUBSCRIPTION_TYPES = ("MARKETING", "TRANSACTIONAL")


def queried_profile(request: web.Request, state: SimulatorState) -> tuple[str, Profile | None] | web.Response:
    """The profile a read names by exactly one query parameter, email or phone (with that name), or
    the 400 that says what is wrong with the query. GET custom attributes and GET subscriptions share it."""
    given = {name: request.query[name] for name in ("email", "phone") if name in request.query}
    if len(given) != 1:
        return error(400, "give exactly one query parameter, email or phone (not both, not neither)")
    (name, value), = given.items()
    if not value:
        return error(400, f"the {name} query parameter is empty")
    if name == "phone":
        try:
            check_phone("phone", value)
        except RuleViolation as exc:
            hint = " (encode + as %2B in the query)" if value.startswith(" ") else ""
            return error(400, f"{exc}{hint}")
    return name, state.company(request[KEY_SPEC].resolved_company_id).find(name, value)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    # Attentive's error bodies are undocumented; a JSON message is what clients will meet.
    return web.json_response({"message": message}, status=status, headers=headers)


def flat_identifiers(user: Mapping[str, Any]) -> dict[str, str]:
    """v1 `user` / v2 `identifiers` -> the identifiers that find a profile, and the custom ones
    (kept as CUSTOM_IDENTIFIER + key, v1's `name` or v2's `key`) so tests can read them back."""
    ids = {name: user[name] for name in ("email", "phone", "clientUserId", "shopifyId", "klaviyoId") if user.get(name)}
    external = user.get("externalIdentifiers") or {}
    if external.get("clientUserId"):
        ids["clientUserId"] = external["clientUserId"]
    for custom in user.get("customIdentifiers", external.get("customIdentifiers")) or ():
        key, value = custom.get("key", custom.get("name")), custom.get("value")
        if isinstance(key, str) and isinstance(value, str) and value:
            ids[CUSTOM_IDENTIFIER + key] = value
    return ids


def require_known_user(state: SimulatorState, company_id: str, ids: dict[str, str], field: str) -> None:
    """A request without email or phone must name a clientUserId already tied to one."""
    if "email" in ids or "phone" in ids:
        return
    client_id = ids.get("clientUserId")
    if client_id and state.company(company_id).find("clientUserId", client_id):
        return
    raise RuleViolation(
        f"{field}: no email or phone, and no known clientUserId to find the profile by; "
        "send the email or phone (an external identifier must first be tied to one)"
    )


class AttentiveApi:
    def __init__(self, config: SimulatorConfig, state: SimulatorState, jobs: JobStore):
        self.config = config
        self.state = state
        self.jobs = jobs
        # Imported here: subscription_routes imports this module's KEY_SPEC, error and flat_identifiers.
        from tui.attentive.simulator.subscription_routes import SubscriptionRoutes
        self.subscriptions = SubscriptionRoutes(config, state)
        from tui.attentive.simulator.segment_routes import SegmentRoutes  # imports KEY_SPEC and error too
        self.segments = SegmentRoutes(config, state, jobs)
        self._validators: dict[str, BodyValidator] = {
            spec.name: compile_validator(spec.name, version, spec.path)
            for spec, version in (
                (endpoints.CUSTOM_ATTRIBUTES, "v1"),
                (endpoints.BULK_ATTRIBUTES, "v2"),
            )
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(endpoints.ME.path, self.me, name=endpoints.ME.name),
            web.post(endpoints.CUSTOM_ATTRIBUTES.path, self.post_custom_attributes, name=endpoints.CUSTOM_ATTRIBUTES.name),
            web.get(endpoints.CUSTOM_ATTRIBUTES_READ.path, self.get_custom_attributes,
                    name=endpoints.CUSTOM_ATTRIBUTES_READ.name),
            web.post(endpoints.BULK_ATTRIBUTES.path, self.post_bulk, name=endpoints.BULK_ATTRIBUTES.name),
            web.get(endpoints.BULK_JOB.path, self.get_bulk_job, name=endpoints.BULK_JOB.name),
            web.get("/results/{job_id}/{token}.jsonl", self.get_results, name="results"),
            *self.subscriptions.routes(),  # POST /v1/subscriptions, POST .../unsubscribe, GET /v1/subscriptions
            *self.segments.routes(),  # /v2/segments, /v2/segments/external/{externalId}, /v2/bulk/segments/members
        ]

    async def _body(self, request: web.Request, endpoint: str) -> Any:
        return self._validators[endpoint].parse(await request.read())

    def _known_user(self, company_id: str, ids: dict[str, str], field: str) -> None:
        require_known_user(self.state, company_id, ids, field)

    # -- GET /v1/me -----------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        key = request[KEY_SPEC]
        return web.json_response(
            {
                "applicationName": key.application_name,
                "attentiveDomainName": key.domain_name,
                "companyName": key.company_name,
                "contactEmail": key.contact_email,
                "companyId": key.resolved_company_id,
            }
        )

    # -- custom attributes, v1 ------------------------------------------------------------------

    async def post_custom_attributes(self, request: web.Request) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        try:
            body = await self._body(request, endpoints.CUSTOM_ATTRIBUTES.name)
            user = body["user"]
            check_identifiers("user", user, custom_key="name")
            ids = flat_identifiers(user)
            self._known_user(company_id, ids, "user")
            company = self.state.company(company_id)
            new_types = check_attributes("properties", body["properties"], company.types, self.config.enum_attributes)
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        self.state.apply(company_id, [ProfileChange(ids, custom=body["properties"], new_types=new_types)])
        return web.Response(status=200)

    async def get_custom_attributes(self, request: web.Request) -> web.Response:
        found = queried_profile(request, self.state)
        if isinstance(found, web.Response):
            return found
        name, profile = found
        if profile is None:
            return error(404, f"no profile with this {name}")
        # The spec's item schema lists `name` and `value` as properties but requires `attribute`
        # and `value`; both spellings are sent so the answer satisfies the schema as published.
        return web.json_response(
            [{"name": key, "attribute": key, "value": as_text(val)} for key, val in profile.custom.items()]
        )

    # -- bulk, v2 -------------------------------------------------------------------------------

    async def post_bulk(self, request: web.Request) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        raw = await request.read()
        try:
            body = self._validators[endpoints.BULK_ATTRIBUTES.name].parse(raw)
        except BodyError as exc:
            return error(400, str(exc))
        # The spec's schema types `users` but neither requires it nor makes the body an object.
        users = body.get("users") if isinstance(body, dict) else None
        if users is None:
            return error(400, "body must be an object with users: an array of 1 to 256 profiles")
        fate = self.jobs.draw()
        # A job doomed to fail applies nothing, so a re-sent batch is the whole fix; any other is run
        # when it is due (settle_due).
        job = self.jobs.create(company_id, len(users), raw, {} if fate.failed else None, fate)
        return web.json_response(
            {"message": "Bulk job accepted for processing", "batchJobId": job.job_id}, status=202
        )

    def settle_due(self, by: float | None = None, budget: int | None = None) -> bool:
        """Run the bulk attribute jobs due by `by` (the job clock's now by default) in their order of
        completion, about `budget` records at most: each profile is judged on its own, a rule
        violation becomes a 400 line in the results. True when more may be due. Tests pass math.inf
        to run every job accepted so far, as Attentive will have once they are due."""
        by = self.jobs.now() if by is None else by
        spent = 0
        while budget is None or spent < budget:
            job = self.jobs.next_due(by)
            if job is None:
                return False
            failures = {}
            for index, item in enumerate(json.loads(job.request_body)["users"]):
                refusal = self._bulk_record(job.company_id, item)
                if refusal is not None:
                    failures[index] = refusal
            self.jobs.settle(job, failures)
            spent += job.total_records
        return True

    def _settled(self, job_id: str) -> BulkJob | None:
        """The job, run first (with every job due before it) if it is due and has not run yet."""
        job = self.jobs.get(job_id)
        if job is not None and job.failures is None:
            self.settle_due(min(job.done_at, self.jobs.now()))
            job = self.jobs.get(job_id)
        return job

    def _bulk_record(self, company_id: str, item: dict[str, Any]) -> str | None:
        """Apply one bulk user item; returns why it was refused, or None when accepted. Nothing is
        written until the whole item has passed."""
        try:
            identifiers = item.get("identifiers") or {}
            check_identifiers("identifiers", identifiers, custom_key="key")
            ids = flat_identifiers(identifiers)
            self._known_user(company_id, ids, "identifiers")
            attributes = item.get("attributes") or {}
            custom = attributes.get("custom") or {}
            company = self.state.company(company_id)
            new_types = check_attributes("attributes.custom", custom, company.types, self.config.enum_attributes)
            subscriptions = tuple(_bulk_subscription(i, s) for i, s in enumerate(item.get("subscriptions", ())))
        except RuleViolation as exc:
            return str(exc)
        standard = {k: v for k, v in attributes.items() if k != "custom"}
        self.state.apply(company_id, [ProfileChange(ids, custom, standard, new_types, subscriptions)])
        return None

    async def get_bulk_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["id"]
        self.segments.settle()  # segment member jobs share this endpoint; their members change as they finish
        job = self._settled(job_id)
        now = self.jobs.now()
        # A job not yet visible (the job404 fault) answers as an unknown one: Attentive cannot tell.
        if job is None or job.company_id != request[KEY_SPEC].resolved_company_id or not job.visible(now):
            return error(404, f"bulk job {job_id!r} not found (unknown, another company's, or expired)")
        status = job.status(now)
        # The fields of the spec's BulkJobStatusResponse; it names no error field, so a failed job's
        # message goes in errorMessage (its description promises "error messages if applicable").
        answer: dict[str, Any] = {"bulkJobId": job.job_id, "status": status, "totalRecords": job.total_records}
        if status == COMPLETED and job.fate.has_url:
            answer["url"] = str(request.url.origin().with_path(job.results_path))
        elif status == FAILED:
            answer["errorMessage"] = FAILED_MESSAGE
        return web.json_response(answer)

    async def get_results(self, request: web.Request) -> web.Response:
        job = self._settled(request.match_info["job_id"])
        if (
            job is None
            or not secrets.compare_digest(job.token, request.match_info["token"])
            or job.status(self.jobs.now()) != COMPLETED
        ):
            return error(404, "no such results file")
        return web.Response(body=job.results(), content_type="application/x-ndjson")


def _bulk_subscription(index: int, subscription: Mapping[str, Any]) -> tuple[str, str]:
    # The v2 schema requires subscriptionType but gives it no type: anything JSON can reach here.
    kind = subscription["subscriptionType"]
    if kind not in _SUBSCRIPTION_TYPES:
        raise RuleViolation(
            f"subscriptions[{index}].subscriptionType must be MARKETING or TRANSACTIONAL, not {json.dumps(kind)[:40]}"
        )
    return kind, subscription["channel"]
