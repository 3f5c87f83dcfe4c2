"""Segment destinations (kind "segment"): a send finds or creates the v2 segment, adds the file's
people as its members in bulk jobs (followed like bulk attribute jobs), and a later, smaller file
removes exactly the members who left; the shrink guard refuses a truncated export. Against the
simulator, whose segments are read back from its state (no endpoint lists members)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from simulator_fixtures import FULL_KEY, TEST_KEYS
from sync_kit import follow_jobs, send, valid_row, write_csv

from tui.attentive.client import AttentiveClient
from tui.attentive.secret import ApiKey
from tui.attentive.segment_calls import create_segment, delete_segment
from tui.settings.model import Destination, SegmentMapping
from tui.settings.paths import history_path
from tui.sync.engine import SendRequest, run_send
from tui.sync.history import HistoryStore
from tui.sync.segment_target import derived_external_id
from tui.sync.send_refusals import SendRefused, ShrinkRefused

COMPANY = TEST_KEYS[FULL_KEY].resolved_company_id
NAME = "Winter VIP"


def segment_destination(**mapping: str) -> Destination:
    return Destination(name="winter-vip", description="test", credential="test", primary_identifier="email",
                       endpoint="segment-members-add", kind="segment", identifiers={"email": "email"},
                       segment=SegmentMapping(mapping.pop("name", NAME), **mapping))


def people(tmp_path: Path, name: str, indexes: range | list[int]) -> Path:
    return write_csv(tmp_path / name, [valid_row(i) for i in indexes])


def email(i: int) -> str:
    return f"member{i}@example.com"


def members_at_attentive(simulator, external_id: str) -> set[str]:
    return {member["email"] for member in simulator.sim.api.segments.members(COMPANY, external_id)}


def members_here(data: Path) -> set[str]:
    with sqlite3.connect(history_path(data)) as db:
        return {identifier for (identifier,) in db.execute("SELECT identifier FROM audience_members")}


def member_posts(simulator) -> int:
    return sum(1 for job in simulator.sim.api.jobs.all() if b'"externalId"' in job.request_body)


async def test_a_smaller_file_removes_exactly_the_leavers_and_the_same_file_again_sends_nothing(simulator, tmp_path):
    destination, data = segment_destination(), tmp_path / "data"
    first = await send(simulator, data, destination, people(tmp_path, "a.csv", range(10)))
    external_id = derived_external_id("winter-vip")
    assert first.run.status == "finished" and (first.run.accepted, first.run.audience_left) == (10, 0)
    assert members_at_attentive(simulator, external_id) == {email(i) for i in range(10)}
    assert members_here(data) == {email(i) for i in range(10)}

    second = await send(simulator, data, destination, people(tmp_path, "b.csv", [0, 1, 2, 4, 5, 7, 8, 9, 10]))
    run = second.run
    # 8 stay (unchanged: not sent), one joins, two leave (3 and 6): 3 rows sent in two jobs
    assert (run.skipped_unchanged, run.accepted, run.audience_left, run.rows_read) == (8, 3, 2, 9 + 2)
    assert members_at_attentive(simulator, external_id) == {email(i) for i in (0, 1, 2, 4, 5, 7, 8, 9, 10)}
    assert members_here(data) == members_at_attentive(simulator, external_id)

    posts = member_posts(simulator)
    third = await send(simulator, data, destination, people(tmp_path, "b.csv", [0, 1, 2, 4, 5, 7, 8, 9, 10]))
    assert (third.run.skipped_unchanged, third.run.accepted, third.run.audience_left) == (9, 0, 0)
    assert member_posts(simulator) == posts


async def test_the_shrink_guard_refuses_a_truncated_export_until_the_shrink_is_allowed(simulator, tmp_path):
    destination, data = segment_destination(), tmp_path / "data"
    await send(simulator, data, destination, people(tmp_path, "a.csv", range(10)))
    truncated = people(tmp_path, "b.csv", range(3))
    with pytest.raises(ShrinkRefused, match=r"7 of the 10 members of segment 'Winter VIP' \(externalId "
                                            r"attentive-console-\w+\) would leave \(70%, above the 50% limit"):
        await send(simulator, data, destination, truncated)
    assert members_at_attentive(simulator, derived_external_id("winter-vip")) == {email(i) for i in range(10)}
    allowed = await send(simulator, data, destination, truncated, allow_shrink=True)
    assert allowed.run.audience_left == 7
    assert members_at_attentive(simulator, derived_external_id("winter-vip")) == {email(i) for i in range(3)}


async def test_the_segment_named_is_used_and_two_of_that_name_are_refused(simulator, tmp_path):
    async with AttentiveClient(simulator.url, ApiKey(simulator.full_key)) as client:
        await create_segment(client, NAME, external_id="made-in-the-ui")
        await create_segment(client, f"{NAME} 2025", external_id="last-year")  # a partial match: not the one
    sent = await send(simulator, tmp_path / "data", segment_destination(), people(tmp_path, "a.csv", range(4)))
    assert sent.run.accepted == 4 and members_at_attentive(simulator, "made-in-the-ui") == {email(i) for i in range(4)}
    assert members_at_attentive(simulator, "last-year") == set()
    async with AttentiveClient(simulator.url, ApiKey(simulator.full_key)) as client:
        await create_segment(client, NAME, external_id="a-twin")
    with pytest.raises(SendRefused, match=r"2 segments at Attentive are named 'Winter VIP' \(externalIds "
                                          r"'made-in-the-ui', 'a-twin'\).*write external_id"):
        await send(simulator, tmp_path / "data", segment_destination(), people(tmp_path, "a.csv", range(4)))


async def test_an_external_id_creates_the_segment_once_and_an_archived_one_is_refused(simulator, tmp_path):
    destination, data = segment_destination(external_id="vip-2026", description="Winter VIPs"), tmp_path / "data"
    request = SendRequest(environment="sandbox", destination=destination, source=people(tmp_path, "a.csv", range(3)),
                          operator="tester", data_dir=data, base_url=simulator.url, api_key=ApiKey(simulator.full_key))
    made = await run_send(request)
    await follow_jobs(simulator, data, destination)
    again = await run_send(request)
    assert made.segment is not None and (made.segment.external_id, made.segment.created) == ("vip-2026", True)
    assert again.segment is not None and not again.segment.created
    segment = simulator.sim.state.segments.get(COMPANY, "vip-2026")
    assert (segment.name, segment.description) == (NAME, "Winter VIPs")
    async with AttentiveClient(simulator.url, ApiKey(simulator.full_key)) as client:
        await delete_segment(client, "vip-2026")
    with pytest.raises(SendRefused, match=r"externalId 'vip-2026' cannot be used.*archived segment keeps its "
                                          r"externalId.*restore that segment"):
        await run_send(request)
    with HistoryStore(data, readonly=True) as store:
        assert len(store.list_runs()) == 2  # refused before a run existed


async def test_a_dry_run_counts_against_the_segment_the_last_send_changed_without_calling_attentive(simulator, tmp_path):
    destination, data = segment_destination(), tmp_path / "data"
    await send(simulator, data, destination, people(tmp_path, "a.csv", range(6)))
    posts = member_posts(simulator)
    dry = await run_send(SendRequest(environment="sandbox", destination=destination,
                                     source=people(tmp_path, "b.csv", range(2, 8)), operator="tester", data_dir=data,
                                     dry_run=True))
    assert dry.audience is not None
    assert (dry.audience.members, dry.audience.joins, dry.audience.stays, dry.audience.leaves) == (6, 2, 4, 2)
    assert dry.audience.label == f"segment 'Winter VIP' (externalId {derived_external_id('winter-vip')})"
    assert member_posts(simulator) == posts and members_here(data) == {email(i) for i in range(6)}
