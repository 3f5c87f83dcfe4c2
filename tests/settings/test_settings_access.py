"""Access: admin-only destinations, restricted PII (masking, export, destinations), read-only."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_kit import CliOn
from config_kit import shipped_config, write_config_folder
from settings_kit import VALID

from tui.settings.access import Operator, mask_email, mask_identifier, mask_phone
from tui.settings.errors import AccessDenied
from tui.settings.loader import load_environment
from tui.settings.model import AccessPolicy, Destination

POLICY = AccessPolicy(admins=("alice",), restricted_pii=("bob",))
OPEN = Destination("open", "", "main", "email")
ADMIN_ONLY = Destination("vip", "", "main", "email", admin_only=True)
NO_RESTRICTED = Destination("raw", "", "main", "email", allow_restricted_pii=False)


def test_roles_come_from_the_policy():
    assert Operator.of("alice", POLICY).role == "admin"
    assert Operator.of("bob", POLICY).role == "restricted PII"
    assert Operator.of("carol", POLICY).role == "operator"
    everyone = AccessPolicy(admins=("*",))
    assert Operator.of("whoever", everyone).is_admin


def test_admin_only_destinations_refuse_non_admins():
    Operator.of("alice", POLICY).require_destination(ADMIN_ONLY, "send")
    with pytest.raises(AccessDenied, match="'vip' is admin-only and 'carol' is not an admin"):
        Operator.of("carol", POLICY).require_destination(ADMIN_ONLY, "send")
    Operator.of("carol", POLICY).require_destination(OPEN, "send")


def test_restricted_pii_operators_see_masks_cannot_export_and_cannot_use_raw_destinations():
    bob = Operator.of("bob", POLICY)
    assert bob.show("jane.doe@example.com") == "j***@e***.com"
    assert bob.show("+19148440001") == "+1******0001"
    with pytest.raises(AccessDenied, match="cannot export identifiers unmasked"):
        bob.require_unmasked_export()
    with pytest.raises(AccessDenied, match="does not allow operators with restricted PII access"):
        bob.require_destination(NO_RESTRICTED, "send")
    carol = Operator.of("carol", POLICY)
    assert carol.show("jane.doe@example.com") == "jane.doe@example.com"
    carol.require_unmasked_export()
    carol.require_destination(NO_RESTRICTED, "send")


@pytest.mark.parametrize(("value", "masked"), [
    ("jane.doe@example.com", "j***@e***.com"),
    ("x@mail.example.co.uk", "x***@m***.uk"),
    ("+19148440001", "+1******0001"),
    ("+447911123456", "+44******3456"),
    ("914-844-0001", "******0001"),
    ("cust-42", "c***"),
])
def test_masking(value: str, masked: str):
    assert mask_identifier(value) == masked


def test_masks_keep_no_more_than_the_examples_show():
    assert mask_email("someone@company.com").count("*") == 6
    assert mask_phone("+1 (914) 844-0001") == "+1******0001"


def test_read_only_refuses_every_change(tmp_path: Path, cli_on: CliOn):
    cli = cli_on(shipped_config(tmp_path))
    before = {p.name: p.read_bytes() for p in cli.config.iterdir()}
    changes = [
        ["credentials", "add", "x", "--env-var", "X"],
        ["credentials", "set-key", "attentive-sandbox"],
        ["credentials", "remove", "attentive-sandbox"],
        ["destinations", "add", "d", "--primary-identifier", "email", "--identifier", "email=email"],
        ["destinations", "edit", "loyalty-attributes", "--rate-limit", "10"],
        ["destinations", "remove", "loyalty-attributes"],
    ]
    for argv in changes:
        code, _, err = cli(*argv, read_only=True, stdin="k-123456\n")
        assert code == 2 and "this session is read-only" in err, argv
    assert {p.name: p.read_bytes() for p in cli.config.iterdir()} == before
    assert not (tmp_path / "private").exists()
    # Reading still works.
    assert cli("destinations", "list", read_only=True).code == 0


def test_cli_admin_only_and_production_changes_need_an_admin(tmp_path: Path, cli_on: CliOn):
    text = VALID.replace('endpoint = "bulk"', 'endpoint = "bulk"\nadmin_only = true')
    config = write_config_folder(tmp_path / "config", text, production=text.replace("demo:sandbox", "demo:production"))
    cli = cli_on(config)
    code, _, err = cli("destinations", "edit", "loyalty", "--rate-limit", "10", operator="carol")
    assert code == 2 and "'loyalty' is admin-only and 'carol' is not an admin" in err
    code, _, err = cli("destinations", "remove", "loyalty", "--env", "production", operator="carol")
    assert code == 2 and "only admins may do this" in err
    code, _, err = cli("destinations", "add", "mine", "--primary-identifier", "email", "--identifier", "email=email",
                       "--admin-only", operator="carol")
    assert code == 2 and "changing who may use a destination" in err
    assert cli("destinations", "edit", "loyalty", "--rate-limit", "10", operator="alice").code == 0
    assert load_environment(config, "sandbox").destinations["loyalty"].rate_limit == 10
    assert cli("destinations", "remove", "loyalty", "--env", "production", operator="alice").code == 0
    assert not load_environment(config, "production").destinations


def test_cli_restricted_operator_cannot_edit_a_destination_closed_to_them(tmp_path: Path, cli_on: CliOn):
    text = VALID.replace('endpoint = "bulk"', 'endpoint = "bulk"\nallow_restricted_pii = false')
    cli = cli_on(write_config_folder(tmp_path / "config", text))
    code, _, err = cli("destinations", "edit", "loyalty", "--description", "x", operator="bob")
    assert code == 2 and "does not allow operators with restricted PII access, and 'bob' is one" in err
