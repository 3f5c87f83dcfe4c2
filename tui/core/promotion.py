"""Promotion of a destination from sandbox to production: the plan (diff + gates) and the write.

`plan_promotion` gathers the evidence (both environment files, the latest sandbox test send from
the history store, the production credential's connection test) and `build_plan` turns it into a
`PromotionPlan` the console and the CLI render alike. `promote` writes the plan: only when every
gate passed and neither environment file changed since the plan was made.

The plan's diff is of the text the write will produce: `build_plan` applies the same
`upsert_destination` that `promote` applies to production.toml, to the text it read, and diffs the
two (`written_text`); `promote` refuses a write whose text is not the one the plan showed.

The write and its audit entries cannot be split by a kill: `promotion.pending` is appended under
production.toml's lock before the file is written, `promotion` after. A promotion interrupted between
the two is reported by `ledger verify` and closed by the next `promote` of that destination: recorded
as done when production.toml has what it promised, abandoned when it has not.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui.core.promotion_evidence import check_production_credential, latest_test_send
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action, Ledger, LedgerEntry, LedgerError
from tui.settings.ledger_promotions import PromisedFile, UnfinishedPromotion
from tui.settings.loader import environment_path, parse_environment, read_config_text
from tui.settings.model import Destination, Environment, EnvironmentName
from tui.settings.paths import history_path
from tui.settings.promotion_diff import DestinationDiff, diff_destination, diff_written
from tui.settings.promotion_gates import (
    CredentialCheck,
    Gate,
    SampleSendEvidence,
    gate_admin,
    gate_production_credential,
    gate_test_send,
    gate_verification,
)
from tui.settings.store import ConfigStore, EnvironmentFile


class PromotionError(SettingsError):
    """The promotion cannot go ahead (no such destination, a failed gate, a file changed meanwhile)."""


@dataclass(frozen=True)
class EnvironmentSnapshot:
    """An environment file as read for a plan; its digest lets `promote` refuse a file changed since.
    `text` is None for an environment built without its file (a test double): its plan's diff is then
    field by field (`diff_destination`), not of a written text."""
    environment: Environment
    sha256: str
    text: str | None = None


@dataclass(frozen=True)
class PromotionPlan:
    destination: Destination        # the definition production will get (credential mapped by name)
    operator: str                   # whom the admin gate judged; promote() acts as them
    diff: DestinationDiff
    gates: tuple[Gate, ...]
    test_send_run: int | None
    sandbox_sha256: str
    production_sha256: str
    interrupted: tuple[UnfinishedPromotion, ...] = ()   # earlier promotions of it never recorded as done
    written_sha256: str | None = None   # of production.toml as the diff shows it written (None: no text)

    @property
    def ok(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def failed(self) -> tuple[Gate, ...]:
        return tuple(gate for gate in self.gates if not gate.passed)


@dataclass(frozen=True)
class PromotionResult:
    path: Path                      # production.toml
    ledger_entry: LedgerEntry       # the `promotion` entry: of this write, or of an interrupted one recorded now
    written: bool = True            # False: production.toml already had it (an interrupted promotion recorded)
    closed: tuple[LedgerEntry, ...] = ()    # entries closing interrupted promotions of the destination


def read_snapshot(config_dir: Path, name: EnvironmentName) -> EnvironmentSnapshot:
    path = environment_path(config_dir, name)
    text = read_config_text(path)
    environment = parse_environment(text, path=path, name=name)
    return EnvironmentSnapshot(environment, _digest(text), text)


def written_text(production: EnvironmentSnapshot, destination: Destination) -> str | None:
    """production.toml as `promote` would write it with `destination` in it; None when there is no
    text to write into, or when the file would not take it (a gate fails then: the credential)."""
    if production.text is None:
        return None
    handle = EnvironmentFile(production.environment.path, production.environment.name, production.text)
    try:
        handle.upsert_destination(destination)
    except SettingsError:
        return None
    return handle.text


def build_plan(name: str, *, sandbox: EnvironmentSnapshot, production: EnvironmentSnapshot, operator: str,
               test_send: SampleSendEvidence | None, credential_check: CredentialCheck | None,
               credential: str | None = None, interrupted: Sequence[UnfinishedPromotion] = ()) -> PromotionPlan:
    """Pure: the diff and the four gates from evidence already gathered. `credential` names the
    production credential to use when it differs from the sandbox destination's; `interrupted` are
    the ledger's unfinished promotions of this destination."""
    source = sandbox.environment.destinations.get(name)
    if source is None:
        available = ", ".join(sorted(sandbox.environment.destinations)) or "none"
        raise PromotionError(f"sandbox has no destination named {name!r} (it has: {available})")
    target = replace(source, credential=credential or source.credential)
    prod_env = production.environment
    written = written_text(production, target)
    if written is not None and production.text is not None:
        diff = diff_written(name, production.text, written, file_name=prod_env.path.name)
    else:
        diff = diff_destination(target, prod_env.destinations.get(name))
    gates = (
        gate_admin(operator, prod_env),
        gate_test_send(target, test_send),
        gate_verification(test_send),
        gate_production_credential(target, prod_env, credential_check),
    )
    return PromotionPlan(
        destination=target,
        operator=operator,
        diff=diff,
        gates=gates,
        test_send_run=test_send.run_id if test_send else None,
        sandbox_sha256=sandbox.sha256,
        production_sha256=production.sha256,
        interrupted=tuple(interrupted),
        written_sha256=None if written is None else _digest(written),
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
    interrupted = [u for u in Ledger(history_path(data_dir)).unfinished_promotions() if u.destination == name]
    return build_plan(name, sandbox=sandbox, production=production, operator=operator, test_send=test_send,
                      credential_check=check, credential=credential, interrupted=interrupted)


def promote(plan: PromotionPlan, *, config_dir: Path, data_dir: Path) -> PromotionResult:
    """Writes the planned destination into production.toml, between its two audit entries.

    Refused when a gate failed, when there is nothing to change (and no interrupted promotion to
    record), or when either environment file changed since the plan was made (the operator approved
    that diff, not another). Interrupted promotions of the destination are closed first."""
    name = plan.destination.name
    if not plan.ok:
        failed = "; ".join(f"{gate.title}: {gate.reason}" for gate in plan.failed)
        raise PromotionError(f"promotion of {name} refused, {len(plan.failed)} gate(s) failed: {failed}")
    if read_snapshot(config_dir, "sandbox").sha256 != plan.sandbox_sha256:
        raise PromotionError(f"{environment_path(config_dir, 'sandbox')} changed since the promotion plan was made; "
                             "nothing was written: review the new plan and promote again")
    ledger = Ledger(history_path(data_dir))
    # Under production.toml's lock from the first entry to the write: what an entry says about the
    # file stays true until it is written, and two promotions cannot close one entry twice.
    with ConfigStore(config_dir).editing("production") as production:
        closed = tuple(_close(ledger, plan.operator, unfinished) for unfinished in ledger.unfinished_promotions()
                       if unfinished.destination == name)
        recorded = next((entry for entry in closed if entry.action == Action.PROMOTION.value), None)
        if plan.diff.unchanged:
            if recorded is None:
                raise PromotionError(f"production already has this definition of {name}; nothing to promote")
            return PromotionResult(production.path, recorded, written=False, closed=closed)
        before = _digest(production.text)
        if before != plan.production_sha256:
            raise PromotionError(f"{production.path} changed since the promotion plan was made; "
                                 "nothing was written: review the new plan and promote again")
        production.upsert_destination(plan.destination)
        if plan.written_sha256 is not None and _digest(production.text) != plan.written_sha256:
            raise PromotionError(f"the write of {name} would not be the diff the plan showed; nothing was written: "
                                 "review the new plan and promote again")
        details = {
            "diff_sha256": plan.diff.sha256,
            "config_hash": plan.destination.config_hash(),
            "credential": plan.destination.credential,
            "test_send_run": plan.test_send_run,
            "new_in_production": plan.diff.new_in_production,
            "fields": [change.field for change in plan.diff.changes],
            "path": str(production.path.resolve()),
            "production_sha256_before": before,
            "production_sha256_after": _digest(production.text),
        }
        try:
            pending = _append(ledger, Action.PROMOTION_PENDING, plan.operator, name, details)
        except LedgerError as exc:
            raise PromotionError(f"{name} was not promoted, nothing was written to production.toml: {exc}") from exc
    # The file is saved when the block ends; a kill from here on leaves the pending entry to `ledger verify`.
    try:
        entry = _append(ledger, Action.PROMOTION, plan.operator, name, {**details, "pending_seq": pending.seq})
    except LedgerError as exc:
        raise PromotionError(f"{name} was written to {production.path} (announced by ledger entry {pending.seq}), "
                             f"but recording its completion failed: {exc}. Once the history database is "
                             f"available, `attentive-console promote {name}` records it") from exc
    return PromotionResult(production.path, entry, closed=closed)


def _close(ledger: Ledger, operator: str, unfinished: UnfinishedPromotion) -> LedgerEntry:
    """The entry an interrupted promotion gets: `promotion` (late) when production.toml has what it
    promised, else `promotion.abandoned` with what the file held instead."""
    pending = unfinished.entry
    if unfinished.state is PromisedFile.WRITTEN:
        return _append(ledger, Action.PROMOTION, operator, pending.subject,
                       {**pending.details, "pending_seq": pending.seq, "recorded_late": True})
    return _append(ledger, Action.PROMOTION_ABANDONED, operator, pending.subject,
                   {"pending_seq": pending.seq, "production": unfinished.state.value})


def _append(ledger: Ledger, action: Action, operator: str, subject: str, details: dict[str, Any]) -> LedgerEntry:
    return ledger.append(action, operator=operator, environment="production", subject=subject, details=details)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
