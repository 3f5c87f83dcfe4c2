"""`attentive-console promote DESTINATION [--yes] [--json]`: diff, gates, confirmation, write."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.cli.config_cmd import confirm_by_name
from tui.cli.ledger_cmd import unfinished_json
from tui.core.exit_codes import OK, OVER_THRESHOLD, USAGE
from tui.core.promotion import PromotionPlan, PromotionResult, plan_promotion, promote
from tui.core.workspace import Workspace
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action
from tui.sync.terminal_text import escape_controls, escape_lines


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "promote", help="promote a sandbox destination to production, after its gates pass",
        description="Show the destination's sandbox definition against production's and the promotion gates "
                    "(admin, a matching test send within its threshold, a matched read-back, a working production "
                    "credential); when all pass, write it into production.toml and the audit ledger. "
                    "Exit 0 promoted, 1 a gate failed, 2 refused or an error.")
    parser.add_argument("destination", metavar="DESTINATION", help="the sandbox destination's name")
    parser.add_argument("--yes", action="store_true", help="confirm without typing the destination's name")
    parser.add_argument("--json", action="store_true", help="print the plan and the result as one JSON object")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the diff and the gates and write nothing (allowed with --read-only)")
    parser.add_argument("--credential", metavar="NAME",
                        help="the production credential to use, when its name differs from the sandbox destination's")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ctx: Workspace = args.ctx
    name: str = args.destination
    if ctx.read_only and not args.dry_run:
        print("read-only: promotion writes production.toml, so it is refused; "
              "`promote --dry-run` shows the plan without writing", file=sys.stderr)
        return USAGE
    try:
        plan = plan_promotion(name, config_dir=ctx.config_dir, data_dir=ctx.data_dir, secrets_file=ctx.secrets_file,
                              operator=ctx.operator, credential=args.credential)
    except SettingsError as exc:
        print(escape_lines(str(exc)), file=sys.stderr)
        return USAGE
    report: dict[str, Any] = plan_json(plan)
    if not args.json:
        print(escape_lines(render_plan(plan)))  # the diff and the gates quote values from the files
    code, message = _decide(plan, args)
    if code is None:
        code, message, result = _promote(plan, ctx)
        if result is not None:
            report.update(ledger_entry=result.ledger_entry.seq, written=result.written,
                          closed=[entry.seq for entry in result.closed])
    report.update(promoted="ledger_entry" in report, message=message)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(escape_lines(message), file=sys.stdout if code == OK else sys.stderr)
    return code


def _decide(plan: PromotionPlan, args: argparse.Namespace) -> tuple[int | None, str]:
    """The exit code and message when nothing is to be written, or (None, "") to go ahead."""
    name = plan.destination.name
    if not plan.ok:
        failed = len(plan.failed)
        return OVER_THRESHOLD, f"not promoted: {failed} gate{'s' if failed != 1 else ''} failed"
    if plan.diff.unchanged and not plan.interrupted:
        return OK, f"production already has this definition of {name}: nothing to promote"
    if args.dry_run:
        return OK, "dry run: every gate passed; nothing was written"
    if plan.diff.unchanged:  # only the ledger is written: the interrupted promotions' closing entries
        return None, ""
    refused = confirm_by_name(name, "write it into production.toml", yes=args.yes)
    return (None, "") if refused is None else (USAGE, f"not promoted: {refused}")


def _promote(plan: PromotionPlan, ctx: Workspace) -> tuple[int, str, PromotionResult | None]:
    try:
        result = promote(plan, config_dir=ctx.config_dir, data_dir=ctx.data_dir)
    except SettingsError as exc:
        return USAGE, str(exc), None
    name, entry = plan.destination.name, result.ledger_entry
    lines = [f"closed the interrupted promotion of ledger entry {closing.details['pending_seq']} with entry "
             f"{closing.seq}: " + ("production.toml had its content, recorded as done"
                                   if closing.action == Action.PROMOTION.value else
                                   f"production.toml did not have its content ({closing.details['production']})")
             for closing in result.closed if closing is not entry]
    if result.written:
        lines.append(f"promoted {name} to production: {result.path} written, audit ledger entry {entry.seq}")
    else:
        lines.append(f"recorded the interrupted promotion of {name} (ledger entry {entry.details['pending_seq']}): "
                     f"{result.path} already had it; audit ledger entry {entry.seq}")
    return OK, "\n".join(lines), result


def render_plan(plan: PromotionPlan) -> str:
    name = plan.destination.name
    diff = plan.diff
    state = "new in production" if diff.new_in_production else ("unchanged" if diff.unchanged else "changes production")
    lines = [f"Promote {name}: sandbox -> production ({state})", ""]
    if diff.changes and not diff.new_in_production:  # for a new table every field is "added": the text says it
        width = max(len(change.field) for change in diff.changes)
        for change in diff.changes:
            # One line per field even when a value holds a newline.
            lines.append(f"  {change.kind:<8} {change.field:<{width}}  {escape_controls(change.production or '(unset)')}"
                         f" -> {escape_controls(change.sandbox or '(unset)')}")
        lines.append("")
    if diff.changes:
        lines += [diff.unified.rstrip("\n"), f"diff sha256: {diff.sha256}"]
    for unfinished in plan.interrupted:
        lines += ["", f"Interrupted: {unfinished.reason}", "  promoting records how it ended"]
    lines += ["", "Gates:"]
    for gate in plan.gates:
        lines.append(f"  [{gate.verdict}] {gate.title}: {gate.reason}")
        if not gate.passed and gate.fix:
            lines.append(f"         to do: {gate.fix}")
    return "\n".join(lines)


def plan_json(plan: PromotionPlan) -> dict[str, Any]:
    return {
        "destination": plan.destination.name,
        "credential": plan.destination.credential,
        "new_in_production": plan.diff.new_in_production,
        "diff": {
            "sha256": plan.diff.sha256,
            "changes": [{"field": c.field, "kind": c.kind, "production": c.production, "sandbox": c.sandbox}
                        for c in plan.diff.changes],
            "unified": plan.diff.unified,
        },
        "gates": [{"id": g.id, "title": g.title, "passed": g.passed, "pending": g.pending, "reason": g.reason, "fix": g.fix}
                  for g in plan.gates],
        "test_send_run": plan.test_send_run,
        "interrupted": [unfinished_json(u) for u in plan.interrupted],
        "ok": plan.ok,
    }
