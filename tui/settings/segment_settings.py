"""The rules of a segment destination (kind "segment"): the members of an Attentive v2 segment, checked
by the loader's destination rules, which locate and report each problem.

    [destinations.winter-vip-segment]
    kind = "segment"
    credential = "attentive"
    primary_identifier = "email"          # or "phone": members are sent by this identifier alone
    identifiers = { email = "email" }
    audience_shrink_limit = 0.5           # optional: the shrink guard (more than this share of members leaving refuses the send)
    rate_limit = 50                       # optional, at most the segment-members-add endpoint's 100/s
    [destinations.winter-vip-segment.segment]
    name = "Winter VIP"                   # required: 1..240 characters once trimmed
    external_id = "winter-vip-2026"       # optional: 1..255 characters
    description = "Winter VIPs from the warehouse"   # optional: 2..500 characters

A send adds the file's valid people to the segment and removes the members of the last finished send
who are absent now, unless more than audience_shrink_limit of them would leave (a truncated export).
The segment is found by external id (or, without one, by name) and created when there is none. The
members go 10,000 a call, and Attentive applies them in bulk jobs.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tui.attentive import endpoints
from tui.settings.event_settings import EventProblem
from tui.settings.model import SegmentMapping

SEGMENT_FIELDS = {
    "name": ("string", '"Winter VIP"'), "external_id": ("string", '"winter-vip-2026"'),
    "description": ("string", '"Winter VIPs from the warehouse"'),
}
REQUIRED = ("name",)
# Attentive's lengths (CreateSegmentRequest), of the text as it keeps it: trimmed.
_LENGTHS = {"name": (1, endpoints.SEGMENT_NAME_MAX), "external_id": (1, endpoints.SEGMENT_EXTERNAL_ID_MAX),
            "description": (endpoints.SEGMENT_DESCRIPTION_MIN, endpoints.SEGMENT_DESCRIPTION_MAX)}
_EMPTY_FIXES = {
    "name": 'write the segment\'s name as Attentive should show it, e.g. "Winter VIP"',
    "external_id": 'write the id your systems know the segment by, e.g. "winter-vip-2026", or remove external_id',
    "description": "write who is in the segment, e.g. \"Winter VIPs from the warehouse\", or remove description",
}
_SHOWN = 40   # characters of a value quoted in a message
_PEOPLE_ONLY = "a segment holds people, not attributes"
# Keys of [destinations.NAME] a segment destination does not use -> (why, fix). endpoint is not here:
# only a value other than the dataclass's "bulk" is refused (ENDPOINT_PROBLEM).
NOT_FOR_SEGMENTS = {
    "attributes": (_PEOPLE_ONLY, "remove [attributes], or send them from an attributes destination"),
    "constants": (_PEOPLE_ONLY, "remove [constants]"),
    "types": (_PEOPLE_ONLY, "remove [types]"),
    "audience": ("the segment is named in [segment]; an audience attribute belongs on an attributes destination",
                 'remove audience and write name = "<the segment\'s name>" under [segment], or keep the audience '
                 'on a kind = "attributes" destination'),
    "custom_identifiers": ("a segment's members are sent by their primary identifier alone", "remove [custom_identifiers]"),
    "subscriptions": ("a segment subscribes nobody", "remove subscriptions"),
}
ENDPOINT_PROBLEM = ("a segment destination sends to the v2 segment members endpoints, which its kind decides",
                    "remove endpoint")


def _shown(text: str) -> str:
    return json.dumps(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _text_problem(key: str, text: str) -> tuple[str, str] | None:
    """What is wrong with one of the table's texts, as (message, fix); None when nothing is."""
    lowest, highest = _LENGTHS[key]
    length = len(text.strip())   # Attentive trims, so the trimmed text is the one it measures
    if not length:
        return "is empty", _EMPTY_FIXES[key]
    if any(not c.isprintable() for c in text):
        return f"{_shown(text)} has control characters", "write it on one line, without tabs or control characters"
    if text != text.strip():
        # Attentive keeps the trimmed text: a name with spaces would never match the segment it created.
        return f"{_shown(text)} starts or ends with spaces", "write it without the spaces"
    if not lowest <= length <= highest:
        return (f"is {length} character{'' if length == 1 else 's'} long: Attentive takes {lowest} to {highest}",
                f"{'lengthen' if length < lowest else 'shorten'} it to {lowest}..{highest} characters"
                + ("" if key in REQUIRED else f", or remove {key}"))
    return None


def segment_mapping(values: Mapping[str, Any]) -> tuple[SegmentMapping | None, list[EventProblem]]:
    """The [segment] table's keys, each of its TOML kind or None (absent or wrongly typed, reported by
    the caller), checked; the mapping when there is no problem."""
    problems = [EventProblem(("segment", key), *problem) for key in SEGMENT_FIELDS
                if values[key] is not None and (problem := _text_problem(key, values[key])) is not None]
    if problems:
        return None, problems
    return SegmentMapping(name=values["name"], external_id=values["external_id"], description=values["description"]), []
