"""The plan's diff is the write: production.toml as read against the text `promote` saves, so it
shows only what will be written (no default the write leaves out, such as `subscriptions = false`),
and a write that is not the diff the plan showed is refused."""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from promotion_fixtures import PRODUCTION_TOML, SANDBOX_TOML, record_run, write_config

from tui.core.promotion import PromotionError, plan_promotion, promote
from tui.settings.loader import load_environment
from tui.settings.promotion_diff import diff_written


def planned(tmp_path: Path, name: str = "loyalty"):
    config, data = tmp_path / "config", tmp_path / "data"
    config_hash = load_environment(config, "sandbox").destinations[name].config_hash()
    record_run(data, destination=name, config_hash=config_hash, accepted=50, rejected=0, invalid=0)
    return plan_promotion(name, config_dir=config, data_dir=data, secrets_file=tmp_path / "secrets.toml",
                          operator="alice")


def test_a_new_destination_shows_exactly_the_lines_written_and_no_unwritten_default(tmp_path):
    config = write_config(tmp_path / "config")
    plan = planned(tmp_path)
    assert plan.ok and plan.diff.new_in_production
    assert not plan.destination.subscriptions  # false in the definition, and left out of the file
    assert "subscriptions" not in plan.diff.unified
    assert "subscriptions" not in {change.field for change in plan.diff.changes}
    assert "+[destinations.loyalty]" in plan.diff.unified and "+rate_limit = 20" in plan.diff.unified
    assert plan.diff.unified.startswith("--- production.toml (no [destinations.loyalty])\n+++ production.toml (promoted)")

    promote(plan, config_dir=config, data_dir=tmp_path / "data")

    after = (config / "production.toml").read_text()
    assert diff_written("loyalty", PRODUCTION_TOML, after) == plan.diff  # the diff shown is the write made
    assert plan.written_sha256 == hashlib.sha256(after.encode()).hexdigest()
    added = [line[1:] for line in plan.diff.unified.splitlines()[2:] if line.startswith("+")]
    assert after.startswith(PRODUCTION_TOML) and added == after[len(PRODUCTION_TOML):].splitlines()


def test_an_existing_destination_shows_only_its_changed_lines_then_nothing_to_promote(tmp_path):
    newsletter = PRODUCTION_TOML[PRODUCTION_TOML.index("[destinations.newsletter]"):PRODUCTION_TOML.index("# Trailing")]
    config = write_config(tmp_path / "config", sandbox=SANDBOX_TOML + newsletter.replace(
        "verbose_logging = false", "verbose_logging = true").rstrip() + "\n")
    plan = planned(tmp_path, "newsletter")
    assert plan.ok and not plan.diff.new_in_production
    assert [(c.field, c.production, c.sandbox) for c in plan.diff.changes] == [("verbose_logging", "false", "true")]
    changed = [line for line in plan.diff.unified.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-verbose_logging = false", "+verbose_logging = true"]

    promote(plan, config_dir=config, data_dir=tmp_path / "data")
    again = planned(tmp_path, "newsletter")
    assert again.diff.unchanged and again.diff.unified == ""


def test_a_write_that_is_not_the_diff_shown_is_refused(tmp_path):
    config = write_config(tmp_path / "config")
    plan = dataclasses.replace(planned(tmp_path), written_sha256="0" * 64)
    with pytest.raises(PromotionError, match="would not be the diff the plan showed"):
        promote(plan, config_dir=config, data_dir=tmp_path / "data")
    assert (config / "production.toml").read_text() == PRODUCTION_TOML


def test_a_plan_the_file_would_not_take_still_shows_its_fields(tmp_path):
    """No production credential of that name: the write is invalid, the gate says why, and the diff
    falls back to the definition's fields (nothing can be written anyway)."""
    write_config(tmp_path / "config", production=PRODUCTION_TOML.replace("credentials.attentive]", "credentials.other]")
                 .replace('credential = "attentive"', 'credential = "other"'))
    plan = planned(tmp_path)
    assert [gate.id for gate in plan.failed] == ["production_credential"]
    assert plan.written_sha256 is None and plan.diff.changes
