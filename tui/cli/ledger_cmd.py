"""`attentive-console ledger [--json]` lists the audit ledger; `ledger verify` checks its chain."""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tui.attentive.secret import ApiKey
from tui.cli.context import CliContext
from tui.cli.exit_codes import OK, OVER_THRESHOLD, USAGE
from tui.settings.ledger import Action, Ledger, LedgerEntry, VerifyResult
from tui.settings.model import Destination
from tui.settings.promotion_diff import diff_destination
from tui.sync.engine import SendRequest, SendResult
from tui.sync.history_schema import history_path


_HEX64 = re.compile(r"[0-9a-f]{64}")


def record(ctx: CliContext, action: Action, subject: str, *, environment: str | None = None,
           details: Mapping[str, Any] | None = None, secrets: Iterable[ApiKey] = ()) -> LedgerEntry:
    """The one line a command adds after a change it made: an audit entry by the operator running it.
    Raises LedgerError (a SettingsError: exit 2 under `guarded`) when the entry cannot be written."""
    return Ledger(history_path(ctx.data_dir)).append(
        action, operator=ctx.operator, environment=environment, subject=subject, details=details, secrets=secrets)


def change_details(destination: Destination, before: Destination, new: bool) -> dict[str, Any]:
    """What a destination.added/edited entry says: the definition's hash and, for an edit, the fields changed."""
    details: dict[str, Any] = {"config_hash": destination.config_hash(), "credential": destination.credential}
    if not new:
        details["changed"] = [change.field for change in diff_destination(destination, before).changes]
    return details


def send_started_details(request: SendRequest) -> dict[str, Any]:
    return {"source": str(request.source) if request.source else None, "sample": request.sample,
            "full": request.full, "rate": request.rate, "resume_run_id": request.resume_run_id,
            "retry_of": request.retry_of, "config_hash": request.destination.config_hash()}


def send_finished_details(result: SendResult, exit_code: int) -> dict[str, Any]:
    run = result.run
    details: dict[str, Any] = {
        "run_id": run.id, "mode": run.mode, "status": run.status, "exit_code": exit_code, "rows_read": run.rows_read,
        "accepted": run.accepted, "rejected": run.rejected, "invalid": run.invalid,
        "skipped_unchanged": run.skipped_unchanged, "failed": run.failed,
    }
    if result.verification is not None:
        check = result.verification
        details["verification"] = {"passed": check.passed, "checked": check.checked,
                                   "mismatched": check.mismatched, "missing": check.missing}
    return details


def export_details(run_id: int, path: str, rows: int, masked: bool, reason: str | None, status: int | None,
                   search: str | None) -> dict[str, Any]:
    # The search text may be an identifier: the entry says a text filter applied, not what it was.
    return {"run_id": run_id, "file": str(Path(path).resolve()), "rows": rows, "masked": masked,
            "filter": {"reason": reason, "status": status, "text": search is not None}}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ledger", help="list the audit ledger, or verify its hash chain",
                            description="List the audit ledger (oldest first), or verify its hash chain.")
    parser.add_argument("--json", action="store_true", help="print entries as JSON")
    parser.add_argument("--action", choices=sorted({a.value for a in Action} | {"credential", "destination", "send"}),
                        help="only entries of this action (a prefix such as 'credential' matches all of its kind)")
    parser.add_argument("--subject", help="only entries about this credential, destination or run")
    parser.add_argument("--limit", type=_positive_int, help="only the newest N entries")
    parser.set_defaults(handler=run_list)
    actions = parser.add_subparsers(dest="ledger_command", metavar="verify")
    verify = actions.add_parser("verify", help="check the hash chain; exit 1 naming the first entry that does not match")
    # SUPPRESS: so `ledger --json verify` keeps the parent's flag instead of the subparser's default.
    verify.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON")
    verify.add_argument("--expect-head", metavar="SEQ:HASH", type=_head,
                        help="a head printed by an earlier verify; also catches removed newest entries")
    verify.set_defaults(handler=run_verify)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _head(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("expected SEQ:HASH as printed by 'ledger verify', e.g. 12:3f2a...")
    return int(seq), digest.lower()


def run_list(args: argparse.Namespace) -> int:
    ledger = Ledger(history_path(args.ctx.data_dir))
    entries = ledger.entries(action=args.action, subject=args.subject, limit=args.limit)
    if args.json:
        print(json.dumps([entry.to_json() for entry in entries], indent=2))
        return OK
    if not entries:
        print("the audit ledger is empty")
        return OK
    for entry in entries:
        print(format_entry(entry))
    return OK


def format_entry(entry: LedgerEntry) -> str:
    """One line per entry; details compacted (hashes shortened, empty values left out): --json has them whole."""
    details = " ".join(f"{name}={_short(value)}" for name, value in entry.details.items()
                       if value is not None and value is not False)
    environment = entry.environment or "-"
    return (f"{entry.seq:>5}  {entry.at[:19]}Z  {entry.operator:<10} {environment:<10} {entry.action:<19} "
            f"{entry.subject}  {details}").rstrip()


def _short(value: object) -> str:
    if isinstance(value, str):
        return value[:12] if _HEX64.fullmatch(value) else value
    if isinstance(value, list) and len(value) > 3:
        return f"[{len(value)} items]"
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 40 else text[:37] + "..."


def run_verify(args: argparse.Namespace) -> int:
    db_path = history_path(args.ctx.data_dir)
    if not db_path.exists():
        print(f"no history database at {db_path}: nothing has been recorded yet", file=sys.stderr)
        return USAGE
    result = Ledger(db_path).verify(expect_head=args.expect_head)
    if args.json:
        print(json.dumps(_result_json(result), indent=2))
    elif result.ok:
        print(f"ledger OK: {result.checked} entries, chain intact")
        print(f"head: {result.head_seq}:{result.head_hash}  (keep it; 'ledger verify --expect-head' checks against it)")
    else:
        where = f"entry {result.broken.seq}" if result.broken.seq is not None else "the end of the ledger"
        print(f"ledger BROKEN at {where}: {result.broken.reason}")
        print(f"{result.checked} entries before it match; everything from {where} on cannot be trusted")
    return OK if result.ok else OVER_THRESHOLD


def _result_json(result: VerifyResult) -> dict:
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head": {"seq": result.head_seq, "hash": result.head_hash},
        "broken": None if result.ok else {"seq": result.broken.seq, "reason": result.broken.reason},
    }
