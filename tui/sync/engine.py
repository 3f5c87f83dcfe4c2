"""The send engine: source -> profiles -> dedupe -> diff -> batches -> client -> history. It prints
nothing; whoever runs it (the CLI, the console) watches through `on_progress`, steers by `SendControl`.

A bulk send ends once every batch is submitted: its rows are `submitted` and the run
`awaiting_results` until a JobFollower (jobs.py) folds its jobs' results; a test send's read-back is
scheduled for when they have (verify.py).

Resume: a run that was killed (SIGKILL included), cancelled, or stopped by an error continues with
`resume_run_id`. Every row of its source ends with exactly one outcome: rows already finished or
submitted are not sent again; rows that were in flight when the run stopped (handed to Attentive,
answer not yet recorded: at most the in-flight window, BULK_POSTS_IN_FLIGHT x 256 profiles or
V1_WORKERS profiles) are sent again, which is harmless because setting an attribute is idempotent.

Events and subscriptions are not idempotent (event_planner.py, event_sender.py, event_ledger.py): one
in flight when the run stopped is `unknown`, not sent again; one the ledger holds as sent is skipped.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tui.attentive.client import AttentiveClient
from tui.attentive.endpoints import BY_NAME
from tui.attentive.outcomes import FatalAttentiveError, OutcomeKind
from tui.attentive.secret import ApiKey
from tui.settings.model import Destination
from tui.sync import event_ledger, job_schedule, key_filter, membership
from tui.sync import history as hist
from tui.sync.control import SendControl
from tui.sync.event_planner import EventPlanner, event_builder
from tui.sync.event_sender import EventSender
from tui.sync.events import CustomEventBuilder
from tui.sync.gc_pause import rarer_collections
from tui.sync.history import HistoryStore, NewRun, RunMode, RunRecord
from tui.sync.history_schema import pacing_dir
from tui.sync.history_writer import HistoryWriteError, RunCounts, RunRecorder
from tui.sync.job_store import JobStore
from tui.sync.lock import SendLock
from tui.sync.membership import AudienceCounts, MembershipRefused, MembershipStart
from tui.sync.meter import ProgressMeter
from tui.sync.planner import Planner, sample_ordinals
from tui.sync.profiles import ProfileBuilder
from tui.sync.progress import Progress
from tui.sync.purchases import PurchaseBuilder
from tui.sync.rejections import RejectionFilter, is_everything, retry_filter_of, retry_rows, save_retry_filter
from tui.sync.run_inputs import run_source
from tui.sync.segment_target import SegmentTarget, SegmentUnresolved, bound_destination
from tui.sync.send_refusals import SendRefused, ShrinkRefused, refuse_options
from tui.sync.senders import BulkSender, RowPlanner, SegmentSender, Sender, V1Sender
from tui.sync.source_files import CHUNK_ROWS
from tui.sync.sources import SourceInfo, SourceReader, SourceSpec, inspect_source
from tui.sync.subscriptions import SubscriptionBuilder
from tui.sync.tally import Stop, Tally
from tui.sync.verify import SAMPLE_MAX

T = TypeVar("T")
Builder = ProfileBuilder | CustomEventBuilder | PurchaseBuilder | SubscriptionBuilder
TICK_S = 0.2
SAMPLE_MIN = 10


@dataclass(frozen=True)
class SendRequest:
    environment: str
    destination: Destination
    source: SourceSpec | None      # None for a retry or a resume: the run's own source is used
    operator: str
    data_dir: Path
    base_url: str | None = None    # None only for a dry run
    api_key: ApiKey | None = None
    sample: int | None = None
    full: bool = False
    dry_run: bool = False
    rate: float | None = None      # requests/second for the destination's endpoint
    resume_run_id: int | None = None
    retry_of: int | None = None
    retry_filter: RejectionFilter | None = None   # with retry_of: only the rejections this filter shows
    allow_shrink: bool = False     # an audience send may lose more than the destination's audience_shrink_limit
    include_unknown: bool = False  # with retry_of (an event destination): its unknown events are sent again
    # --set values, already in destination.constants; recorded with the run so a resume can apply them again
    send_constants: Mapping[str, str] = field(default_factory=dict)
    source_query: str | None = None  # send --query: the SQL whose spooled result `source` is
    verify_window_s: float = job_schedule.READ_BACK_WINDOW_S  # a test send's read-back is retried this long
    clock: Callable[[], float] = time.time  # wall clock, for events' 12-hour age
    # Extra AttentiveClient keyword arguments (back-off timing, connection limit) for tests and benches.
    client_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    run: RunRecord
    stop: Stop | None = None
    audience: AudienceCounts | None = None   # joins, stays and leaves of an audience destination's send
    segment: SegmentTarget | None = None     # the segment a segment destination's send changed


@dataclass
class _Plan:
    run_id: int
    info: SourceInfo
    resuming: bool
    full: bool
    dry_run: bool
    only_rows: set[int] | None
    only_ordinals: frozenset[int] | None
    total: int | None
    membership: MembershipStart | None = None
    include_unknown: bool = False


async def run_send(request: SendRequest, *, control: SendControl | None = None,
                   on_progress: Callable[[Progress], None] | None = None) -> SendResult:
    """Raises SourceError (bad file), SendLocked (another send of the same destination runs) and
    SendRefused before anything is sent; everything after that ends in the run's status."""
    control = control or SendControl()
    key_filter.preload()
    destination = request.destination
    if request.sample is not None and not SAMPLE_MIN <= request.sample <= SAMPLE_MAX:
        raise SendRefused(f"--sample takes {SAMPLE_MIN} to {SAMPLE_MAX} rows, not {request.sample}")
    refuse_options(destination, full=request.full, include_unknown=request.include_unknown,
                   retry=request.retry_of is not None, dry_run=request.dry_run)
    lock = None if request.dry_run else SendLock(request.data_dir, destination.name, request.environment)
    if lock is not None:
        lock.acquire()
    try:
        with HistoryStore(request.data_dir) as store, rarer_collections():
            segment = None
            if destination.kind == "segment":  # the segment's externalId keys its members
                try:
                    destination, segment = await bound_destination(
                        destination, store.connection, store.diff_scope(destination.name, request.environment),
                        base_url=None if request.dry_run else request.base_url, api_key=request.api_key,
                        pacing=pacing_dir(request.data_dir), client_options=request.client_options)
                except SegmentUnresolved as unresolved:
                    raise SendRefused(str(unresolved)) from None
            builder: Builder = event_builder(destination) if destination.sends_once else ProfileBuilder(destination)
            try:
                plan = _prepare(request, store, builder, destination)
            except MembershipRefused as refused:
                raise (ShrinkRefused if refused.shrinking else SendRefused)(str(refused)) from None
            if lock is not None:
                lock.record_run(plan.run_id)
            result = await _execute(request, store, plan, destination, control, on_progress)
            return dataclasses.replace(result, segment=segment)
    finally:
        if lock is not None:
            lock.release()


def _prepare(request: SendRequest, store: HistoryStore, builder: Builder, destination: Destination) -> _Plan:
    """`destination` is the request's, or a segment destination bound to its segment (bound_destination)."""
    scope = store.diff_scope(destination.name, request.environment)
    if destination.sends_once and not request.dry_run:  # under the send lock: marks in flight are a dead process's
        for run_id in event_ledger.settle_orphans(store.connection, scope):
            store.recount(run_id)
    if request.resume_run_id is not None:
        run = _existing_run(store, request, request.resume_run_id, "resume")
        if run.status not in hist.RESUMABLE:
            raise SendRefused(f"run {run.id} is {run.status}; only a stopped, cancelled or failed run can be resumed")
        if run.config_hash != request.destination.config_hash():
            raise SendRefused(f"destination {destination.name!r} changed since run {run.id}; its rows would be "
                              "built differently, so start a new send instead of resuming")
        info = _source_info(request.source or run_source(run), run, "resume")
        only_rows = (retry_rows(store.connection, run.parent_run_id, retry_filter_of(store.connection, run.id),
                                include_unknown=run.include_unknown) if run.parent_run_id else None)
        only_ordinals = sample_ordinals(info.rows_estimate, run.sample_size) if run.sample_size else None
        joined = membership.resumed(store.connection, run.id, destination)
        if joined is not None and joined.audience != destination.audience:  # a segment made again since
            raise SendRefused(f"run {run.id} changed segment {joined.audience!r}, but {destination.name}'s segment is "
                              f"now {destination.audience!r}; start a new send of the file instead of resuming")
        store.set_status(run.id, hist.RUNNING)
        store.recount(run.id)  # a follower may have folded its jobs since: the rows are the truth
        return _Plan(run.id, info, True, run.full_send, run.mode == RunMode.DRY_RUN, only_rows, only_ordinals, run.rows_estimate,
                     joined, run.include_unknown)
    only_rows = None
    source = request.source
    if request.retry_of is not None:
        parent = _existing_run(store, request, request.retry_of, "retry")
        only_rows = retry_rows(store.connection, parent.id, request.retry_filter, include_unknown=request.include_unknown)
        if not only_rows:
            shown = "" if is_everything(request.retry_filter) else " that match the filter"
            unknown = (f"; its {parent.unknown:,} unknown events go again only with --include-unknown"
                       if parent.unknown and not request.include_unknown else "")
            raise SendRefused(f"run {parent.id} has no rejected or failed rows{shown} to send again{unknown}")
        # The file may have been fixed in place since (that is often the point of a retry): rows
        # are matched by their row number, so an edit that moves rows would mismatch them.
        info = inspect_source(run_source(parent))
    else:
        if source is None:
            raise SendRefused("no source file given")
        info = inspect_source(source)
    SourceReader(info, builder.columns)  # a missing or ambiguous mapped column stops here, before the run exists
    only_ordinals = sample_ordinals(info.rows_estimate, request.sample) if request.sample else None
    total = len(only_rows) if only_rows is not None else (len(only_ordinals) if only_ordinals else info.rows_estimate)
    mode = (RunMode.DRY_RUN if request.dry_run else RunMode.SAMPLE if request.sample
            else RunMode.RETRY if only_rows else RunMode.SEND)
    # Only a send computes leaves: a sample or a retry sends true to its rows and nothing else.
    joined = None if not isinstance(builder, ProfileBuilder) else membership.begin(
        store.connection, scope, destination, info, builder, compute=request.sample is None and request.retry_of is None,
        allow_shrink=request.allow_shrink, dry_run=request.dry_run)
    if joined is not None and joined.counts is not None and not request.dry_run:
        total = (total or 0) + joined.counts.leaves  # the leaves are rows of the run, after the file's
    run_id = store.create_run(NewRun(
        operator=request.operator, environment=request.environment, destination=destination.name,
        endpoint=destination.endpoint, config_hash=request.destination.config_hash(), mode=mode,
        source_path=os.path.abspath(info.name) if info.several else str(info.path.resolve()),
        source_parts=json.dumps(info.part_paths) if info.several else None,
        send_constants=json.dumps(dict(request.send_constants), sort_keys=True) if request.send_constants else None,
        source_query=request.source_query,
        source_hash=info.sha256, source_format=info.format,
        rows_estimate=total, verbose_logging=destination.verbose_logging,
        full_send=request.full or bool(request.sample), sample_size=request.sample, parent_run_id=request.retry_of,
        include_unknown=request.include_unknown,
    ))
    if request.retry_of is not None and not is_everything(request.retry_filter):
        assert request.retry_filter is not None
        save_retry_filter(store.connection, run_id, request.retry_filter)
    if joined is not None:
        membership.record(store.connection, run_id, joined, dry_run=request.dry_run)
    return _Plan(run_id, info, False, request.full or bool(request.sample), request.dry_run, only_rows,
                 only_ordinals, total, joined, request.include_unknown)


def _existing_run(store: HistoryStore, request: SendRequest, run_id: int, action: str) -> RunRecord:
    run = store.get_run(run_id)
    if run is None:
        raise SendRefused(f"there is no run {run_id} to {action}; see `attentive-console runs`")
    if (run.destination, run.environment) != (request.destination.name, request.environment):
        raise SendRefused(f"run {run_id} sent {run.destination!r} to {run.environment}, "
                          f"not {request.destination.name!r} to {request.environment}")
    return run


def _source_info(source: SourceSpec, run: RunRecord, action: str) -> SourceInfo:
    info = inspect_source(source)
    if info.sha256 != run.source_hash:
        raise SendRefused(f"{info.name} changed since run {run.id} read it, so its row numbers no longer match; "
                          f"{action} needs the same file (start a new send for the new file)")
    return info


async def _execute(request: SendRequest, store: HistoryStore, plan: _Plan, destination: Destination,
                   control: SendControl, on_progress: Callable[[Progress], None] | None) -> SendResult:
    counts = RunCounts()
    if plan.resuming:
        done = store.outcome_counts(plan.run_id)
        counts = RunCounts(rows_read=sum(done.values()), **{k: v for k, v in done.items() if k != "pending"})
    recorder = RunRecorder(store.connection, plan.run_id, scope=store.diff_scope(destination.name, request.environment),
                           verbose=destination.verbose_logging, counts=counts, data_dir=request.data_dir,
                           membership=plan.membership is not None, expected_rows=plan.info.rows_estimate)
    tally = Tally(recorder)
    meter = ProgressMeter(plan.run_id, counts, tally, control, plan.total, destination.endpoint)
    planner: Planner | EventPlanner
    if destination.sends_once:
        planner = EventPlanner(destination, recorder, store, dry_run=plan.dry_run, resuming=plan.resuming,
                               only_rows=plan.only_rows, only_ordinals=plan.only_ordinals,
                               include_unknown=plan.include_unknown, clock=request.clock,
                               expected_rows=plan.info.rows_estimate)
    else:
        planner = Planner(ProfileBuilder(destination), recorder, store, full=plan.full, dry_run=plan.dry_run,
                          resuming=plan.resuming, only_rows=plan.only_rows, only_ordinals=plan.only_ordinals,
                          expected_rows=plan.info.rows_estimate)
    reader = SourceReader(plan.info, planner.builder.columns)

    def tick(state: str | None = None) -> None:
        if meter.client is not None:
            recorder.requests, recorder.throttled = meter.client.stats.requests, meter.client.stats.throttled
        try:
            recorder.maybe_flush()
        except HistoryWriteError as error:
            tally.history_failed(error)
            control.cancel()  # cuts short every request still waiting to leave: none may go unrecorded
        if on_progress is not None:
            on_progress(meter.snapshot(state))

    async def ticker() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            tick()

    ticking = asyncio.create_task(ticker())
    status, message = hist.FINISHED, None
    try:
        if plan.dry_run:
            reading: RowPlanner[Any] = planner  # nothing is sent, whatever the rows become
            await _pump(reader, reading, None, control, tally)
        else:
            assert request.base_url and request.api_key, "a send needs a base URL and a key"
            options = dict(request.client_options)
            rates = dict(options.pop("rate_limits", {}))
            if request.rate or destination.rate_limit:
                rates[destination.endpoint] = request.rate or destination.rate_limit
            async with AttentiveClient(request.base_url, request.api_key, rate_limits=rates, steering=control,
                                       shared_pacing=pacing_dir(request.data_dir), **options) as client:
                meter.client = client
                control.attach(lambda rate: client.set_rate(destination.endpoint, rate),
                               BY_NAME[destination.endpoint].limit_per_second)
                tick()  # the first snapshot, before a row is sent: the run, its rows and its rate
                me = await client.me()
                if me.kind is OutcomeKind.FATAL:
                    tally.fatal(me)
                elif not me.ok:
                    tally.stop = Stop("unreachable", f"cannot reach {request.base_url}: {me.text}", me.status)
                elif isinstance(planner, EventPlanner):
                    await _pump(reader, planner, EventSender(client, destination, tally, control), control, tally)
                else:
                    kind = destination.primary_identifier
                    sender = (SegmentSender(client, kind, tally, control, destination.audience or "")
                              if destination.kind == "segment" else
                              (BulkSender if destination.endpoint == "bulk" else V1Sender)(client, kind, tally, control))
                    joined = plan.membership
                    leaves = (membership.leave_chunks(store.connection, plan.run_id, joined.audience, recorder, CHUNK_ROWS)
                              if joined is not None and joined.computed else ())
                    await _pump(reader, planner, sender, control, tally, leaves)
                tick()
        if tally.stop is not None:
            status, message = hist.FAILED, tally.stop.message
        elif control.cancelled:
            status, message = hist.CANCELLED, "cancelled by the operator; resume it to finish"
    except FatalAttentiveError as exc:
        status, message = hist.FAILED, str(exc)
        tally.stop = Stop("fatal", str(exc), exc.outcome.status)
    except asyncio.CancelledError:  # the task itself was cancelled (a closing console): resumable
        status, message = hist.CANCELLED, "interrupted; resume it to finish"
        raise
    except BaseException as exc:
        status, message = hist.FAILED, f"stopped by an error: {type(exc).__name__}: {exc}"
        raise
    finally:
        ticking.cancel()
        try:
            recorder.close()
        except HistoryWriteError as error:
            tally.history_failed(error)
        if tally.stop is not None and tally.stop.reason == "history":
            status, message = hist.FAILED, tally.stop.message
        # Rows read without an outcome, from the counters the run record is written from (a GROUP BY
        # over the run's outcomes says the same, but sorts a million rows in memory at its very end).
        if status == hist.FINISHED and counts.rows_read > counts.settled:
            status, message = hist.FAILED, "rows are still pending; resume the run"
        try:
            if status == hist.FINISHED and not plan.dry_run:
                if plan.only_ordinals is not None and destination.reads_back:
                    _schedule_read_back(store, request, plan.run_id)
                store.end_send(plan.run_id)
            else:
                store.set_status(plan.run_id, status, message)
        except sqlite3.Error as error:  # the disk is still full: the run stays `running`, shown interrupted
            tally.history_failed(HistoryWriteError(request.data_dir, error))
        run = store.get_run(plan.run_id)
        assert run is not None
        if on_progress is not None:
            on_progress(meter.snapshot(run.status))
    return SendResult(run, tally.stop, plan.membership.counts if plan.membership is not None else None)


def _schedule_read_back(store: HistoryStore, request: SendRequest, run_id: int) -> None:
    """A test send is read back once its jobs resolve (bulk) or after a settle delay (v1)."""
    now = time.time()
    settle = 0.0 if request.destination.endpoint == "bulk" else job_schedule.v1_settle_delay()
    JobStore(store.connection).schedule_read_back(
        run_id, window_ends_at=now + request.verify_window_s, next_at=now + settle)


async def _pump(reader: SourceReader, planner: RowPlanner[T], sender: Sender[T] | None, control: SendControl,
                tally: Tally, leaves: Iterable[list[T]] = ()) -> None:
    for chunk in reader.source_chunks(lambda: planner.chunk_rows):
        if not await _may_go_on(control, tally):
            break
        await _hand_over(planner.plan(chunk), sender)
    else:
        await _hand_over(planner.finish(), sender)  # what the planner held for the file's end (an order)
    for items in leaves:  # an audience's leavers, after the file's rows, through the same sender
        if not await _may_go_on(control, tally):
            break
        await _hand_over(items, sender)
    if sender is not None:
        await sender.drain()


async def _may_go_on(control: SendControl, tally: Tally) -> bool:
    if control.paused:
        await control.wait_running()
    return not (control.cancelled or tally.stopping)


async def _hand_over(items: list[T], sender: Sender[T] | None) -> None:
    if sender is not None:
        for item in items:
            await sender.put(item)
    await asyncio.sleep(0)
