"""Constant attributes ([destinations.NAME.constants], send --set) and typed attributes
([destinations.NAME.types]) against the simulator."""
from __future__ import annotations

import json

import pytest
from sync_kit import loyalty, send, stored_custom, valid_row, write_csv

from tui.core.send_preview import build_preview
from tui.sync import reasons

ZIP_HEADER = ("email", "phone", "first_name", "tier", "points", "zip", "vip", "joined")


def rows(count: int, **overrides: str) -> list[dict[str, str]]:
    return [{**valid_row(i), "zip": f"0213{i % 10}", "vip": "yes" if i % 2 else "No", "joined": "2026-01-31",
             **overrides} for i in range(count)]


async def test_constants_land_on_every_profile_and_typed_values_convert(simulator, tmp_path):
    destination = loyalty(attributes={"Loyalty Tier": "tier", "Points": "points", "VIP": "vip", "Joined": "joined"},
                          constants={"Campaign": "Winter 2026", "Wave": "3"},
                          types={"Points": "number", "VIP": "boolean", "Joined": "date", "Wave": "number"})
    source = write_csv(tmp_path / "a.csv", rows(6), ZIP_HEADER)
    sent = await send(simulator, tmp_path / "data", destination, source)
    assert sent.run.invalid == 0
    for i in range(6):
        custom = stored_custom(simulator, f"member{i}@example.com")
        assert custom is not None
        assert custom["Campaign"] == "Winter 2026" and custom["Wave"] == 3
        assert custom["Points"] == 100 + i and isinstance(custom["Points"], int)
        assert custom["VIP"] is (i % 2 == 1)
        assert custom["Joined"] == "2026-01-31"


async def test_a_value_that_does_not_convert_rejects_the_row_naming_attribute_value_and_type(simulator, tmp_path):
    destination = loyalty(types={"Points": "number"})
    data = [valid_row(i) for i in range(4)]
    data[2]["points"] = "lots"
    sent = await send(simulator, tmp_path / "data", destination, write_csv(tmp_path / "a.csv", data))
    assert sent.run.invalid == 1
    preview = build_preview(destination, tmp_path / "a.csv")
    [bad] = [row for row in preview.rows if not row.valid]
    assert bad.row == 4 and bad.reason == reasons.ATTRIBUTE_TYPE_INVALID
    assert "'Points'" in bad.message and "'lots'" in bad.message and "number" in bad.message
    assert stored_custom(simulator, "member2@example.com") is None


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("boolean", "TRUE", True), ("boolean", "0", False), ("number", "2.50", 2.5), ("number", "7.0", 7),
    ("string", "02134", "02134"), ("date", "2026-03-01T09:00:00Z", "2026-03-01T09:00:00+00:00"),
])
def test_conversions(kind, raw, expected):
    from tui.settings.attribute_types import convert
    value = convert(raw, kind)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("kind", "raw"), [("number", "nan"), ("number", "inf"), ("boolean", "maybe"),
                                           ("date", "31/01/2026"), ("date", "2026-01-31T09:00:00")])
def test_refused_conversions(kind, raw):
    from tui.settings.attribute_types import NotConvertible, convert
    with pytest.raises(NotConvertible):
        convert(raw, kind)


def test_the_preview_shows_constants_and_warns_of_leading_zeros(tmp_path):
    destination = loyalty(attributes={"Loyalty Tier": "tier", "Zip": "zip"}, constants={"Campaign": "Winter"})
    preview = build_preview(destination, write_csv(tmp_path / "a.csv", rows(3), ZIP_HEADER))
    assert preview.constants == (("Campaign", "Winter"),) and "Campaign" in preview.attribute_names
    assert all(row.attributes["Campaign"] == "Winter" for row in preview.rows)
    [warning] = preview.warnings
    assert "'Zip'" in warning and "02130" in warning and '"Zip" = "string"' in warning
    typed = build_preview(destination.__class__(**{**destination.__dict__, "types": {"Zip": "string"}}),
                          tmp_path / "a.csv")
    assert typed.warnings == ()


ZIP_CONFIG = 'constants = { Campaign = "Winter" }\n'


def test_set_lands_changing_it_resends_unchanged_rows_and_the_dry_run_warns(sim_process, cli_for, tmp_path):
    cli = cli_for(sim_process.url, extra=ZIP_CONFIG)
    source = write_csv(tmp_path / "a.csv", [valid_row(i) for i in range(10)])
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--set", "Wave=1", "--json")
    assert code == 0 and json.loads(out)["submitted"] == 10
    assert cli("jobs", "--wait", "--json").code == 0
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--set", "Wave=1", "--json")
    assert code == 0 and json.loads(out)["skipped_unchanged"] == 10
    code, out, _ = cli("send", "loyalty-attributes", str(source), "--set", "Wave=2", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["skipped_unchanged"] == 0 and summary["submitted"] == 10

    zips = write_csv(tmp_path / "z.csv", [{**valid_row(i), "points": f"0{i}1"} for i in range(3)])
    code, out, err = cli("send", "loyalty-attributes", str(zips), "--dry-run", "--set", "Wave=3")
    assert code == 0
    assert "constants on every profile: Campaign = 'Winter', Wave = '3'" in out
    assert "'Points' is untyped" in err and '"Points" = "string"' in err


@pytest.mark.parametrize(("option", "words"), [
    ("Wave", 'has no "="'),
    ("Points=5", "same name as the mapped attribute 'Points'"),
    ("Wave=", "is empty"),
    ("Social Security Number=1", "sensitive-data category"),
])
def test_bad_set_options_exit_2_and_send_nothing(sim_process, cli_for, tmp_path, option, words):
    cli = cli_for(sim_process.url)
    source = write_csv(tmp_path / "a.csv", [valid_row(i) for i in range(3)])
    code, out, err = cli("send", "loyalty-attributes", str(source), "--set", option)
    assert code == 2 and words in err and "--set" in err
    assert json.loads(cli("runs", "--json").out) == []


def test_an_untyped_constant_with_a_leading_zero_draws_the_warning_in_config_validate_and_the_dry_run(cli_for, tmp_path):
    cli = cli_for("http://127.0.0.1:9", extra='constants = { Store = "0042" }\n')
    code, out, _ = cli("config", "validate")
    assert code == 0 and "warning: attribute 'Store' is untyped and holds values such as '0042'" in out
    source = write_csv(tmp_path / "a.csv", [valid_row(i) for i in range(3)])
    code, _, err = cli("send", "loyalty-attributes", str(source), "--dry-run", "--set", "Region=+44")
    assert code == 0 and "'Store' is untyped" in err and "'Region' is untyped" in err
    typed = cli_for("http://127.0.0.1:9", extra='constants = { Store = "0042" }\ntypes = { Store = "string" }\n')
    code, out, _ = typed("config", "validate")
    assert code == 0 and "warning" not in out
