"""`attentive-console runs | rejections RUN_ID | retry RUN_ID | verify RUN_ID`: the send history.

Identifiers are shown masked to operators with restricted PII access, and they cannot export them
unmasked (`--export FILE --masked` works for them).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from tui.attentive.outcomes import FatalAttentiveError
from tui.cli.config_cmd import confirm_by_name, guarded, operator_of, print_json, print_table
from tui.cli.exit_codes import CONNECTION, OK, OVER_THRESHOLD, PENDING, USAGE
from tui.settings.audit import record
from tui.sync.audit_details import export_details
from tui.cli.send_cmd import execute, find_target
from tui.settings.access import Operator
from tui.settings.connection import resolve_target
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action
from tui.settings.loader import load_environment
from tui.settings.model import ENVIRONMENTS
from tui.sync import reasons
from tui.sync.engine import SendRequest
from tui.cli.jobs_cmd import add_wait_options
from tui.sync.verify import CannotVerify, verify_run
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.job_store import JobStore
from tui.sync.lock import shown_status
from tui.sync.rejection_export import export_csv, shown_fields
from tui.sync.progress_text import verification_summary
from tui.sync.rejections import RejectionFilter, RejectionLog
from tui.sync.terminal_text import escape_controls


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="the send history, newest first")
    runs.add_argument("--destination", metavar="D")
    runs.add_argument("--env", choices=ENVIRONMENTS)
    runs.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler=run_runs)

    rejections = sub.add_parser("rejections", help="the rejection log of a run, filtered and paged")
    rejections.add_argument("run_id", type=int, metavar="RUN_ID")
    rejections.add_argument("--reason", metavar="CODE", help=f"one of: {', '.join(reasons.ALL)}")
    rejections.add_argument("--status", type=int, metavar="N", help="HTTP status Attentive answered")
    rejections.add_argument("--search", metavar="TEXT", help="text in the identifier or the message")
    rejections.add_argument("--limit", type=int, default=100, metavar="N", help="rows to print (default 100)")
    rejections.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N matches")
    rejections.add_argument("--export", metavar="FILE.csv", help="write every matching rejection to a CSV file")
    rejections.add_argument("--masked", action="store_true", help="mask identifiers in the export")
    rejections.add_argument("--force", action="store_true", help="with --export: replace FILE.csv if it exists")
    rejections.add_argument("--json", action="store_true", help="print JSON")
    rejections.set_defaults(handler=run_rejections)

    retry = sub.add_parser("retry", help="send again only the rejected, failed and unconfirmed rows of a run, as a new run")
    retry.add_argument("run_id", type=int, metavar="RUN_ID")
    add_wait_options(retry, "after submitting, follow the bulk jobs to their results")
    retry.add_argument("--yes", action="store_true",
                       help="retry a production run without typing the destination's name (for scripts)")
    retry.add_argument("--json", action="store_true", help="print one JSON summary object")
    retry.set_defaults(handler=run_retry)

    verify = sub.add_parser("verify", help="read back profiles a run sent and compare them attribute by attribute")
    verify.add_argument("run_id", type=int, metavar="RUN_ID")
    verify.add_argument("--limit", type=int, default=100, metavar="N", help="profiles to read back (default 100)")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(handler=run_verify)


def _load_run(args: argparse.Namespace) -> RunRecord:
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        run = store.get_run(args.run_id)
    if run is None:
        raise SettingsError(f"there is no run {args.run_id}; list them with `attentive-console runs`")
    return run


@guarded
def run_runs(args: argparse.Namespace) -> int:
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        runs = store.list_runs(destination=args.destination, environment=args.env, limit=args.limit)
    if args.json:
        print_json([{**r.as_dict(), "status": shown_status(r, args.ctx.data_dir), "duration_s": round(r.duration_s, 3)}
                    for r in runs])
        return OK
    if not runs:
        print("no runs yet")
        return OK
    rows = [[str(r.id), datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M"), r.environment, r.destination,
             r.mode, shown_status(r, args.ctx.data_dir), f"{r.rows_read:,}", f"{r.accepted:,}", f"{r.submitted:,}",
             f"{r.rejected:,}", f"{r.invalid:,}", f"{r.skipped_unchanged + r.skipped_pending:,}", f"{r.failed:,}",
             f"{r.unconfirmed:,}", f"{r.duration_s:.1f}s", r.operator]
            for r in runs]
    print_table(["RUN", "STARTED", "ENV", "DESTINATION", "MODE", "STATUS", "ROWS", "ACCEPTED", "SUBMITTED", "REJECTED",
                 "INVALID", "UNCHANGED", "FAILED", "UNCONFIRMED", "TIME", "OPERATOR"], rows)
    return OK


def _operator_for(args: argparse.Namespace, run: RunRecord) -> Operator:
    return operator_of(args, load_environment(args.ctx.config_dir, run.environment))


@guarded
def run_rejections(args: argparse.Namespace) -> int:
    run = _load_run(args)
    operator = _operator_for(args, run)
    if args.reason and args.reason not in reasons.ALL:
        print(f"error: unknown reason {args.reason!r}; use one of: {', '.join(reasons.ALL)}", file=sys.stderr)
        return USAGE
    flt = RejectionFilter(args.reason, args.status, args.search)
    masked = operator.restricted_pii
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        log = RejectionLog(store.connection, run.id)
        if args.export:
            if not args.masked:
                operator.require_unmasked_export()
            count = export_csv(Path(args.export), log, flt, masked=masked or args.masked, overwrite=args.force)
            record(args.ctx, Action.REJECTIONS_EXPORTED, run.destination, environment=run.environment,
                   details=export_details(run.id, args.export, count, masked or args.masked, args.reason, args.status, args.search))
            print(f"wrote {count:,} rejections of run {run.id} to {args.export}")
            return OK
        facets = log.facets(flt)
        page = log.page(flt, limit=args.limit, offset=args.offset)
    if args.json:
        items = []
        for r in page:
            identifier, message = shown_fields(r, masked)
            items.append({"row": r.row, "reason": r.reason, "status": r.status, "identifier": identifier or None,
                          "message": message or None})
        print_json({"run_id": run.id, "total": facets.total, "reasons": facets.reasons,
                    "statuses": {str(k): v for k, v in facets.statuses.items()}, "rejections": items})
        return OK
    by_reason = ", ".join(f"{k} {v:,}" for k, v in sorted(facets.reasons.items(), key=lambda kv: -kv[1]))
    print(f"run {run.id}: {facets.total:,} rejections match" + (f" ({escape_controls(by_reason)})" if by_reason else ""))
    rows = []
    for r in page:
        identifier, message = shown_fields(r, masked)
        rows.append([str(r.row), r.reason, str(r.status or ""), identifier, message[:100]])
    if rows:
        print_table(["ROW", "REASON", "HTTP", "IDENTIFIER", "MESSAGE"], rows)
    if facets.total > args.offset + len(page):
        print(f"... {facets.total - args.offset - len(page):,} more (use --offset {args.offset + len(page)})")
    return OK


@guarded
def run_retry(args: argparse.Namespace) -> int:
    run = _load_run(args)
    target = find_target(args, run.environment, run.destination, "retry")
    target.operator.require_writable("retry")
    if run.environment == "production":  # a retry is a production send: it confirms like one
        refused = confirm_by_name(target.destination.name, "send it to production again", yes=args.yes)
        if refused is not None:
            print(f"error: not sent: {refused}", file=sys.stderr)
            return USAGE
    request = SendRequest(environment=run.environment, destination=target.destination, source=None,
                          operator=args.ctx.operator, data_dir=args.ctx.data_dir, retry_of=run.id)
    return execute(args, target, request)


@guarded
def run_verify(args: argparse.Namespace) -> int:
    run = _load_run(args)
    target = find_target(args, run.environment, run.destination, "verify")
    target.operator.require_writable("verify")  # it records the verification, which promotion reads
    connection = resolve_target(target.environment, target.destination.credential,
                                secrets_file=args.ctx.secrets_file, data_dir=args.ctx.data_dir)
    try:
        with HistoryStore(args.ctx.data_dir) as store:
            pending = JobStore(store.connection).pending_counts([run.id]).get(run.id, 0)
            if pending:
                print(f"run {run.id}: {pending} bulk job(s) still processing at Attentive; the read-back needs their "
                      f"results first: attentive-console jobs --run {run.id} --wait", file=sys.stderr)
                return PENDING
            result = asyncio.run(verify_run(store, run, target.destination, connection.base_url, connection.api_key,
                                            limit=max(1, min(args.limit, 100))))
    except CannotVerify as err:
        print(f"error: {err}", file=sys.stderr)
        return USAGE
    except FatalAttentiveError as err:
        print(f"error: {err}", file=sys.stderr)
        return CONNECTION
    if args.json:
        print_json({"run_id": run.id, "state": result.verdict, "passed": result.passed, "checked": result.checked,
                    "matched": result.matched, "mismatched": result.mismatched, "missing": result.missing,
                    "details": result.details})
    else:
        print(f"run {run.id}: {target.destination.name} -> {run.environment}")
        for line in verification_summary(result):
            print(line)
    return {"matched": OK, "pending": PENDING}.get(result.verdict, OVER_THRESHOLD)
