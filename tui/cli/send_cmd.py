"""`attentive-console send DESTINATION FILE`: send an audience, headless, with a live progress line.

Exit codes: 0 done; 1 done with rejections above the destination's threshold (or a read-back that
did not match); 2 usage, config or input error (nothing sent); 3 connection or auth failure;
130 cancelled (SIGINT/SIGTERM: what is in flight is drained and recorded; resume it later).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tui.attentive.endpoints import BY_NAME
from tui.cli.config_cmd import add_env_option, guarded, operator_of, print_json
from tui.cli.exit_codes import CANCELLED, CONNECTION, OK, OVER_THRESHOLD, USAGE
from tui.settings.audit import record
from tui.sync.audit_details import send_finished_details, send_started_details
from tui.settings.access import Operator
from tui.settings.connection import resolve_target
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action
from tui.settings.loader import did_you_mean, load_environment
from tui.settings.model import Destination, Environment
from tui.sync import history as hist
from tui.sync.control import SendControl
from tui.sync.engine import SAMPLE_MAX, SAMPLE_MIN, SendRefused, SendRequest, SendResult, run_send
from tui.sync.lock import SendLocked
from tui.sync.progress import Progress
from tui.sync.senders import BULK_BATCHES_IN_FLIGHT, V1_WORKERS
from tui.sync.progress_text import progress_line, run_summary, verification_summary
from tui.sync.sources import SourceError

RESUME_HELP = (
    "continue run RUN_ID (killed, cancelled or failed) on the same file: rows already finished are not "
    f"sent again; rows that were in flight when it stopped (at most {BULK_BATCHES_IN_FLIGHT} bulk batches of "
    f"256, or {V1_WORKERS} v1 calls) are sent once more, which is harmless: setting an attribute is idempotent"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "send", help="send an audience file to a destination",
        description="Send an audience (CSV, TSV with a header row, or JSON Lines) to a destination. "
                    "Exit codes: 0 done, 1 rejections above the threshold, 2 usage/config/input error, "
                    "3 connection or auth failure, 130 cancelled.",
    )
    parser.add_argument("destination")
    parser.add_argument("file", nargs="?", help="the audience file (optional with --resume)")
    add_env_option(parser)
    parser.add_argument("--dry-run", action="store_true", help="validate, diff and count what would be sent; send nothing")
    parser.add_argument("--sample", type=int, metavar="N",
                        help=f"test send: {SAMPLE_MIN}-{SAMPLE_MAX} rows spread over the file, then read them back")
    parser.add_argument("--full", action="store_true", help="send every profile, also those unchanged since the last send")
    parser.add_argument("--rate", type=float, metavar="R", help="requests per second, at most the endpoint's limit")
    parser.add_argument("--resume", type=int, metavar="RUN_ID", help=RESUME_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON summary object")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Target:
    environment: Environment
    destination: Destination
    operator: Operator


def find_target(args: argparse.Namespace, env_name: str, destination_name: str, action: str) -> Target:
    """Load the environment and the destination, and check this operator may send it."""
    environment = load_environment(args.ctx.config_dir, env_name)
    destination = environment.destinations.get(destination_name)
    if destination is None:
        hint = did_you_mean(destination_name, list(environment.destinations))
        known = ", ".join(environment.destinations) or "none"
        raise SettingsError(f"{env_name} has no destination {destination_name!r}"
                            + (f"; did you mean {hint!r}?" if hint else f" (it has: {known})"))
    operator = operator_of(args, environment)
    operator.require_destination(destination, action)
    return Target(environment, destination, operator)


@guarded
def run(args: argparse.Namespace) -> int:
    if args.resume is None and not args.file:
        print("error: give the audience FILE (or --resume RUN_ID to continue a run)", file=sys.stderr)
        return USAGE
    target = find_target(args, args.env, args.destination, "send")
    if not args.dry_run:
        target.operator.require_writable("send")
    limit = BY_NAME[target.destination.endpoint].limit_per_second
    if args.rate is not None and not 0 < args.rate <= limit:
        print(f"error: --rate must be above 0 and at most {limit} (the {target.destination.endpoint} endpoint's "
              "published limit, requests per second)", file=sys.stderr)
        return USAGE
    request = SendRequest(
        environment=args.env, destination=target.destination, source=Path(args.file) if args.file else None,
        operator=args.ctx.operator, data_dir=args.ctx.data_dir, sample=args.sample, full=args.full,
        dry_run=args.dry_run, rate=args.rate, resume_run_id=args.resume,
    )
    return execute(args, target, request)


def execute(args: argparse.Namespace, target: Target, request: SendRequest) -> int:
    """Run a send request with signals, a progress line and a summary; return the exit code."""
    if not request.dry_run:
        try:
            connection = resolve_target(target.environment, target.destination.credential,
                                        secrets_file=args.ctx.secrets_file, data_dir=args.ctx.data_dir)
        except SettingsError as err:
            print(f"error: {err}", file=sys.stderr)
            return USAGE
        request = dataclasses.replace(request, base_url=connection.base_url, api_key=connection.api_key)
        record(args.ctx, Action.SEND_STARTED, target.destination.name, environment=request.environment,
               details=send_started_details(request), secrets=[connection.api_key])
    try:
        result = asyncio.run(_drive(request, show_progress=not args.json and sys.stderr.isatty()))
    except (SourceError, SendRefused, SendLocked) as err:
        print(f"error: {err}", file=sys.stderr)
        return USAGE
    return report(args, target.destination, result)


async def _drive(request: SendRequest, *, show_progress: bool) -> SendResult:
    control = SendControl()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, control.cancel)
    console = Console(stderr=True, highlight=False)
    live = Live(Text(""), console=console, refresh_per_second=5, transient=True) if show_progress else None

    def on_progress(progress: Progress) -> None:
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


def exit_code(result: SendResult, destination: Destination) -> int:
    run = result.run
    if result.stop is not None:
        return CONNECTION
    if run.status == hist.CANCELLED:
        return CANCELLED
    if run.status != hist.FINISHED:
        return OVER_THRESHOLD
    if run.rejection_share > destination.rejection_threshold:
        return OVER_THRESHOLD
    if result.verification is not None and not result.verification.passed:
        return OVER_THRESHOLD
    return OK


def report(args: argparse.Namespace, destination: Destination, result: SendResult) -> int:
    run = result.run
    code = exit_code(result, destination)
    if run.mode != "dry-run":
        record(args.ctx, Action.SEND_FINISHED, run.destination, environment=run.environment,
               details=send_finished_details(result, code))
    if args.json:
        summary = {
            "run_id": run.id, "destination": run.destination, "environment": run.environment, "status": run.status,
            "rows_read": run.rows_read, "accepted": run.accepted, "rejected": run.rejected, "invalid": run.invalid,
            "skipped_unchanged": run.skipped_unchanged, "duration_s": round(run.duration_s, 3),
            "failed": run.failed, "not_sent": run.not_sent, "mode": run.mode, "message": run.message,
            "exit_code": code,
        }
        if result.verification is not None:
            v = result.verification
            summary["verification"] = {"passed": v.passed, "checked": v.checked, "matched": v.matched,
                                       "mismatched": v.mismatched, "missing": v.missing}
        print_json(summary)
    else:
        for line in run_summary(run, destination.rejection_threshold):
            print(line)
        if result.verification is not None:
            for line in verification_summary(result.verification):
                print(line)
        if run.status in (hist.CANCELLED, hist.FAILED):
            print(f"  resume with: attentive-console send {run.destination} --env {run.environment} --resume {run.id}")
    return code
