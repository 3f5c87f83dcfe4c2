"""`attentive-console runs | rejections RUN_ID | retry RUN_ID | verify RUN_ID`: the send history.

Identifiers are shown masked to operators with restricted PII access, and they cannot export them
unmasked (`--export FILE --masked` works for them).
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from tui.attentive.outcomes import FatalAttentiveError
from tui.cli.config_cmd import guarded, print_json, print_table
from tui.cli.jobs_cmd import add_wait_options
from tui.cli.send_cmd import execute
from tui.core import runs, sends
from tui.core.exit_codes import CONNECTION, OK, OVER_THRESHOLD, PENDING, USAGE
from tui.settings.model import ENVIRONMENTS
from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.lock import shown_status
from tui.sync.progress_text import verification_summary
from tui.sync.rejections import RejectionFilter, RejectionLog
from tui.sync.terminal_text import escape_controls
from tui.sync.verify import CannotVerify


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="the send history, newest first")
    runs.add_argument("--destination", metavar="D")
    runs.add_argument("--env", choices=ENVIRONMENTS)
    runs.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler=run_runs)

    rejections = sub.add_parser("rejections", help="the rejection log of a run, filtered and paged")
    rejections.add_argument("run_id", type=int, metavar="RUN_ID")
    add_filter_options(rejections, "rejections")
    rejections.add_argument("--limit", type=int, default=100, metavar="N", help="rows to print (default 100)")
    rejections.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N matches")
    rejections.add_argument("--export", metavar="FILE.csv", help="write every matching rejection to a CSV file")
    rejections.add_argument("--masked", action="store_true", help="mask identifiers in the export")
    rejections.add_argument("--force", action="store_true", help="with --export: replace FILE.csv if it exists")
    rejections.add_argument("--json", action="store_true", help="print JSON")
    rejections.set_defaults(handler=run_rejections)

    retry = sub.add_parser("retry", help="send again only the rejected, failed and unconfirmed rows of a run, as a new run")
    retry.add_argument("run_id", type=int, metavar="RUN_ID")
    add_filter_options(retry, "only the rejections")
    add_wait_options(retry, "after submitting, follow the bulk jobs to their results")
    retry.add_argument("--include-unknown", action="store_true",
                       help="an event destination: also send its events whose fate is unknown (sent without an answer "
                            "that says whether Attentive recorded them); check in Attentive first, as each may arrive twice")
    retry.add_argument("--yes", action="store_true",
                       help="retry a production run without typing the destination's name (for scripts)")
    retry.add_argument("--json", action="store_true", help="print one JSON summary object")
    retry.set_defaults(handler=run_retry)

    verify = sub.add_parser("verify", help="read back profiles a run sent and compare them attribute by attribute")
    verify.add_argument("run_id", type=int, metavar="RUN_ID")
    verify.add_argument("--limit", type=int, default=100, metavar="N", help="profiles to read back (default 100)")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(handler=run_verify)


def add_filter_options(parser: argparse.ArgumentParser, which: str) -> None:
    """The rejection filter of `rejections` and `retry` (the console's facets and `/`)."""
    parser.add_argument("--reason", metavar="CODE", help=f"{which} with this reason, one of: {', '.join(reasons.ALL)}")
    parser.add_argument("--status", type=int, metavar="N", help=f"{which} with this HTTP status from Attentive")
    parser.add_argument("--search", metavar="TEXT", help=f"{which} with this text in the identifier or the message")


def rejection_filter(args: argparse.Namespace) -> RejectionFilter | None:
    """The filter the flags ask for; None for an unknown reason (said on stderr)."""
    if args.reason and args.reason not in reasons.ALL:
        print(f"error: unknown reason {args.reason!r}; use one of: {', '.join(reasons.ALL)}", file=sys.stderr)
        return None
    return RejectionFilter(args.reason, args.status, args.search)


def status_key(status: int | None) -> str:
    """A facet's HTTP status as a JSON key: "none" when no answer came (the console's facet line says so too)."""
    return str(status) if status else "none"


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
             f"{r.rejected:,}", f"{r.invalid:,}", f"{r.skipped_unchanged + r.skipped_pending + r.skipped_already_sent:,}",
             f"{r.failed:,}", f"{r.unconfirmed:,}", f"{r.unknown:,}", f"{r.duration_s:.1f}s", r.operator]
            for r in runs]
    # SKIPPED: unchanged, unchanged in a pending job, or (events) already sent
    print_table(["RUN", "STARTED", "ENV", "DESTINATION", "MODE", "STATUS", "ROWS", "ACCEPTED", "SUBMITTED", "REJECTED",
                 "INVALID", "SKIPPED", "FAILED", "UNCONFIRMED", "UNKNOWN", "TIME", "OPERATOR"], rows)
    return OK


@guarded
def run_rejections(args: argparse.Namespace) -> int:
    run = args.ctx.run(args.run_id)
    masked = runs.identifiers_masked(args.ctx, run)
    flt = rejection_filter(args)
    if flt is None:
        return USAGE
    if args.export:
        exported = runs.export_rejections(args.ctx, run.id, flt, Path(args.export), masked=args.masked,
                                          overwrite=args.force)
        print(f"wrote {exported.rows:,} rejections of run {run.id} to {args.export}")
        return OK
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        log = RejectionLog(store.connection, run.id)
        facets = log.facets(flt)
        page = runs.shown(log.page(flt, limit=args.limit, offset=args.offset), masked)
    if args.json:
        items = [{"row": r.row, "reason": r.reason, "status": r.status, "identifier": r.identifier,
                  "message": r.message} for r in page]
        print_json({"run_id": run.id, "total": facets.total, "reasons": facets.reasons,
                    "statuses": {status_key(k): v for k, v in facets.statuses.items()}, "rejections": items})
        return OK
    by_reason = ", ".join(f"{k} {v:,}" for k, v in sorted(facets.reasons.items(), key=lambda kv: -kv[1]))
    print(f"run {run.id}: {facets.total:,} rejections match" + (f" ({escape_controls(by_reason)})" if by_reason else ""))
    rows = []
    for r in page:
        rows.append([str(r.row), r.reason, str(r.status or ""), r.identifier or "", (r.message or "")[:100]])
    if rows:
        print_table(["ROW", "REASON", "HTTP", "IDENTIFIER", "MESSAGE"], rows)
    if facets.total > args.offset + len(page):
        print(f"... {facets.total - args.offset - len(page):,} more (use --offset {args.offset + len(page)})")
    return OK


@guarded
def run_retry(args: argparse.Namespace) -> int:
    where = rejection_filter(args)
    if where is None:
        return USAGE
    target, request = sends.retry_request(args.ctx, args.run_id, where, include_unknown=args.include_unknown)
    return execute(args, target, request, "send it to production again")  # a production retry confirms like a send


@guarded
def run_verify(args: argparse.Namespace) -> int:
    try:
        run, result = runs.verify(args.ctx, args.run_id, limit=args.limit)
    except runs.ResultsPending as err:
        print(escape_controls(str(err)), file=sys.stderr)
        return PENDING
    except CannotVerify as err:
        print(f"error: {escape_controls(str(err))}", file=sys.stderr)
        return USAGE
    except FatalAttentiveError as err:
        print(f"error: {escape_controls(str(err))}", file=sys.stderr)
        return CONNECTION
    if args.json:
        print_json({"run_id": run.id, "state": result.verdict, "passed": result.passed, "checked": result.checked,
                    "matched": result.matched, "mismatched": result.mismatched, "missing": result.missing,
                    "details": result.details})
    else:
        print(f"run {run.id}: {run.destination} -> {run.environment}")
        for line in verification_summary(result):
            print(line)
    return {"matched": OK, "pending": PENDING}.get(result.verdict, OVER_THRESHOLD)
