"""Request bodies for the v2 Segments API, in the shapes of attentive-v2.json (CreateSegmentRequest,
PatchSegmentRequest, SegmentMembers), checked before anything is sent: PayloadError says what is wrong.

Texts are trimmed, as Attentive trims them, and their lengths checked on what remains. A member
carries exactly ONE identifier (email, phone or clientUserId), although the spec allows several
"to increase matching accuracy": two identifiers that belong to different people bridge them into
one profile (ATTENTIVE.md, identity rules), so a destination chooses one. Identifiers that are None,
empty or blank are left out, never sent (payloads.py's rule); a member left with none is refused.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tui.attentive.endpoints import (
    IDENTIFIER_MAX,
    SEGMENT_DESCRIPTION_MAX,
    SEGMENT_DESCRIPTION_MIN,
    SEGMENT_EXTERNAL_ID_MAX,
    SEGMENT_MEMBERS_MAX,
    SEGMENT_NAME_MAX,
)
from tui.attentive.identifiers import is_e164
from tui.attentive.payloads import PayloadError

MEMBER_IDENTIFIERS = ("email", "phone", "clientUserId")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def create_segment_body(name: str, *, description: str | None = None, external_id: str | None = None) -> dict[str, str]:
    """POST /v2/segments: {"name", "description"?, "externalId"?} (Attentive makes up an externalId
    when none is given; a destination should give its own, the one key it can find the segment by)."""
    body = {"name": _text("name", name, 1, SEGMENT_NAME_MAX)}
    if description is not None:
        body["description"] = _text("description", description, SEGMENT_DESCRIPTION_MIN, SEGMENT_DESCRIPTION_MAX)
    if external_id is not None:
        body["externalId"] = _text("externalId", external_id, 1, SEGMENT_EXTERNAL_ID_MAX)
    return body


def patch_segment_body(*, name: str | None = None, description: str | None = None) -> dict[str, str]:
    """PATCH /v2/segments/external/{externalId}: at least one of name or description."""
    if name is None and description is None:
        raise PayloadError("a segment change needs a new name or a new description")
    body = {}
    if name is not None:
        body["name"] = _text("name", name, 1, SEGMENT_NAME_MAX)
    if description is not None:
        body["description"] = _text("description", description, SEGMENT_DESCRIPTION_MIN, SEGMENT_DESCRIPTION_MAX)
    return body


def segment_member(member: Mapping[str, Any], *, index: int | None = None) -> dict[str, str]:
    """{email} | {phone} | {clientUserId}: exactly one identifier with a value."""
    where = "member" if index is None else f"members[{index}]"
    if not isinstance(member, Mapping):
        raise PayloadError(f"{where} must be a mapping such as {{'email': ...}}, not {type(member).__name__}")
    unknown = sorted(str(k) for k in member if k not in MEMBER_IDENTIFIERS)
    if unknown:
        raise PayloadError(f"{where}: unsupported identifier {unknown[0]!r}; use one of {', '.join(MEMBER_IDENTIFIERS)}")
    found = {kind: member[kind] for kind in MEMBER_IDENTIFIERS if _present(member.get(kind))}
    if not found:
        raise PayloadError(f"{where} has no identifier: give an email, a phone or a clientUserId (all are empty)")
    if len(found) > 1:
        raise PayloadError(f"{where} has {' and '.join(found)}: give one identifier per member, since two "
                           "that belong to different people would bridge them into one profile")
    (kind, value), = found.items()
    value = value.strip()
    if len(value) > IDENTIFIER_MAX:
        raise PayloadError(f"{where}.{kind} is {len(value)} characters; identifiers are limited to {IDENTIFIER_MAX}")
    if kind == "phone" and not is_e164(value):
        raise PayloadError(f"{where}.phone {value[:40]!r} is not in E.164 format (like +19148440001)")
    if kind == "email" and not _EMAIL.fullmatch(value):
        raise PayloadError(f"{where}.email {value[:40]!r} is not an email address")
    return {kind: value}


def segment_members_body(external_id: str, members: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """POST or DELETE /v2/bulk/segments/members: {"externalId", "members": [1..10,000 members]}."""
    if isinstance(members, (str, bytes)) or not isinstance(members, Sequence):
        raise PayloadError("members must be a list of members such as {'email': ...}")
    if not members:
        raise PayloadError("a segment member change needs at least 1 member")
    if len(members) > SEGMENT_MEMBERS_MAX:
        raise PayloadError(f"{len(members):,} members in one request; Attentive takes at most "
                           f"{SEGMENT_MEMBERS_MAX:,} per request: split them")
    return {"externalId": _text("externalId", external_id, 1, SEGMENT_EXTERNAL_ID_MAX),
            "members": [segment_member(member, index=i) for i, member in enumerate(members)]}


def _text(field: str, value: Any, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be text, not {type(value).__name__}")
    trimmed = value.strip()
    if not trimmed:
        raise PayloadError(f"{field} is empty or whitespace only")
    if not low <= len(trimmed) <= high:
        raise PayloadError(f"{field} must be {low} to {high} characters, not {len(trimmed)}")
    return trimmed


def _present(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""
