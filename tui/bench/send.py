"""`attentive-console bench send`: the send pipeline end to end, on this machine.

The simulator runs in a separate process (it takes one core; the send takes the other). Prints:
- profiles/s end to end (read, validate, diff, submit, record) for bulk with rate limits off, against
  Attentive's bulk ceiling of 25,600 profiles/s (100 calls/s x 256); then the time to follow its jobs
  and fold every result (the simulator's jobs take 50 ms, the follower's schedule is scaled down);
- the same audience as Parquet (a few row groups), sent the same way, beside the CSV figure as a
  ratio (the target: Parquet at least as fast as CSV);
- a rate-limited bulk run: its share of the bulk endpoint's limit while sending (between 10% and 90%
  of the profiles submitted) and end to end, and its 429 count;
- the peak RSS of the send process for the big file (the send runs in a child process);
- the time to send the big file again when every profile is unchanged (diff-skipped);
- rejection-log query latency over a million rejections (text filter, reason filter; median of 20).

`--phone` sends a phone-primary audience whose numbers are in national formats (each parsed by
libphonenumber); `--contend` runs every figure while a CPU-bound neighbour process holds a core, as
on a busy ops host. The machine's load average is printed before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tui.attentive import endpoints
from tui.attentive.endpoints import BULK_MAX_USERS
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.process import SimulatorProcessError, start_simulator_process
from tui.bench.audience_files import write_csv_audience, write_parquet_audience
from tui.settings.model import Destination
from tui.sync import job_schedule, reasons
from tui.sync.engine import SendRequest, run_send
from tui.sync.history import HistoryStore, NewRun, RunMode
from tui.sync.history_schema import INVALID, REJECTED
from tui.sync.history_writer import RunCounts, RunRecorder
from tui.sync.jobs import FollowTarget, JobFollower
from tui.sync.rejections import RejectionFilter, RejectionLog

BENCH_KEY = "bench-send-key-0001"  # a simulator-only key, not a secret
BULK_CEILING = endpoints.BULK_ATTRIBUTES.limit_per_second * BULK_MAX_USERS
UNPACED = {spec.name: math.inf for spec in endpoints.ALL}
DESTINATION = Destination(
    name="bench", description="bench send", credential="bench", primary_identifier="email", endpoint="bulk",
    identifiers={"email": "email", "phone": "phone"},
    attributes={"Loyalty Tier": "tier", "Points": "points", "Phone Number": "phone"},
)
PHONE_DESTINATION = Destination(
    name="bench-phone", description="bench send, phone-primary", credential="bench", primary_identifier="phone",
    endpoint="bulk", identifiers={"phone": "phone", "email": "email"},
    attributes={"Loyalty Tier": "tier", "Points": "points", "Email": "email"},
)
NEIGHBOUR = "while True: pass"  # --contend: one core taken, as by another job on the host


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="attentive-console bench send", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big file (default 1,000,000)")
    parser.add_argument("--limited-rows", type=int, default=200_000,
                        help="rows of the rate-limited run (default 200,000: about 8 s at the limit)")
    parser.add_argument("--rejections", type=int, default=1_000_000,
                        help="rejections in the query benchmark (default 1,000,000)")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temporary folder)")
    parser.add_argument("--phone", action="store_true",
                        help="a phone-primary audience, numbers in national formats (parsed by libphonenumber)")
    parser.add_argument("--contend", action="store_true",
                        help="run every figure beside a CPU-bound neighbour process that holds one core")
    parser.add_argument("--scale", type=int, metavar="ROWS",
                        help="instead of the figures above: first sends of 100,000 and of ROWS rows (10,000,000 is "
                             "the target's), their time per row and peak RSS; their jobs are not followed")
    return parser.parse_args(argv)


def destination_of(phone: bool) -> Destination:
    return PHONE_DESTINATION if phone else DESTINATION


def send_request(url: str, data_dir: Path, source: Path, *, unpaced: bool, phone: bool = False) -> SendRequest:
    return SendRequest(
        environment="sandbox", destination=destination_of(phone), source=source, operator="bench", data_dir=data_dir,
        base_url=url, api_key=ApiKey(BENCH_KEY), client_options={"rate_limits": UNPACED} if unpaced else {},
    )


def child(url: str, data_dir: str, source: str, phone: bool = False, follow: bool = True) -> None:
    """Run in a child process (so its peak RSS is its own): one unpaced send, then (with `follow`)
    following its jobs to their results; the figures as JSON."""
    os.environ[job_schedule.SCALE_VARIABLE] = "0.0001"  # first check 6 ms after submission
    started = time.perf_counter()
    request = send_request(url, Path(data_dir), Path(source), unpaced=True, phone=phone)
    result = asyncio.run(run_send(request))
    submitted = time.perf_counter()
    target = FollowTarget(url, ApiKey(BENCH_KEY), destination_of(phone))

    async def follow_jobs() -> None:
        async with JobFollower(Path(data_dir), lambda run: target, run_ids=[result.run.id],
                               client_options={"rate_limits": UNPACED}) as follower:
            await follower.follow()

    if follow:
        asyncio.run(follow_jobs())
    with HistoryStore(Path(data_dir), readonly=True) as store:
        run = store.get_run(result.run.id)
    assert run is not None
    print(json.dumps({"seconds": submitted - started, "follow_seconds": time.perf_counter() - submitted,
                      "status": run.status, "rows": run.rows_read, "submitted": result.run.submitted,
                      "accepted": run.accepted, "skipped": run.skipped_unchanged, "failed": run.failed}))


def run_child(url: str, data_dir: Path, source: Path, phone: bool = False, follow: bool = True) -> tuple[dict, float]:
    code = (f"from tui.bench.send import child; child({url!r}, {str(data_dir)!r}, {str(source)!r}, {phone!r}, "
            f"{follow!r})")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the send child failed: {done.stderr.strip()[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far; the simulator is one too, but it
    # is still running and so not counted yet.
    return json.loads(done.stdout.strip().splitlines()[-1]), max(peak_kb, before) / 1024


@dataclass(frozen=True)
class LimitedRun:
    seconds: float
    submitted: int
    posts: int
    sustained_posts_s: float | None  # between 10% and 90% of the profiles submitted: the pace while sending
    throttled: int


def rate_limited(url: str, work: Path, rows: int, phone: bool) -> LimitedRun:
    source = work / "limited.csv"
    write_csv_audience(source, rows, national=phone)
    seen: list[tuple[float, int]] = []  # (when, profiles submitted), from the engine's progress events
    started = time.perf_counter()
    result = asyncio.run(run_send(send_request(url, work / "limited-data", source, unpaced=False, phone=phone),
                                  on_progress=lambda p: seen.append((time.perf_counter(), p.submitted))))
    seconds = time.perf_counter() - started
    run = result.run
    posts = math.ceil(run.submitted / BULK_MAX_USERS)
    return LimitedRun(seconds, run.submitted, posts, sustained_posts(seen, run.submitted), run.throttled)


def sustained_posts(seen: list[tuple[float, int]], submitted: int) -> float | None:
    """POSTs/s between the progress events at 10% and 90% of the profiles submitted (each came from
    one POST of 256); None when the run was too short to tell."""
    middle = [(when, count) for when, count in seen if submitted * 0.1 <= count <= submitted * 0.9]
    if len(middle) < 2 or middle[-1][0] <= middle[0][0]:
        return None
    (t0, a0), (t1, a1) = middle[0], middle[-1]
    return (a1 - a0) / BULK_MAX_USERS / (t1 - t0)


def rejection_queries(work: Path, count: int) -> tuple[float, float, float]:
    data = work / "rejections-data"
    rng = random.Random(7)
    with HistoryStore(data) as store:
        run_id = store.create_run(NewRun("bench", "sandbox", "bench", "bulk", "0" * 64, RunMode.SEND, "bench.csv", "0" * 64,
                                         "csv", count))
        recorder = RunRecorder(store.connection, run_id, scope=store.diff_scope("bench", "sandbox"), verbose=True,
                               counts=RunCounts(), data_dir=data)
        local = [reasons.INVALID_EMAIL, reasons.INVALID_PHONE, reasons.MISSING_IDENTIFIER, reasons.DUPLICATE_IDENTIFIER]
        started = time.perf_counter()
        for i in range(count):
            email = f"member{i}@example.com"
            if i % 5 == 0:
                recorder.reject(i + 2, REJECTED, reasons.ATTENTIVE_REJECTED, identifier=email, status=400,
                                message=f"attributes.custom.Points: expected a number, got 'lots{i % 1000}'")
            else:
                reason = local[i % 4]
                recorder.reject(i + 2, INVALID, reason, identifier=email, message=f"{reason} in row {i + 2}: {email}")
            if i % 50_000 == 0:
                recorder.flush()
        recorder.close()
        build_s = time.perf_counter() - started
        log = RejectionLog(store.connection, run_id)

        def timed(flt: RejectionFilter) -> float:
            t = time.perf_counter()
            log.page(flt, limit=50)
            log.count(flt)
            return (time.perf_counter() - t) * 1000

        text_ms = statistics.median(timed(RejectionFilter(text=f"member{rng.randrange(count)}@")) for _ in range(20))
        reason_ms = statistics.median(timed(RejectionFilter(reason=local[i % 4])) for i in range(20))
    return text_ms, reason_ms, build_s


def run(args: argparse.Namespace) -> int:
    options = parse(list(getattr(args, "bench_args", [])))
    print(f"Load average {_load()} on {os.cpu_count()} cores before" + (", then a CPU-bound neighbour holds one"
                                                                        if options.contend else ""), flush=True)
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if options.contend else None
    try:
        return _measure_scale(options) if options.scale else _measure(options)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()


def _load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


SCALE_BASE_ROWS = 100_000


def _measure_scale(options: argparse.Namespace) -> int:
    """Time per row and peak RSS of a first send at 100,000 rows and at --scale rows, each in a child
    process of its own against one simulator (its jobs take an hour: nothing is folded meanwhile)."""
    from tui.core.exit_codes import CONNECTION, OK

    sizes = [SCALE_BASE_ROWS, options.scale]
    with tempfile.TemporaryDirectory(prefix="bench-send-") as temporary:
        work = options.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        figures = []
        try:
            with start_simulator_process(["--no-rate-limits", "--job-delay", "3600", "--key", BENCH_KEY]) as sim:
                for rows in sizes:
                    source = work / f"scale-{rows}.csv"
                    print(f"Writing a {rows:,}-row audience and sending it ...", flush=True)
                    write_csv_audience(source, rows, national=options.phone)
                    sent, rss_mb = run_child(sim.url, work / f"scale-{rows}-data", source, options.phone, follow=False)
                    figures.append((rows, sent["seconds"] / rows * 1e6, rss_mb))
                    source.unlink()
        except SimulatorProcessError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return CONNECTION
    print()
    for rows, us_per_row, rss_mb in figures:
        print(f"first send, {rows:>12,} rows  {us_per_row:6.1f} us a row ({1e6 / us_per_row:,.0f} profiles/s)  "
              f"peak RSS {rss_mb:,.0f} MB")
    print(f"time per row at {sizes[1]:,} / at {sizes[0]:,}: {figures[1][1] / figures[0][1]:.2f} (flat: 1.00)")
    print(f"load average {_load()} after" + (" (the neighbour included)" if options.contend else ""))
    return OK


def _measure(options: argparse.Namespace) -> int:
    # Imported here: the child process imports this module too, and the CLI package is not part of
    # what a send costs in memory.
    from tui.core.exit_codes import CONNECTION, OK

    phone = options.phone
    with tempfile.TemporaryDirectory(prefix="bench-send-") as temporary:
        work = options.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        big = work / "audience.csv"
        what = "phone-primary (national formats)" if phone else "email-primary"
        print(f"Writing a {options.rows:,}-row {what} audience ...", flush=True)
        write_csv_audience(big, options.rows, national=phone)
        big_parquet = work / "audience.parquet"
        row_groups = write_parquet_audience(big_parquet, options.rows, national=phone)
        try:
            print("Starting the simulator in a separate process (rate limits off) ...", flush=True)
            with start_simulator_process(["--no-rate-limits", "--job-delay", "0.05", "--key", BENCH_KEY]) as sim:
                first, rss_mb = run_child(sim.url, work / "big-data", big, phone)
                again, rss_again_mb = run_child(sim.url, work / "big-data", big, phone)
                # Data of its own: a first send as the CSV one was, not a diff-skipped re-send.
                parquet, _ = run_child(sim.url, work / "parquet-data", big_parquet, phone)
            print("Starting the simulator with Attentive's rate limits ...", flush=True)
            # Jobs of an hour, as Attentive's take: their processing is Attentive's CPU, not this host's.
            with start_simulator_process(["--job-delay", "3600", "--key", BENCH_KEY]) as sim:
                limited = rate_limited(sim.url, work, options.limited_rows, phone)
        except SimulatorProcessError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return CONNECTION
        text_ms, reason_ms, build_s = rejection_queries(work, options.rejections)
    throughput = first["rows"] / first["seconds"]
    limit = endpoints.BULK_ATTRIBUTES.limit_per_second
    print()
    print(f"bulk, rate limits off     {throughput:>10,.0f} profiles/s end to end ({first['rows']:,} rows in "
          f"{first['seconds']:.1f}s; {first['submitted']:,} submitted)  = {throughput / BULK_CEILING:.2f} x the "
          f"bulk ceiling of {BULK_CEILING:,}/s")
    parquet_rate = parquet["rows"] / parquet["seconds"]
    print(f"bulk, Parquet, limits off {parquet_rate:>10,.0f} profiles/s end to end ({parquet['rows']:,} rows in "
          f"{parquet['seconds']:.1f}s, {row_groups} row groups)  = {parquet_rate / throughput:.2f} x CSV "
          "(target: at least 1.00)")
    print(f"following its jobs        {first['rows'] / first['follow_seconds']:>10,.0f} profiles/s folded "
          f"({first['accepted']:,} accepted in {first['follow_seconds']:.1f}s, status calls unpaced)")
    posts_s = limited.posts / limited.seconds
    sustained = limited.sustained_posts_s
    share = (f"{sustained:.1f} calls/s while sending = {sustained / limit:.1%}" if sustained is not None
             else "(too short a run to tell the share)")
    print(f"bulk, rate-limited        {share} of the {limit}/s limit; {limited.throttled} answers were 429; "
          f"end to end {limited.submitted:,} profiles submitted in {limited.seconds:.1f}s = {posts_s:.1f} calls/s "
          f"({posts_s / limit:.1%}, with start-up)")
    print(f"peak RSS, {options.rows:,} rows  {rss_mb:>8,.0f} MB (first send); unchanged re-send "
          f"{rss_again_mb:,.0f} MB peak so far")
    print(f"unchanged re-send         {again['seconds']:>10.1f} s for {again['rows']:,} rows "
          f"({again['skipped']:,} skipped unchanged)")
    print(f"rejection log, {options.rejections:,} rejections: text filter {text_ms:.1f} ms, reason filter "
          f"{reason_ms:.1f} ms (first page + count, median of 20; written in {build_s:.1f}s)")
    print(f"load average {_load()} after" + (" (the neighbour included)" if options.contend else ""))
    return OK
