"""Promotion of a destination from sandbox to production: the plan (diff + gates) and the write.

`plan_promotion` gathers the evidence (both environment files, the latest sandbox test send from
the history store, the production credential's connection test) and `build_plan` turns it into a
`PromotionPlan` the console and the CLI render alike. `promote` writes the plan: only when every
gate passed and neither environment file changed since the plan was made.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from tui.settings.errors import SettingsError
from tui.settings.ledger import Action, Ledger, LedgerEntry, LedgerError
from tui.settings.loader import environment_path, parse_environment, read_config_text
from tui.settings.model import Destination, Environment, EnvironmentName
from tui.settings.promotion_diff import DestinationDiff, diff_destination
from tui.settings.promotion_evidence import check_production_credential, latest_test_send
from tui.settings.promotion_gates import (
    CredentialCheck,
    Gate,
    SampleSendEvidence,
    gate_admin,
    gate_production_credential,
    gate_test_send,
    gate_verification,
)
from tui.settings.store import ConfigStore
from tui.sync.history_schema import history_path


class PromotionError(SettingsError):
    """The promotion cannot go ahead (no such destination, a failed gate, a file changed meanwhile)."""


@dataclass(frozen=True)
class EnvironmentSnapshot:
    """An environment file as read for a plan; its digest lets `promote` refuse a file changed since."""
    environment: Environment
    sha256: str


@dataclass(frozen=True)
class PromotionPlan:
    destination: Destination        # the definition production will get (credential mapped by name)
    operator: str                   # whom the admin gate judged; promote() acts as them
    diff: DestinationDiff
    gates: tuple[Gate, ...]
    test_send_run: int | None
    sandbox_sha256: str
    production_sha256: str

    @property
    def ok(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def failed(self) -> tuple[Gate, ...]:
        return tuple(gate for gate in self.gates if not gate.passed)


@dataclass(frozen=True)
class PromotionResult:
    path: Path                      # production.toml
    ledger_entry: LedgerEntry


def read_snapshot(config_dir: Path, name: EnvironmentName) -> EnvironmentSnapshot:
    path = environment_path(config_dir, name)
    text = read_config_text(path)
    environment = parse_environment(text, path=path, name=name)
    return EnvironmentSnapshot(environment, _digest(text))


def build_plan(name: str, *, sandbox: EnvironmentSnapshot, production: EnvironmentSnapshot, operator: str,
               test_send: SampleSendEvidence | None, credential_check: CredentialCheck | None,
               credential: str | None = None) -> PromotionPlan:
    """Pure: the diff and the four gates from evidence already gathered. `credential` names the
    production credential to use when it differs from the sandbox destination's."""
    source = sandbox.environment.destinations.get(name)
    if source is None:
        available = ", ".join(sorted(sandbox.environment.destinations)) or "none"
        raise PromotionError(f"sandbox has no destination named {name!r} (it has: {available})")
    target = replace(source, credential=credential or source.credential)
    prod_env = production.environment
    gates = (
        gate_admin(operator, prod_env),
        gate_test_send(target, test_send),
        gate_verification(test_send),
        gate_production_credential(target, prod_env, credential_check),
    )
    return PromotionPlan(
        destination=target,
        operator=operator,
        diff=diff_destination(target, prod_env.destinations.get(name)),
        gates=gates,
        test_send_run=test_send.run_id if test_send else None,
        sandbox_sha256=sandbox.sha256,
        production_sha256=production.sha256,
    )


def plan_promotion(name: str, *, config_dir: Path, data_dir: Path, secrets_file: Path, operator: str,
                   credential: str | None = None) -> PromotionPlan:
    """Blocking (the connection test talks to Attentive): the console runs it in a worker."""
    sandbox = read_snapshot(config_dir, "sandbox")
    production = read_snapshot(config_dir, "production")
    source = sandbox.environment.destinations.get(name)
    test_send = latest_test_send(data_dir, name) if source is not None else None
    target_credential = credential or (source.credential if source else "")
    check = None
    if source is not None and target_credential in production.environment.credentials:
        check = check_production_credential(production.environment, target_credential,
                                            secrets_file=secrets_file, data_dir=data_dir)
    return build_plan(name, sandbox=sandbox, production=production, operator=operator, test_send=test_send,
                      credential_check=check, credential=credential)


def promote(plan: PromotionPlan, *, config_dir: Path, data_dir: Path) -> PromotionResult:
    """Writes the planned destination into production.toml and records it in the audit ledger.

    Refused when a gate failed, when there is nothing to change, or when either environment file
    changed since the plan was made (the operator approved that diff, not another)."""
    name = plan.destination.name
    if not plan.ok:
        failed = "; ".join(f"{gate.title}: {gate.reason}" for gate in plan.failed)
        raise PromotionError(f"promotion of {name} refused, {len(plan.failed)} gate(s) failed: {failed}")
    if plan.diff.unchanged:
        raise PromotionError(f"production already has this definition of {name}; nothing to promote")
    if read_snapshot(config_dir, "sandbox").sha256 != plan.sandbox_sha256:
        raise PromotionError(f"{environment_path(config_dir, 'sandbox')} changed since the promotion plan was made; "
                             "nothing was written: review the new plan and promote again")
    with ConfigStore(config_dir).editing("production") as production:
        before = _digest(production.text)
        if before != plan.production_sha256:
            raise PromotionError(f"{production.path} changed since the promotion plan was made; "
                                 "nothing was written: review the new plan and promote again")
        production.upsert_destination(plan.destination)
        after = _digest(production.text)
    # The file is saved when the block ends; the entry follows, so it only records what happened.
    try:
        entry = Ledger(history_path(data_dir)).append(
            Action.PROMOTION, operator=plan.operator, environment="production", subject=name,
            details={
                "diff_sha256": plan.diff.sha256,
                "config_hash": plan.destination.config_hash(),
                "credential": plan.destination.credential,
                "test_send_run": plan.test_send_run,
                "new_in_production": plan.diff.new_in_production,
                "fields": [change.field for change in plan.diff.changes],
                "production_sha256_before": before,
                "production_sha256_after": after,
            },
        )
    except LedgerError as exc:
        raise PromotionError(f"{name} was written to {production.path}, but its audit entry could not be "
                             f"recorded: {exc}. Record it by hand and check the history database") from exc
    return PromotionResult(production.path, entry)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
