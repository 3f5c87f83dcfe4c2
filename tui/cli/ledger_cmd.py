"""`attentive-console ledger [--json]` lists the audit ledger; `ledger verify` checks its chain."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tui.core.exit_codes import OK, OVER_THRESHOLD, USAGE
from tui.settings.ledger import Action, Ledger, LedgerEntry, VerifyResult
from tui.settings.ledger_promotions import UnfinishedPromotion
from tui.settings.paths import history_path
from tui.sync.terminal_text import escape_lines

_HEX64 = re.compile(r"[0-9a-f]{64}")


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
    """Exit 1 when the chain is broken or a promotion is unfinished; an unrecorded change is a note."""
    db_path = history_path(args.ctx.data_dir)
    if not db_path.exists():
        print(f"no history database at {db_path}: nothing has been recorded yet", file=sys.stderr)
        return USAGE
    result = Ledger(db_path).verify(expect_head=args.expect_head)
    if args.json:
        print(json.dumps(_result_json(result), indent=2))
    else:
        print(escape_lines(_result_text(result, db_path)))  # reasons quote paths and names from the files
    return OK if result.ok and not result.unfinished else OVER_THRESHOLD


def _result_text(result: VerifyResult, db_path: Path) -> str:
    if result.broken is None:
        keep = "(keep it; 'ledger verify --expect-head' checks against it)"
        lines = [f"ledger OK: {result.checked} entries, chain intact",
                 f"head: {result.head_seq}:{result.head_hash}  {keep}"]
    else:
        where = f"entry {result.broken.seq}" if result.broken.seq is not None else "the end of the ledger"
        lines = [f"ledger BROKEN at {where}: {result.broken.reason}",
                 f"{result.checked} entries before it match; everything from {where} on cannot be trusted",
                 f"  in {db_path}; `attentive-console history check` says what to do"]
    for unfinished in result.unfinished:
        lines += [f"UNFINISHED promotion ({unfinished.state.value}): {unfinished.reason}", f"  fix: {unfinished.fix}"]
    if result.unrecorded is not None:
        lines += [f"note: {result.unrecorded.reason}", f"  fix: {result.unrecorded.fix}"]
    return "\n".join(lines)


def _result_json(result: VerifyResult) -> dict:
    return {
        "ok": result.ok and not result.unfinished,
        "chain_intact": result.ok,
        "checked": result.checked,
        "head": {"seq": result.head_seq, "hash": result.head_hash},
        "broken": None if result.broken is None else {"seq": result.broken.seq, "reason": result.broken.reason},
        "unfinished_promotions": [unfinished_json(u) for u in result.unfinished],
        "unrecorded_change": None if result.unrecorded is None else {
            "since_seq": result.unrecorded.entry.seq, "reason": result.unrecorded.reason,
            "fix": result.unrecorded.fix},
    }


def unfinished_json(unfinished: UnfinishedPromotion) -> dict:
    return {"seq": unfinished.entry.seq, "destination": unfinished.destination, "production": unfinished.state.value,
            "reason": unfinished.reason, "fix": unfinished.fix}
