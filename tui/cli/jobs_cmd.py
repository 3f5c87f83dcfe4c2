"""`attentive-console jobs [--run ID] [--env E] [--wait] [--timeout DURATION] [--json]`: bulk jobs
Attentive is processing, and following them to their results.

Without --wait it lists what the history holds (no API call). With --wait it checks every pending
job when it is due (about a minute after submission, then at doubling intervals up to an hour),
folds each result into its run once, runs the read-back of test sends whose jobs have completed,
and returns when no listed job is pending (exit 0, or 1 when a run's rejections end above its
threshold) or when the timeout passes first (exit 4).
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tui.attentive.durations import DurationError, format_duration, parse_duration
from tui.attentive.outcomes import FatalAttentiveError
from tui.cli.config_cmd import guarded, print_json, print_table
from tui.core.exit_codes import CANCELLED, CONNECTION, OK, OVER_THRESHOLD, PENDING
from tui.settings.errors import SettingsError
from tui.settings.model import ENVIRONMENTS
from tui.sync.follow_targets import follow_resolver
from tui.sync.history import HistoryStore, RunRecord
from tui.sync.history_schema import JOB_PENDING
from tui.sync.job_store import JobRecord, JobStore
from tui.sync.jobs import FollowProgress, FollowResult, JobFollower, Resolve
from tui.sync.terminal_text import escape_controls

DEFAULT_TIMEOUT = "12h"   # Attentive's own bound for a day's records beyond the first 10,000


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "jobs", help="bulk jobs Attentive is processing; --wait follows them to their results",
        description="List the bulk jobs of the history, or follow them with --wait until every listed job is "
                    "resolved. Exit codes: 0 all resolved, 1 a run ended above its rejection threshold, "
                    "3 connection or auth failure, 4 jobs still pending at the timeout, 130 interrupted.",
    )
    parser.add_argument("--run", type=int, metavar="ID", help="only the jobs of run ID (with their raw result lines)")
    parser.add_argument("--env", choices=ENVIRONMENTS, help="only the jobs of runs in this environment")
    add_wait_options(parser, "follow the jobs until every listed one is resolved")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_jobs)


def add_wait_options(parser: argparse.ArgumentParser, wait_help: str) -> None:
    parser.add_argument("--wait", action="store_true", help=wait_help)
    parser.add_argument("--timeout", type=_duration, default=None, metavar="DURATION",
                        help=f"with --wait, give up after this long, e.g. 30m, 2h (default {DEFAULT_TIMEOUT})")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def timeout_of(args: argparse.Namespace) -> float:
    return args.timeout if args.timeout is not None else parse_duration(DEFAULT_TIMEOUT)


def resolver(args: argparse.Namespace) -> Resolve:
    return follow_resolver(args.ctx.config_dir, args.ctx.secrets_file, args.ctx.data_dir)


def follow(args: argparse.Namespace, *, run_ids: Sequence[int] | None = None, environment: str | None = None,
           wait_read_backs: bool = False, show_progress: bool) -> FollowResult:
    """Follow jobs (and read-backs) of the scope until done or the timeout; ctrl+c/SIGTERM stop it
    at once (nothing is lost: a check in progress is simply made again later)."""
    return asyncio.run(_follow(args, run_ids, environment, wait_read_backs, show_progress))


async def _follow(args: argparse.Namespace, run_ids: Sequence[int] | None, environment: str | None,
                  wait_read_backs: bool, show_progress: bool) -> FollowResult:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    console = Console(stderr=True, highlight=False)
    live = Live(Text(""), console=console, refresh_per_second=2, transient=True) if show_progress else None
    on_progress: Callable[[FollowProgress], None] | None = None
    if live is not None:
        def on_progress(progress: FollowProgress) -> None:
            live.update(Text(progress_line(progress), no_wrap=True, overflow="ellipsis"))
        live.start()
    try:
        async with JobFollower(args.ctx.data_dir, resolver(args), run_ids=run_ids, environment=environment) as follower:
            return await follower.follow(timeout_s=timeout_of(args), wait_read_backs=wait_read_backs,
                                         on_progress=on_progress)
    finally:
        if live is not None:
            live.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def progress_line(progress: FollowProgress) -> str:
    jobs = progress.jobs
    parts = [f"jobs: {jobs.get(JOB_PENDING, 0):,} pending"]
    parts += [f"{count:,} {state}" for state, count in sorted(jobs.items()) if state != JOB_PENDING and count]
    if progress.read_backs_pending:
        parts.append(f"{progress.read_backs_pending} read-back(s) pending")
    if progress.next_check_at is not None:
        parts.append(f"next check in {format_duration(max(0.0, progress.next_check_at - time.time()))}")
    parts.append(f"{progress.checks:,} status calls")
    if progress.problem:
        parts.append(escape_controls(progress.problem))
    return " | ".join(parts)


def follow_failure(exc: BaseException) -> int:
    """The exit code (with its message) of a follow that could not go on."""
    if isinstance(exc, FatalAttentiveError):
        print(f"error: {escape_controls(str(exc))}; the jobs stay pending, follow them again once the key is fixed",
              file=sys.stderr)
        return CONNECTION
    print("interrupted: the jobs stay pending; `attentive-console jobs --wait` follows them again", file=sys.stderr)
    return CANCELLED


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S") if timestamp else "-"


@guarded
def run_jobs(args: argparse.Namespace) -> int:
    run_ids = [args.run] if args.run is not None else None
    if args.run is not None:
        with HistoryStore(args.ctx.data_dir, readonly=True) as store:
            if store.get_run(args.run) is None:
                raise SettingsError(f"there is no run {args.run}; list them with `attentive-console runs`")
    result = None
    code = OK
    if args.wait:
        try:
            result = follow(args, run_ids=run_ids, environment=args.env,
                            show_progress=not args.json and sys.stderr.isatty())
        except (FatalAttentiveError, asyncio.CancelledError, KeyboardInterrupt) as exc:
            return follow_failure(exc)
        code = PENDING if result.timed_out else OK
    with HistoryStore(args.ctx.data_dir, readonly=True) as store:
        jobs = JobStore(store.connection)
        listed = jobs.jobs(run_ids=run_ids, environment=args.env)
        runs = {job.run_id: store.get_run(job.run_id) for job in listed}
        if code == OK and result is not None and any(_over_threshold(args, run) for run in runs.values() if run):
            code = OVER_THRESHOLD
        if args.json:
            print_json({
                "jobs": [_job_json(job, jobs, with_lines=args.run is not None) for job in listed],
                "runs": [_run_json(run) for run in runs.values() if run is not None],
                "pending": sum(1 for job in listed if job.state == JOB_PENDING),
                "timed_out": bool(result and result.timed_out),
                "exit_code": code,
            })
            return code
        _print_jobs(listed, jobs, with_lines=args.run is not None)
    pending = sum(1 for job in listed if job.state == JOB_PENDING)
    if result is not None and result.timed_out:
        print(f"{pending} job(s) still pending after {format_duration(timeout_of(args))}; Attentive can take up to "
              "12 hours: run `attentive-console jobs --wait` again later")
    elif pending and not args.wait:
        print(f"{pending} job(s) pending; follow them with: attentive-console jobs --wait"
              + (f" --run {args.run}" if args.run is not None else ""))
    return code


def _over_threshold(args: argparse.Namespace, run: RunRecord) -> bool:
    try:
        destination = args.ctx.load_environment(run.environment).destinations.get(run.destination)
    except SettingsError:
        return False
    return destination is not None and run.status == "finished" and \
        run.rejection_share > destination.rejection_threshold


def _job_json(job: JobRecord, jobs: JobStore, *, with_lines: bool) -> dict[str, Any]:
    item = job.as_dict()
    if with_lines:
        item["lines"] = [{"line": line.line_no, "problem": line.problem, "text": line.text}
                         for line in jobs.lines(job.id)]
    return item


def _run_json(run: RunRecord) -> dict[str, Any]:
    return {"run_id": run.id, "status": run.status, "destination": run.destination, "environment": run.environment,
            "rows_read": run.rows_read, "accepted": run.accepted, "rejected": run.rejected, "failed": run.failed,
            "submitted": run.submitted, "unconfirmed": run.unconfirmed, "invalid": run.invalid,
            "skipped_unchanged": run.skipped_unchanged, "skipped_pending": run.skipped_pending}


def _print_jobs(listed: Sequence[JobRecord], jobs: JobStore, *, with_lines: bool) -> None:
    if not listed:
        print("no bulk jobs")
        return
    rows = [[str(job.id), str(job.run_id), job.job_id, f"{job.rows:,}", job.state, job.status or "-",
             str(job.checks), _when(job.last_checked_at),
             _when(job.next_check_at) if job.state == JOB_PENDING else "-", (job.message or "")[:80]]
            for job in listed]
    print_table(["JOB", "RUN", "ATTENTIVE JOB ID", "ROWS", "STATE", "STATUS", "CHECKS", "LAST CHECK", "NEXT CHECK",
                 "MESSAGE"], rows)
    if with_lines:
        for job in listed:
            for line in jobs.lines(job.id):
                print(f"job {job.id} line {line.line_no} ({line.problem}): {escape_controls(line.text[:200])}")
