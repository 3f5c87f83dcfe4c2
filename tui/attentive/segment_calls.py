"""The v2 Segments API over an AttentiveClient: create, list, read, change and archive segments, and
add or remove their members. Every call goes through AttentiveClient.call, so it is paced by its own
(key, endpoint) bucket and retried like any call; each returns an Outcome as the client's methods do.

Member changes answer 202 with a batchJobId: follow it with AttentiveClient.get_bulk_job, the job
endpoint segment jobs share with bulk attribute jobs. Adding or removing a member twice leaves the
same segment, so these are retried like the bulk attribute POST (not send-once). Creating is retried
too: give an externalId, and a create repeated after a lost answer is refused (400, taken) instead of
making a second segment. A body that segment_payloads refuses is never sent (responses.not_sent:
REJECTED, no attempt).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from tui.attentive import endpoints, responses, segment_payloads
from tui.attentive.client import AttentiveClient
from tui.attentive.endpoints import EndpointSpec
from tui.attentive.outcomes import Outcome
from tui.attentive.payloads import PayloadError


@dataclass(frozen=True)
class Segment:
    """The spec's SegmentResponse (CreateSegmentResponse has no timestamps: created/updated are "")."""

    external_id: str
    name: str
    description: str = ""
    created: str = ""
    updated: str = ""


@dataclass(frozen=True)
class SegmentPage:
    """One page of GET /v2/segments; pass `cursor` to list_segments for the next one while has_more."""

    segments: tuple[Segment, ...]
    has_more: bool
    cursor: str | None


def parse_segment(body: Any) -> Segment | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("externalId"), str) or not isinstance(body.get("name"), str):
        return None
    description, created, updated = (body.get(k) if isinstance(body.get(k), str) else ""
                                     for k in ("description", "created", "updated"))
    return Segment(body["externalId"], body["name"], str(description), str(created), str(updated))


def parse_segment_page(body: Any) -> SegmentPage | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("segments", []), list):
        return None
    segments = [parse_segment(item) for item in body.get("segments", [])]
    if any(segment is None for segment in segments):
        return None
    cursor = body.get("cursor") if isinstance(body.get("cursor"), str) and body.get("cursor") else None
    return SegmentPage(tuple(s for s in segments if s is not None), body.get("hasMore") is True and cursor is not None, cursor)


def segment_path(spec: EndpointSpec, external_id: str) -> str:
    return spec.path.replace("{externalId}", quote(external_id, safe=""))


async def create_segment(client: AttentiveClient, name: str, *, description: str | None = None,
                         external_id: str | None = None) -> Outcome:
    """POST /v2/segments -> 201; data: Segment. Names need not be unique: find a segment by externalId."""
    try:
        body = segment_payloads.create_segment_body(name, description=description, external_id=external_id)
    except PayloadError as exc:
        return responses.not_sent(exc)
    outcome, text = await client.call(endpoints.SEGMENT_CREATE, endpoints.SEGMENT_CREATE.path, body=body)
    return responses.with_parsed_body(outcome, text, parse_segment, "a segment {externalId, name, description}")


async def list_segments(client: AttentiveClient, *, name: str | None = None, external_id: str | None = None,
                        updated_since: str | None = None, cursor: str | None = None, limit: int | None = None) -> Outcome:
    """GET /v2/segments, filtered by name (a partial match at Attentive), externalId, updatedSince
    (ISO 8601); one page (at most `limit`, 1..1000, default 20); data: SegmentPage."""
    given = {"name": name, "externalId": external_id, "updatedSince": updated_since, "cursor": cursor}
    params = {key: value for key, value in given.items() if value is not None}
    for key, value in params.items():
        if not value.strip():
            return responses.not_sent(PayloadError(f"the {key} filter is empty; leave it out instead"))
    if limit is not None:
        if not 1 <= limit <= 1000:
            return responses.not_sent(PayloadError(f"limit must be 1 to 1000, not {limit}"))
        params["limit"] = str(limit)
    outcome, text = await client.call(endpoints.SEGMENT_LIST, endpoints.SEGMENT_LIST.path, params=params)
    return responses.with_parsed_body(outcome, text, parse_segment_page, "a list of segments")


async def get_segment(client: AttentiveClient, external_id: str) -> Outcome:
    """GET /v2/segments/external/{externalId}; data: Segment. Unknown or archived: a 404 outcome."""
    outcome, text = await client.call(endpoints.SEGMENT_GET, segment_path(endpoints.SEGMENT_GET, external_id))
    return responses.with_parsed_body(outcome, text, parse_segment, "a segment")


async def patch_segment(client: AttentiveClient, external_id: str, *, name: str | None = None,
                        description: str | None = None) -> Outcome:
    """PATCH /v2/segments/external/{externalId} with a new name and/or description; data: Segment."""
    try:
        body = segment_payloads.patch_segment_body(name=name, description=description)
    except PayloadError as exc:
        return responses.not_sent(exc)
    outcome, text = await client.call(endpoints.SEGMENT_PATCH, segment_path(endpoints.SEGMENT_PATCH, external_id), body=body)
    return responses.with_parsed_body(outcome, text, parse_segment, "a segment")


async def delete_segment(client: AttentiveClient, external_id: str) -> Outcome:
    """DELETE /v2/segments/external/{externalId}: archives the segment (204, no body)."""
    outcome, _ = await client.call(endpoints.SEGMENT_DELETE, segment_path(endpoints.SEGMENT_DELETE, external_id))
    return outcome


async def add_segment_members(client: AttentiveClient, external_id: str, members: Sequence[Mapping[str, Any]]) -> Outcome:
    """POST /v2/bulk/segments/members with 1..10,000 members ({email} | {phone} | {clientUserId});
    data: the batch job id (None, with the body as text, when a 2xx carries none)."""
    return await _members(client, endpoints.SEGMENT_MEMBERS_ADD, external_id, members)


async def remove_segment_members(client: AttentiveClient, external_id: str, members: Sequence[Mapping[str, Any]]) -> Outcome:
    """DELETE /v2/bulk/segments/members, the same body and answer as add_segment_members."""
    return await _members(client, endpoints.SEGMENT_MEMBERS_REMOVE, external_id, members)


async def _members(client: AttentiveClient, spec: EndpointSpec, external_id: str,
                   members: Sequence[Mapping[str, Any]]) -> Outcome:
    try:
        body = segment_payloads.segment_members_body(external_id, members)
    except PayloadError as exc:
        return responses.not_sent(exc)
    outcome, text = await client.call(spec, spec.path, body=body)
    if not outcome.ok:
        return outcome
    try:
        job_id = responses.parse_batch_job_id(json.loads(text))
    except ValueError:
        job_id = None
    # As post_bulk_attributes: Attentive took the batch; whether to send it again is not ours to decide.
    return replace(outcome, data=job_id, text=text[:responses.MAX_TEXT] if job_id is None else outcome.text)
