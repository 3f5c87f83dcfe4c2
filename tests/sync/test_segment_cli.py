"""A segment destination through the CLI, from its TOML: the first send creates the segment and
says so, the dry run counts joins, stays and leaves against it without calling Attentive, the
shrink guard refuses a truncated export with the override named, a smaller file removes exactly
the leavers, a sample says how it is judged, `verify` refuses (no endpoint lists members) and
`credentials test` checks the Segments permission;
promotion passes on the sample's job results and writes the [segment] table to production."""
from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

from config_kit import environment_toml, segment_toml, write_config_folder
from simulator_fixtures import FULL_KEY
from sync_kit import POLL_SCALE, valid_row, write_csv

from tui.settings.paths import history_path
from tui.sync.job_schedule import SCALE_VARIABLE
from tui.sync.segment_target import derived_external_id

EXTERNAL_ID = derived_external_id("winter-vip-segment")


def people(tmp_path: Path, name: str, indexes: range | list[int]) -> str:
    return str(write_csv(tmp_path / name, [valid_row(i) for i in indexes]))


def members(data: Path) -> set[str]:
    with sqlite3.connect(history_path(data)) as db:
        return {i for (i,) in db.execute("SELECT identifier FROM audience_members WHERE audience = ?", (EXTERNAL_ID,))}


def email(i: int) -> str:
    return f"member{i}@example.com"


def test_a_segment_destination_end_to_end_through_the_cli(tmp_path, cli_on, monkeypatch, thread_simulator):
    monkeypatch.setenv("SYNC_TEST_KEY", FULL_KEY)
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    production = environment_toml(thread_simulator.url, admins=("tester",), credential="test", key="env:SYNC_TEST_KEY")
    cli = cli_on(write_config_folder(tmp_path / "config", environment_toml(
        thread_simulator.url, admins=("tester",), credential="test", key="env:SYNC_TEST_KEY",
        destinations=[segment_toml()]), production), operator="tester")
    tested = cli("credentials", "test", "test")
    assert tested.code == 0, tested.err

    first = cli("send", "winter-vip-segment", people(tmp_path, "a.csv", range(10)), "--wait")
    assert first.code == 0, first.err
    assert f"segment 'Winter VIP' created at Attentive (externalId {EXTERNAL_ID})" in first.out
    assert members(cli.data) == {email(i) for i in range(10)}

    smaller = people(tmp_path, "b.csv", range(8))
    dry = cli("send", "winter-vip-segment", smaller, "--dry-run")
    assert dry.code == 0, dry.err
    assert (f"segment 'Winter VIP' (externalId {EXTERNAL_ID}): 10 members before; 0 would join, 8 would stay, "
            "2 would leave (20% of the members; the limit is 50%)") in dry.out

    truncated = cli("send", "winter-vip-segment", people(tmp_path, "c.csv", range(3)))
    assert truncated.code == 2 and "7 of the 10 members of segment 'Winter VIP'" in truncated.err
    assert "--allow-shrink" in truncated.err

    second = cli("send", "winter-vip-segment", smaller, "--wait", "--json")
    assert second.code == 0, second.err
    summary = json.loads(second.out)
    assert (summary["left"], summary["skipped_unchanged"], summary["accepted"]) == (2, 8, 2)
    assert summary["segment"] == {"external_id": EXTERNAL_ID, "name": "Winter VIP", "created": False}
    assert members(cli.data) == {email(i) for i in range(8)}

    sample = cli("send", "winter-vip-segment", people(tmp_path, "d.csv", range(20, 40)), "--sample", "10", "--wait")
    assert sample.code == 0, sample.err
    assert "segment members cannot be read back: promotion's gate is this sample's members accepted" in sample.out
    assert len(members(cli.data)) == 18  # 8 + the sample's 10; a sample removes nobody

    refused = cli("verify", "4")  # the sample (run 2 was the dry run)
    assert refused.code != 0 and "winter-vip-segment is a segment destination: Attentive has no endpoint" in refused.err

    promoted = cli("promote", "winter-vip-segment", "--yes")
    assert promoted.code == 0, promoted.out + promoted.err
    assert "[PASS] sample members accepted in Attentive's job results" in promoted.out
    written = tomllib.loads((cli.config / "production.toml").read_text())["destinations"]["winter-vip-segment"]
    assert (written["kind"], written["segment"], "endpoint" in written) == ("segment", {"name": "Winter VIP"}, False)
