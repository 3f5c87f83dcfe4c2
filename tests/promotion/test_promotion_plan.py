"""Planning and writing a promotion on real files: each gate failing alone with real evidence (the
history database, the embedded simulator's connection test), the passing path's exact change to
production.toml, and the refusals that keep production.toml untouched."""
from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

import pytest
from promotion_fixtures import PRODUCTION_TOML, SANDBOX_TOML, record_run, write_config

from tui.core.promotion import PromotionError, PromotionPlan, plan_promotion, promote
from tui.settings.ledger import Action, Ledger
from tui.settings.loader import load_environment
from tui.settings.secrets import SecretsFile

# production's credential under another name than sandbox's ("attentive")
PRODUCTION_ATTENTIVE_PROD = PRODUCTION_TOML.replace("credentials.attentive]", "credentials.attentive-prod]").replace(
    'credential = "attentive"', 'credential = "attentive-prod"')


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    config = write_config(tmp_path / "config")
    return config, tmp_path / "data", tmp_path / "secrets.toml"


def sandbox_hash(config: Path, name: str = "loyalty") -> str:
    return load_environment(config, "sandbox").destinations[name].config_hash()


def plan(dirs, *, operator: str = "alice", name: str = "loyalty", credential: str | None = None) -> PromotionPlan:
    config, data, secrets = dirs
    return plan_promotion(name, config_dir=config, data_dir=data, secrets_file=secrets, operator=operator,
                          credential=credential)


def failed_ids(promotion: PromotionPlan) -> list[str]:
    return [gate.id for gate in promotion.failed]


def assert_refused_and_untouched(dirs, promotion: PromotionPlan) -> None:
    config, data, _ = dirs
    before = (config / "production.toml").read_bytes()
    with pytest.raises(PromotionError, match="refused"):
        promote(promotion, config_dir=config, data_dir=data)
    assert (config / "production.toml").read_bytes() == before


def assert_fails_alone(dirs, gates: list[str], reason: str) -> PromotionPlan:
    """The plan fails exactly these gates, the first saying `reason`; promote() refuses it, writing nothing."""
    promotion = plan(dirs)
    assert failed_ids(promotion) == gates
    assert reason in promotion.failed[0].reason
    assert_refused_and_untouched(dirs, promotion)
    return promotion


# --- the passing path ----------------------------------------------------------------------------

def test_passing_path_adds_exactly_the_destination_table_and_keeps_every_comment(dirs):
    config, data, _ = dirs
    run_id = record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promotion = plan(dirs)
    assert promotion.ok, [g.reason for g in promotion.failed]
    assert [g.id for g in promotion.gates] == ["admin", "test_send", "verification", "production_credential"]
    assert promotion.diff.new_in_production and promotion.test_send_run == run_id

    result = promote(promotion, config_dir=config, data_dir=data)

    after = (config / "production.toml").read_text()
    assert after.startswith(PRODUCTION_TOML)  # every byte, every comment, where it was
    added = tomllib.loads(after[len(PRODUCTION_TOML):])
    assert added == {"destinations": {"loyalty": {
        "description": "Loyalty tier and points", "credential": "attentive", "primary_identifier": "email",
        "endpoint": "bulk", "admin_only": False, "allow_restricted_pii": True, "verbose_logging": True,
        "phone_region": "US", "rejection_threshold": 0.05, "rate_limit": 20,
        "identifiers": {"email": "email"}, "attributes": {"Loyalty Tier": "tier", "Points": "points"},
    }}}
    promoted = load_environment(config, "production").destinations["loyalty"]
    assert promoted.config_hash() == sandbox_hash(config)

    entry = result.ledger_entry
    assert (entry.action, entry.subject, entry.environment, entry.operator) == (Action.PROMOTION.value, "loyalty", "production", "alice")
    assert entry.details["diff_sha256"] == promotion.diff.sha256 and entry.details["test_send_run"] == run_id
    assert Ledger(data / "history.sqlite3").verify().ok


def test_promoting_over_an_existing_definition_changes_only_its_changed_lines(dirs):
    config, data, _ = dirs
    # production already has `newsletter`; sandbox gets the same destination with two fields changed
    sandbox = SANDBOX_TOML + PRODUCTION_TOML[PRODUCTION_TOML.index("[destinations.newsletter]"):].replace(
        "rejection_threshold = 0.01", "rejection_threshold = 0.02").replace(
        '"Newsletter" = "newsletter"   # yes/no', '"Newsletter" = "newsletter"\n"Opt In" = "opt_in"')
    write_config(config, sandbox=sandbox)
    record_run(data, destination="newsletter", config_hash=sandbox_hash(config, "newsletter"),
               accepted=50, rejected=0, invalid=0)
    promotion = plan(dirs, name="newsletter")
    assert promotion.ok and not promotion.diff.new_in_production
    assert {c.field for c in promotion.diff.changes} == {"rejection_threshold", 'attributes."Opt In"'}

    promote(promotion, config_dir=config, data_dir=data)

    after = (config / "production.toml").read_text()
    changed = [line for line in difflib.ndiff(PRODUCTION_TOML.splitlines(), after.splitlines())
               if line[:1] in "+-"]
    assert changed == ["- rejection_threshold = 0.01", "+ rejection_threshold = 0.02", '+ "Opt In" = "opt_in"']
    assert '"Newsletter" = "newsletter"   # yes/no' in after and "# Trailing note: end of production." in after


def test_a_production_credential_of_another_name_can_be_chosen(dirs):
    config, data, _ = dirs
    write_config(config, production=PRODUCTION_ATTENTIVE_PROD)
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    assert failed_ids(plan(dirs)) == ["production_credential"]
    promotion = plan(dirs, credential="attentive-prod")
    assert promotion.ok and promotion.destination.credential == "attentive-prod"
    promote(promotion, config_dir=config, data_dir=data)
    assert load_environment(config, "production").destinations["loyalty"].credential == "attentive-prod"


# --- each gate failing alone ---------------------------------------------------------------------

def test_non_admin_fails_only_the_admin_gate(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promotion = plan(dirs, operator="bob")
    assert failed_ids(promotion) == ["admin"]
    assert_refused_and_untouched(dirs, promotion)


def test_no_test_send_fails_the_test_send_and_verification_gates(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config), mode="send", sample_size=None)
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config), environment="production")
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config), status="failed")
    # with no run there is nothing to verify
    assert_fails_alone(dirs, ["test_send", "verification"], "no finished sandbox test send of loyalty")


def test_test_send_with_a_different_configuration_fails_alone(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    write_config(config, sandbox=SANDBOX_TOML.replace("rate_limit = 20", "rate_limit = 10"))
    assert_fails_alone(dirs, ["test_send"], "changed after its test send")


def test_the_latest_finished_test_send_counts(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    latest = record_run(data, destination="loyalty", config_hash=sandbox_hash(config), rejected=10)
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config), status="cancelled")
    promotion = plan(dirs)
    assert failed_ids(promotion) == ["test_send"] and f"run {latest} rejected 11 of 59" in promotion.failed[0].reason


def test_test_send_over_the_threshold_fails_alone(dirs):
    config, data, _ = dirs
    run_id = record_run(data, destination="loyalty", config_hash=sandbox_hash(config),
                        accepted=45, rejected=3, invalid=2)
    assert_fails_alone(dirs, ["test_send"], f"run {run_id} rejected 5 of 50 rows (10.0%)")


def test_failed_verification_fails_alone(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config), verification=(48, 2, 1))
    assert_fails_alone(dirs, ["verification"], "2 differ from what was sent and 1 were not found")


def test_missing_production_credential_fails_alone_and_names_the_ones_there_are(dirs):
    config, data, _ = dirs
    write_config(config, production=PRODUCTION_ATTENTIVE_PROD)
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    assert_fails_alone(dirs, ["production_credential"], "no credential named 'attentive' (it has: attentive-prod)")


def test_production_credential_failing_its_connection_test_fails_alone(dirs):
    config, data, secrets = dirs
    write_config(config, production=PRODUCTION_TOML.replace('api_key = "demo:production"',
                                                            'api_key = "secret:attentive-production"'))
    wrong_key = "wrong-key-1234567890abcdefWXYZ"
    SecretsFile(secrets).set("attentive-production", wrong_key)
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promotion = assert_fails_alone(dirs, ["production_credential"], "HTTP 401")
    assert "credentials test attentive --env production" in promotion.failed[0].fix
    assert wrong_key not in repr(promotion)


# --- refusals at write time ----------------------------------------------------------------------

def test_production_changed_since_the_plan_is_not_overwritten(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promotion = plan(dirs)
    edited = PRODUCTION_TOML + "# someone else's edit\n"
    (config / "production.toml").write_text(edited)
    with pytest.raises(PromotionError, match="production.toml changed since the promotion plan"):
        promote(promotion, config_dir=config, data_dir=data)
    assert (config / "production.toml").read_text() == edited
    assert Ledger(data / "history.sqlite3").entries() == []


def test_sandbox_changed_since_the_plan_is_refused(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promotion = plan(dirs)
    (config / "sandbox.toml").write_text(SANDBOX_TOML.replace('"Points" = "points"', '"Points" = "score"'))
    with pytest.raises(PromotionError, match="sandbox.toml changed since the promotion plan"):
        promote(promotion, config_dir=config, data_dir=data)
    assert (config / "production.toml").read_text() == PRODUCTION_TOML


def test_nothing_to_promote_when_production_already_matches(dirs):
    config, data, _ = dirs
    record_run(data, destination="loyalty", config_hash=sandbox_hash(config))
    promote(plan(dirs), config_dir=config, data_dir=data)
    again = plan(dirs)
    assert again.ok and again.diff.unchanged
    with pytest.raises(PromotionError, match="nothing to promote"):
        promote(again, config_dir=config, data_dir=data)


def test_unknown_destination_names_the_ones_there_are(dirs):
    with pytest.raises(PromotionError, match=r"sandbox has no destination named 'loyalty-typo' \(it has: loyalty\)"):
        plan(dirs, name="loyalty-typo")
