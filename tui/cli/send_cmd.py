"""`attentive-console send DESTINATION FILE`: send an audience, headless, with a live progress line.

A bulk send ends once every batch is submitted (Attentive answered 202): its rows are `submitted`
and the run `awaiting_results` until its jobs are followed (`jobs --wait`, the console, or
`send --wait` right away). Exit codes: 0 submitted (or done) with rejections within the
destination's threshold; 1 rejections above it (checked again when results arrive with --wait) or a
read-back that did not match; 2 usage, config or input error (nothing sent); 3 connection or auth
failure; 4 with --wait, results or the read-back still pending at the timeout; 130 cancelled
(SIGINT/SIGTERM: what is in flight is drained and recorded; resume it later).

A production send (not a dry run) first asks the operator to type the destination's name; scripts
pass --yes, and without either (no terminal) it is refused with exit 2.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tui.attentive.durations import DurationError, parse_duration
from tui.attentive.outcomes import FatalAttentiveError
from tui.cli.config_cmd import add_env_option, confirm_by_name, guarded, print_json
from tui.cli.jobs_cmd import add_wait_options, follow, follow_failure
from tui.core import sends
from tui.core.exit_codes import USAGE
from tui.core.send_constants import with_constants
from tui.core.workspace import Target
from tui.settings.attribute_tables import parse_set
from tui.settings.errors import SettingsError
from tui.settings.model import Destination
from tui.settings.segment_file_settings import SEGMENT_FILE_ONLY
from tui.sync import history as hist
from tui.sync.control import SendControl
from tui.sync.engine import SAMPLE_MAX, SAMPLE_MIN, SendRefused, SendRequest, SendResult, ShrinkRefused, run_send
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.job_schedule import READ_BACK_WINDOW_S
from tui.sync.job_store import JobStore
from tui.sync.lock import SendLocked
from tui.sync.number_traps import scan_source
from tui.sync.profiles import ProfileBuilder
from tui.sync.progress import Progress
from tui.sync.progress_text import audience_summary, progress_line, run_summary, verification_summary
from tui.sync.senders import BULK_POSTS_IN_FLIGHT, V1_WORKERS
from tui.sync.source_query import spool_query
from tui.sync.source_spool import spool
from tui.sync.sources import SourceError, SourceSpec
from tui.sync.terminal_text import escape_controls, escape_lines

RESUME_HELP = (
    "continue run RUN_ID (killed, cancelled or failed) on the same file: rows already finished are not "
    f"sent again; rows that were in flight when it stopped (at most {BULK_POSTS_IN_FLIGHT} bulk batches of "
    f"256, or {V1_WORKERS} v1 calls) are sent once more, which is harmless: setting an attribute is idempotent"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "send", help="send an audience file to a destination",
        description="Send an audience (CSV, TSV with a header row, or JSON Lines) to a destination. "
                    "A bulk send ends once Attentive has accepted every batch; its results arrive later "
                    "(follow them with --wait or `attentive-console jobs --wait`). "
                    "Exit codes: 0 submitted within the threshold, 1 rejections above the threshold, "
                    "2 usage/config/input error, 3 connection or auth failure, 4 still pending at the "
                    "--wait timeout, 130 cancelled.",
    )
    parser.add_argument("destination")
    parser.add_argument("files", nargs="*", metavar="SOURCE",
                        help="the audience: a file (.csv .tsv .jsonl .ndjson .parquet, text also .gz or one-file .zip), "
                             "a folder or a quoted glob of one export's parts, several files as parts, or - for "
                             "standard input (optional with --resume)")
    add_env_option(parser)
    parser.add_argument("--query", metavar="SQL",
                        help="send the result of a DuckDB query over files instead of a SOURCE, e.g. "
                             "\"SELECT * FROM 'exports/*.parquet' WHERE tier = 'Gold'\" (needs the query extra)")
    parser.add_argument("--dry-run", action="store_true", help="validate, diff and count what would be sent; send nothing")
    parser.add_argument("--sample", type=int, metavar="N",
                        help=f"test send: {SAMPLE_MIN}-{SAMPLE_MAX} rows spread over the file, then read them back")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="constants",
                        help="a constant attribute sent on every profile of this send (repeatable)")
    parser.add_argument("--allow-shrink", action="store_true",
                        help="an audience destination: send even when more of its members would leave (be sent false) "
                             "than its audience_shrink_limit allows, because the export really is smaller")
    parser.add_argument("--full", action="store_true", help="send every profile, also those unchanged since the last send")
    parser.add_argument("--rate", type=float, metavar="R", help="requests per second, at most the endpoint's limit")
    parser.add_argument("--resume", type=int, metavar="RUN_ID", help=RESUME_HELP)
    add_wait_options(parser, "after submitting, follow the bulk jobs (and a test send's read-back) to their results")
    parser.add_argument("--verify-window", type=_window, default=READ_BACK_WINDOW_S, metavar="DURATION",
                        help="with --sample: how long the read-back is retried until it matches (default 24h; "
                             "Attentive may take that long to show changes)")
    parser.add_argument("--yes", action="store_true",
                        help="send to production without typing the destination's name (for scripts and cron)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary object")
    parser.set_defaults(handler=run)


CLI_SHRINK_OVERRIDE = "send again with --allow-shrink"


def _window(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the window must be longer than 0s, e.g. 24h")
    return seconds


@guarded
def run(args: argparse.Namespace) -> int:
    if args.resume is None and not args.files and args.query is None:
        print("error: give the audience SOURCE, or --query SQL (or --resume RUN_ID to continue a run)", file=sys.stderr)
        return USAGE
    if args.query is not None and (args.files or args.resume is not None):
        print("error: --query is the audience: give no SOURCE and no --resume beside it (a resume reads the run's "
              "spooled result)", file=sys.stderr)
        return USAGE
    target = args.ctx.target(args.env, args.destination, "send")
    if target.destination.kind == "segment-file":  # before a stdin or a query is spooled for nothing
        print(f"error: {SEGMENT_FILE_ONLY.format(name=target.destination.name)}", file=sys.stderr)
        return USAGE
    try:
        target = with_constants(target, args.constants)
    except SettingsError as err:
        print(f"error: {escape_controls(str(err))}", file=sys.stderr)
        return USAGE
    try:
        source = _source(args)
    except SourceError as err:
        print(f"error: {escape_controls(str(err))}", file=sys.stderr)
        return USAGE
    try:
        request = sends.send_request(args.ctx, target, source, sample=args.sample,
                                     full=args.full, dry_run=args.dry_run, rate=args.rate,
                                     resume_run_id=args.resume, verify_window_s=args.verify_window,
                                     send_constants=parse_set(args.constants)[0], allow_shrink=args.allow_shrink,
                                     source_query=args.query)
    except sends.RateRefused as err:
        print(f"error: --rate: {err}", file=sys.stderr)
        return USAGE
    code = execute(args, target, request, "send it to production")
    if args.dry_run and request.source is not None:
        _dry_run_notes(args, target.destination, request.source)
    return code


def _source(args: argparse.Namespace) -> SourceSpec | None:
    """One path, the parts named, or standard input or a query's result spooled to the data directory."""
    if args.query is not None:
        return spool_query(args.query, args.ctx.data_dir)
    if not args.files:
        return None
    if "-" in args.files:
        if len(args.files) > 1:
            raise SourceError("-: standard input is the whole audience; name no other file beside it")
        return spool(sys.stdin.buffer, args.ctx.data_dir, is_terminal=sys.stdin.isatty())
    paths = [Path(name) for name in args.files]
    return paths[0] if len(paths) == 1 else paths


def _dry_run_notes(args: argparse.Namespace, destination: Destination, source: SourceSpec) -> None:
    """The constants every profile (or event) gets and the untyped columns Attentive would make Numbers."""
    if destination.constants and not args.json:
        shown = ", ".join(f"{name} = {value!r}" for name, value in destination.constants.items())
        where = "event" if destination.sends_events else "profile"
        print(escape_lines(f"  constants on every {where}: {shown}"))
    if destination.sends_once:
        return  # Attentive types attributes by their first value; nothing says it does so for event properties
    try:
        warnings = scan_source(destination, ProfileBuilder(destination).columns, source)
    except (SourceError, ValueError):
        return  # the run above already said why the file cannot be read
    for warning in warnings:
        print(f"warning: {escape_controls(warning)}", file=sys.stderr)


def execute(args: argparse.Namespace, target: Target, request: SendRequest, action: str) -> int:
    """Confirm a production send, run the request with signals, a progress line and a summary;
    return the exit code."""
    if sends.needs_confirmation(request):  # as the console asks before a production send
        refused = confirm_by_name(target.destination.name, action, yes=args.yes)
        if refused is not None:
            print(f"error: not sent: {refused}", file=sys.stderr)
            return USAGE
    try:
        request = sends.connected(args.ctx, target, request)
    except SettingsError as err:
        print(f"error: {escape_controls(str(err))}", file=sys.stderr)
        return USAGE
    try:
        result = asyncio.run(_drive(request, show_progress=not args.json and sys.stderr.isatty()))
    except (SourceError, SendRefused, SendLocked) as err:
        said = f"{err}: {CLI_SHRINK_OVERRIDE}" if isinstance(err, ShrinkRefused) else str(err)
        print(f"error: {escape_controls(said)}", file=sys.stderr)
        return sends.send_refused(args.ctx, request, said)
    waited = None
    if getattr(args, "wait", False) and result.stop is None and result.run.status in (hist.AWAITING, hist.FINISHED):
        try:
            waited = sends.Waited(follow(args, run_ids=[result.run.id], wait_read_backs=True,
                                         show_progress=not args.json and sys.stderr.isatty()).timed_out)
        except (FatalAttentiveError, asyncio.CancelledError, KeyboardInterrupt) as exc:
            return follow_failure(exc)
        with HistoryStore(args.ctx.data_dir, readonly=True) as store:
            run = store.get_run(result.run.id)
            assert run is not None
            waited.verification = store.latest_verification(run.id)
            waited.jobs_pending = JobStore(store.connection).pending_counts([run.id]).get(run.id, 0)
        result = dataclasses.replace(result, run=run)
    return report(args, target.destination, result, waited)


async def _drive(request: SendRequest, *, show_progress: bool) -> SendResult:
    control = SendControl()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, control.cancel)
    console = Console(stderr=True, highlight=False)
    live = Live(Text(""), console=console, refresh_per_second=5, transient=True) if show_progress else None

    told = request.dry_run  # how long the send takes, said once, from its first snapshot (before anything leaves)

    def on_progress(progress: Progress) -> None:
        nonlocal told
        if not told and progress.total_rows_estimate is not None:
            told = True
            note = sends.duration_note(request.destination, progress.total_rows_estimate)
            if note is not None:
                console.print(Text(f"note: {escape_controls(note)}"), soft_wrap=True)  # above the live line
        if live is not None:
            live.update(Text(progress_line(progress), no_wrap=True, overflow="ellipsis"))

    try:
        if live is not None:
            live.start()
        return await run_send(request, control=control, on_progress=on_progress)
    finally:
        if live is not None:
            live.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def report(args: argparse.Namespace, destination: Destination, result: SendResult,
           waited: sends.Waited | None = None) -> int:
    run = result.run
    if result.stop is not None and result.stop.reason == "history":
        print(f"error: {escape_controls(result.stop.message)}: attentive-console send {run.destination} "
              f"--env {run.environment} --resume {run.id}", file=sys.stderr)
    closed = sends.send_finished(args.ctx, result, destination, waited)
    code = closed.code
    if closed.warning is not None:  # the same full disk: the summary below still tells what happened
        print(f"warning: {escape_controls(closed.warning)}", file=sys.stderr)
    verification = waited.verification if waited is not None else None
    if args.json:
        summary = {
            "run_id": run.id, "destination": run.destination, "environment": run.environment, "status": run.status,
            "rows_read": run.rows_read, "accepted": run.accepted, "rejected": run.rejected, "invalid": run.invalid,
            "skipped_unchanged": run.skipped_unchanged, "duration_s": round(run.duration_s, 3),
            "failed": run.failed, "not_sent": run.not_sent, "submitted": run.submitted,
            "unconfirmed": run.unconfirmed, "skipped_pending": run.skipped_pending,
            "jobs_pending": waited.jobs_pending if waited is not None else _jobs_pending(args, run),
            "mode": run.mode, "message": run.message, "exit_code": code, "left": run.audience_left,
            "skipped_already_sent": run.skipped_already_sent, "unknown": run.unknown, "stale_events": run.stale_events,
        }
        if result.audience is not None:
            summary["audience"] = dataclasses.asdict(result.audience)
        if result.segment is not None:
            summary["segment"] = dataclasses.asdict(result.segment)
        if verification is not None:
            summary["verification"] = {"state": verification.verdict, "passed": verification.passed,
                                       "checked": verification.checked, "matched": verification.matched,
                                       "mismatched": verification.mismatched, "missing": verification.missing}
        print_json(summary)
    else:
        for line in run_summary(run, destination.rejection_threshold):
            print(escape_lines(line))
        if result.segment is not None and result.segment.created:
            print(escape_lines(f"  segment {result.segment.name!r} created at Attentive "
                               f"(externalId {result.segment.external_id})"))
        if result.audience is not None:
            for line in audience_summary(result.audience, dry_run=run.mode == hist.RunMode.DRY_RUN,
                                         override=CLI_SHRINK_OVERRIDE):
                print(escape_lines(line))
        if verification is not None:
            for line in verification_summary(verification):
                print(escape_lines(line))
        elif run.mode == hist.RunMode.SAMPLE and destination.sends_once:
            print("  events cannot be read back: promotion's gate is this sample's events accepted, none unknown")
        elif run.mode == hist.RunMode.SAMPLE and destination.kind == "segment":
            print("  segment members cannot be read back: promotion's gate is this sample's members accepted in "
                  f"Attentive's job results (`attentive-console jobs --run {run.id} --wait`)")
        elif run.mode == hist.RunMode.SAMPLE and run.status == hist.AWAITING:
            print(f"  read-back: runs once the jobs complete (`attentive-console jobs --run {run.id} --wait`)")
        if waited is not None and waited.timed_out:
            print(f"  still pending at the timeout; follow on with: attentive-console jobs --run {run.id} --wait")
        if run.status in (hist.CANCELLED, hist.FAILED):
            print(f"  resume with: attentive-console send {run.destination} --env {run.environment} --resume {run.id}")
    return code


def _jobs_pending(args: argparse.Namespace, run: RunRecord) -> int:
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        return JobStore(store.connection).pending_counts([run.id]).get(run.id, 0)
