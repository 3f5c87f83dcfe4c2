"""The v2 segment endpoints: POST/GET /v2/segments, GET/PATCH/DELETE /v2/segments/external/{externalId},
POST/DELETE /v2/bulk/segments/members. Keys, rate limits, permissions and faults are server.py's, as
for every endpoint; the segments live in SimulatorState.segments (segment_state.py).

What the v2 spec says, and what the simulator does where it is silent:
- Names are not unique: the spec calls externalId "the client-provided unique identifier for the
  segment", filters lists by name as a "partial match" returning a list, and documents no 409 for
  createSegment. So a second segment with a taken name is created (201); a taken externalId (an
  archived segment's too: it "can be restored") is refused 400, the only refusal createSegment documents.
- Texts are trimmed as the schemas' descriptions say, then checked again (whitespace only: 400).
- Member changes: 1..10,000 members, each with at least one of email, phone, clientUserId, for a
  live segment (404 otherwise, as documented). Accepted: 202 with a batchJobId that the shared job
  endpoint GET /v2/bulk/job/{bulkJobId} follows ("Use the batch job ID to check status via GET
  /v2/bulk/job/{bulkJobId}"), through the same lifecycle and results file as bulk attribute jobs.
  Members change only when the job completes (nothing changes if it fails). A member whose
  identifiers break the identity rules (E.164 phone, an email address, at most 100 characters) is a
  400 line in the results and is not applied, as a bulk attribute record is.
- Archived (DELETE) segments are gone from lists and reads (404): the spec says "no longer visible".
- `updated` moves on create, patch and archive; whether membership changes move it is undocumented.
- Lists page with an opaque cursor; the last page has no `cursor` (the spec's "null if no more
  results": left out, as a nullable field that plain JSON Schema would read as a string).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import secrets
from collections.abc import Mapping
from typing import Any

import fastjsonschema
from aiohttp import web

from tui.attentive import endpoints
from tui.attentive.simulator.api import KEY_SPEC, error
from tui.attentive.simulator.config import SimulatorConfig
from tui.attentive.simulator.jobs import COMPLETED, FAILED, JobStore
from tui.attentive.simulator.rules import RuleViolation, check_identifiers
from tui.attentive.simulator.segment_state import ADD, MEMBER_IDENTIFIERS, REMOVE, MemberOperation, Segment
from tui.attentive.simulator.state import SimulatorState
from tui.attentive.simulator.validation import BodyError, BodyValidator, decode, request_schema

DEFAULT_DESCRIPTION = "Manual Segment Upload Public API V2"  # CreateSegmentRequest.description's default
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000
_MESSAGES = {ADD: "Bulk segment member add job successfully submitted",
             REMOVE: "Bulk segment member removal job successfully submitted"}


def _validator(spec: endpoints.EndpointSpec) -> BodyValidator:
    schema = request_schema("v2", spec.path, spec.method)
    return BodyValidator(spec.name, fastjsonschema.compile(schema, use_default=False))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _trimmed(body: Mapping[str, Any], name: str, low: int, high: int) -> str | None:
    """A text field after the trim the spec promises; whitespace only or too short: RuleViolation."""
    if name not in body:
        return None
    value = body[name].strip()
    if not value:
        raise RuleViolation(f"{name} cannot be empty or whitespace only")
    if not low <= len(value) <= high:
        raise RuleViolation(f"{name} must be {low} to {high} characters once trimmed, not {len(value)}")
    return value


class SegmentRoutes:
    def __init__(self, config: SimulatorConfig, state: SimulatorState, jobs: JobStore):
        self.config = config
        self.state = state
        self.jobs = jobs
        self._create = _validator(endpoints.SEGMENT_CREATE)
        self._patch = _validator(endpoints.SEGMENT_PATCH)
        self._members = _validator(endpoints.SEGMENT_MEMBERS_ADD)  # DELETE shares the schema, SegmentMembers

    def routes(self) -> list[web.RouteDef]:
        e = endpoints
        return [
            web.post(e.SEGMENT_CREATE.path, self.create, name=e.SEGMENT_CREATE.name),
            web.get(e.SEGMENT_LIST.path, self.list_segments, name=e.SEGMENT_LIST.name),
            web.get(e.SEGMENT_GET.path, self.get, name=e.SEGMENT_GET.name),
            web.patch(e.SEGMENT_PATCH.path, self.patch, name=e.SEGMENT_PATCH.name),
            web.delete(e.SEGMENT_DELETE.path, self.delete, name=e.SEGMENT_DELETE.name),
            web.post(e.SEGMENT_MEMBERS_ADD.path, self.add_members, name=e.SEGMENT_MEMBERS_ADD.name),
            web.delete(e.SEGMENT_MEMBERS_REMOVE.path, self.remove_members, name=e.SEGMENT_MEMBERS_REMOVE.name),
        ]

    # -- the jobs ---------------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply the member operations whose job has finished by the job clock."""
        now = self.jobs.now()

        def finished(operation: MemberOperation) -> float | None:
            job = self.jobs.get(operation.job_id)
            if job is None:  # forgotten by the job store's retention: finished long ago
                return -math.inf
            return job.submitted_at + job.fate.done_s if job.status(now) in (COMPLETED, FAILED) else None

        self.state.segments.settle(finished)

    def members(self, company_id: str, external_id: str) -> list[dict[str, str]]:
        """A segment's members as of now (settled first); no endpoint lists them."""
        self.settle()
        segment = self.state.segments.get(company_id, external_id, archived=True)
        return [] if segment is None else list(segment.members.values())

    # -- segments ---------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        try:
            body = self._create.parse(await request.read())
            name = _trimmed(body, "name", 1, endpoints.SEGMENT_NAME_MAX)
            description = _trimmed(body, "description", endpoints.SEGMENT_DESCRIPTION_MIN, endpoints.SEGMENT_DESCRIPTION_MAX)
            external_id = _trimmed(body, "externalId", 1, endpoints.SEGMENT_EXTERNAL_ID_MAX)
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        if external_id is None:  # "Auto generated if not supplied"
            external_id = "SEG_" + secrets.token_hex(6)
        if self.state.segments.get(company_id, external_id, archived=True) is not None:
            return error(400, f"externalId {external_id!r} is already used by another segment of this company "
                              "(archived segments keep theirs)")
        now = _now()
        assert name is not None  # required by the schema
        segment = Segment(external_id, name, description or DEFAULT_DESCRIPTION, now, now)
        self.state.segments.create(company_id, segment)
        answer = segment.answer()
        return web.json_response({k: answer[k] for k in ("externalId", "name", "description")}, status=201)

    async def list_segments(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            name = _query_text(query, "name", endpoints.SEGMENT_NAME_MAX)
            external_id = _query_text(query, "externalId", endpoints.SEGMENT_EXTERNAL_ID_MAX)
            since = _query_time(query.get("updatedSince"))
            offset = _cursor(query["cursor"]) if "cursor" in query else 0
            limit = _query_limit(query.get("limit"))
        except RuleViolation as exc:
            return error(400, str(exc))
        found = [
            s for s in self.state.segments.live(request[KEY_SPEC].resolved_company_id)
            if (name is None or name.casefold() in s.name.casefold())
            and (external_id is None or s.external_id == external_id)
            and (since is None or dt.datetime.fromisoformat(s.updated.replace("Z", "+00:00")) >= since)
        ]
        page = found[offset:offset + limit]
        answer: dict[str, Any] = {"segments": [s.answer() for s in page], "hasMore": offset + limit < len(found)}
        if answer["hasMore"]:
            answer["cursor"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
        return web.json_response(answer)

    def _segment(self, request: web.Request) -> Segment | None:
        return self.state.segments.get(request[KEY_SPEC].resolved_company_id, request.match_info["externalId"])

    @staticmethod
    def _not_found(request: web.Request) -> web.Response:
        return error(404, f"no segment with externalId {request.match_info['externalId']!r} (unknown or archived)")

    async def get(self, request: web.Request) -> web.Response:
        segment = self._segment(request)
        return self._not_found(request) if segment is None else web.json_response(segment.answer())

    async def patch(self, request: web.Request) -> web.Response:
        segment = self._segment(request)
        if segment is None:
            return self._not_found(request)
        try:
            body = self._patch.parse(await request.read())
            if not isinstance(body, dict) or not ({"name", "description"} & body.keys()):
                raise RuleViolation("give at least one of name or description to change")
            name = _trimmed(body, "name", 1, endpoints.SEGMENT_NAME_MAX)
            description = _trimmed(body, "description", endpoints.SEGMENT_DESCRIPTION_MIN, endpoints.SEGMENT_DESCRIPTION_MAX)
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        self.state.segments.patch(request[KEY_SPEC].resolved_company_id, segment.external_id, name, description, _now())
        return web.json_response(segment.answer())

    async def delete(self, request: web.Request) -> web.Response:
        segment = self._segment(request)
        if segment is None:
            return self._not_found(request)
        self.state.segments.archive(request[KEY_SPEC].resolved_company_id, segment.external_id, _now())
        return web.Response(status=204)

    # -- members ----------------------------------------------------------------------------------

    async def add_members(self, request: web.Request) -> web.Response:
        return await self._change_members(request, ADD)

    async def remove_members(self, request: web.Request) -> web.Response:
        return await self._change_members(request, REMOVE)

    async def _change_members(self, request: web.Request, action: str) -> web.Response:
        company_id = request[KEY_SPEC].resolved_company_id
        try:
            body = decode(await request.read())
            members = body.get("members") if isinstance(body, dict) else None
            # Before the schema, so the answer names the published limit in words.
            if isinstance(members, list) and len(members) > endpoints.SEGMENT_MEMBERS_MAX:
                raise RuleViolation(f"members has {len(members):,} entries; at most "
                                    f"{endpoints.SEGMENT_MEMBERS_MAX:,} members per request")
            self._members.validate(body)
            for index, member in enumerate(body["members"]):
                if not any(member.get(kind) for kind in MEMBER_IDENTIFIERS):
                    raise RuleViolation(f"members[{index}] needs at least one identifier: email, phone or clientUserId")
        except (BodyError, RuleViolation) as exc:
            return error(400, str(exc))
        self.settle()
        external_id = body["externalId"]
        if self.state.segments.get(company_id, external_id) is None:
            return error(404, f"no segment with externalId {external_id!r} (unknown or archived)")
        fate = self.jobs.draw()
        failures: dict[int, str] = {}
        accepted = []
        for index, member in enumerate(body["members"]):
            try:
                check_identifiers(f"members[{index}]", member, custom_key="key")
            except RuleViolation as exc:
                failures[index] = str(exc)
                continue
            accepted.append({kind: member[kind] for kind in MEMBER_IDENTIFIERS if member.get(kind)})
        # The job store renders its results file from `users`: a segment job keeps its members there,
        # so each results line echoes one member, as a bulk attribute job's echoes one profile.
        recorded = json.dumps({"users": body["members"], "externalId": external_id, "action": action}).encode()
        job = self.jobs.create(company_id, len(body["members"]), recorded, failures, fate)
        self.state.segments.queue(MemberOperation(job.job_id, company_id, external_id, action, tuple(accepted), fate.failed))
        return web.json_response({"message": _MESSAGES[action], "batchJobId": job.job_id}, status=202)


def _query_text(query: Mapping[str, str], name: str, high: int) -> str | None:
    if name not in query:
        return None
    value = query[name]
    if not value.strip():
        raise RuleViolation(f"the {name} query parameter cannot be empty or whitespace only")
    if len(value) > high:
        raise RuleViolation(f"the {name} query parameter is {len(value)} characters; at most {high}")
    return value.strip()


def _query_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise RuleViolation(f"updatedSince {value[:40]!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _query_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise RuleViolation(f"limit {value[:40]!r} is not a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise RuleViolation(f"limit must be 1 to {MAX_LIMIT}, not {limit}")
    return limit


def _cursor(value: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(value.encode()))["offset"]
    except (ValueError, binascii.Error, KeyError, TypeError, UnicodeError):
        raise RuleViolation("cursor is not one this API gave") from None
    if not isinstance(offset, int) or offset < 0:
        raise RuleViolation("cursor is not one this API gave")
    return offset
