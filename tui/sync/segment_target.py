"""Which v2 segment a kind "segment" destination's send changes, decided before its run exists.

With `external_id`, the segment Attentive knows by it; without, the one segment whose name is
exactly `name` (Attentive's name filter is a partial match, and names need not be unique, so the
list is read to the end and compared here). None found: it is created, always with an externalId
(the configured one, or one derived from the destination's name), so a create repeated after its
answer was lost is refused as taken (400) and the segment it made is found by that id, never made
twice. Anything else Attentive answers stops the send before a row is read, with its words.

The members this tool knows (membership_state.py) are kept under the segment's externalId: a
segment archived and made again has another one, so its members start from none and every row
of the file is sent (the diff digests the externalId too).
"""
from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import Outcome
from tui.attentive.secret import ApiKey
from tui.attentive.segment_calls import Segment, create_segment, get_segment, list_segments
from tui.settings.model import Destination

PAGE = 1000          # the list's largest page
MAX_PAGES = 100      # 100,000 segments of one name filter: beyond that the answer is not a list we trust
_NAMESPACE = uuid.UUID("6f1d2c1e-5a7b-4c0e-9a51-3f0c8b7d2e64")


class SegmentUnresolved(Exception):
    """The destination's segment could not be found or created (the engine raises it as SendRefused)."""


@dataclass(frozen=True)
class SegmentTarget:
    external_id: str
    name: str
    created: bool = False


def derived_external_id(destination: str) -> str:
    """The externalId a segment is created with when the destination names none: the same for the
    same destination, so a repeated create is refused instead of making a second segment."""
    return f"attentive-console-{uuid.uuid5(_NAMESPACE, destination).hex[:20]}"


def recorded_external_id(connection: sqlite3.Connection | None, scope: int | None) -> str | None:
    """The externalId the scope's newest send (not a dry run) changed: what a dry run counts against."""
    if connection is None or scope is None:
        return None
    row = connection.execute(
        "SELECT a.audience FROM audience_runs a JOIN runs r ON r.id = a.run_id WHERE a.scope = ? "
        "AND r.mode != 'dry-run' ORDER BY a.run_id DESC LIMIT 1", (scope,)).fetchone()
    return row[0] if row else None


async def bound_destination(destination: Destination, connection: sqlite3.Connection, scope: int | None, *,
                            base_url: str | None, api_key: ApiKey | None, pacing: Path,
                            client_options: Mapping[str, Any]) -> tuple[Destination, SegmentTarget | None]:
    """The destination as the engine sends it: its `audience`, the key its members are kept under,
    is the segment's externalId. A send finds (or creates) the segment; without a key (a dry run),
    offline_bound."""
    if base_url is None or api_key is None:
        return offline_bound(destination, connection, scope), None
    async with AttentiveClient(base_url, api_key, shared_pacing=pacing, **client_options) as client:
        target = await resolve_segment(client, destination)
    return dataclasses.replace(destination, audience=target.external_id), target


def offline_bound(destination: Destination, connection: sqlite3.Connection | None, scope: int | None) -> Destination:
    """Bound without asking Attentive (a dry run, a preview): to the segment the last send changed,
    else the one the settings name, else the one a first send would create."""
    mapping = destination.segment
    assert mapping is not None, "only a segment destination has a segment"
    known = recorded_external_id(connection, scope) or mapping.external_id or derived_external_id(destination.name)
    return dataclasses.replace(destination, audience=known)


async def resolve_segment(client: AttentiveClient, destination: Destination) -> SegmentTarget:
    mapping = destination.segment
    assert mapping is not None, "only a segment destination has a segment"
    if mapping.external_id is not None:
        return await _by_external_id(client, destination, mapping.external_id)
    named = await _named(client, destination, mapping.name)
    if len(named) > 1:
        ids = ", ".join(repr(s.external_id) for s in named[:5]) + (", ..." if len(named) > 5 else "")
        raise SegmentUnresolved(
            f"{len(named)} segments at Attentive are named {mapping.name!r} (externalIds {ids}), so which one "
            f"{destination.name} changes is not clear; write external_id = \"<one of them>\" under "
            f"[destinations.{destination.name}.segment]")
    if named:
        return SegmentTarget(named[0].external_id, named[0].name)
    return await _by_external_id(client, destination, derived_external_id(destination.name))


async def _named(client: AttentiveClient, destination: Destination, name: str) -> list[Segment]:
    found: list[Segment] = []
    cursor = None
    for _ in range(MAX_PAGES):
        outcome = await list_segments(client, name=name, cursor=cursor, limit=PAGE)
        if not outcome.ok:
            raise _cannot(destination, "list the segments named", outcome)
        found += [s for s in outcome.data.segments if s.name == name]
        if not outcome.data.has_more:
            return found
        cursor = outcome.data.cursor
    raise SegmentUnresolved(f"the list of segments named {name!r} did not end after {MAX_PAGES} pages; "
                            f"write external_id under [destinations.{destination.name}.segment] to name one")


async def _by_external_id(client: AttentiveClient, destination: Destination, external_id: str) -> SegmentTarget:
    mapping = destination.segment
    assert mapping is not None
    got = await get_segment(client, external_id)
    if got.ok:
        return SegmentTarget(external_id, got.data.name)
    if got.status != 404:
        raise _cannot(destination, "read segment", got, external_id)
    made = await create_segment(client, mapping.name, description=mapping.description, external_id=external_id)
    if made.ok:
        return SegmentTarget(external_id, made.data.name, created=True)
    if made.status == 400:  # taken: our own create whose answer was lost, or an archived segment
        again = await get_segment(client, external_id)
        if again.ok:
            return SegmentTarget(external_id, again.data.name, created=True)
        raise SegmentUnresolved(
            f"segment externalId {external_id!r} cannot be used: Attentive refused to create it ({made.text}) and "
            "shows no live segment with it (an archived segment keeps its externalId); restore that segment in "
            f"Attentive, or write another external_id under [destinations.{destination.name}.segment]")
    raise _cannot(destination, "create segment", made, external_id)


def _cannot(destination: Destination, what: str, outcome: Outcome, external_id: str | None = None) -> SegmentUnresolved:
    mapping = destination.segment
    assert mapping is not None
    subject = f"{external_id!r}" if external_id is not None else f"{mapping.name!r}"
    return SegmentUnresolved(f"cannot {what} {subject} for {destination.name}: {outcome.text}; nothing was sent")
