"""Sends as both front ends start and end them: the access checks, the rate cap, the key, the
send.started and send.finished audit entries and the exit code, decided once.

A front end asks for a request (`send_request`, `retry_request`), confirms a production send its own
way (a typed name on a terminal, a modal in the console), hands the request to `connected` for the
key and the opening entry, runs it, and closes it with `send_finished` (or `send_refused`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from tui.attentive.endpoints import BY_NAME
from tui.core.exit_codes import CANCELLED, CONNECTION, HISTORY, OK, OVER_THRESHOLD, PENDING, USAGE
from tui.core.workspace import Target, Workspace
from tui.settings.audit import record
from tui.settings.connection import resolve_target
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action, LedgerError
from tui.settings.model import Destination
from tui.sync import history as hist
from tui.sync.audit_details import send_finished_details, send_started_details
from tui.sync.engine import SendRequest, SendResult
from tui.sync.history import Verification
from tui.sync.job_schedule import READ_BACK_WINDOW_S
from tui.sync.rejections import RejectionFilter, is_everything, retry_rows
from tui.sync.run_inputs import run_constants, run_destination
from tui.sync.sources import SourceSpec


class RateRefused(SettingsError):
    """A rate above the endpoint's published limit (or not above zero)."""


@dataclass
class Waited:
    """What following a send's jobs (`--wait`) saw once it stopped."""
    timed_out: bool
    verification: Verification | None = None
    jobs_pending: int = 0


def rate_limit(destination: Destination) -> float:
    """Attentive's published requests per second for the destination's endpoint."""
    return float(BY_NAME[destination.endpoint].limit_per_second)


RATE_STEPS = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)   # requests/s the console's +/- step through


def rate_steps(limit: float) -> tuple[float, ...]:
    """The rates an operator would pick, up to and including the endpoint's published limit (never above)."""
    return tuple(sorted({step for step in RATE_STEPS if step < limit} | {float(limit)}))


def stepped_rate(current: float, faster: bool, limit: float) -> float:
    """The next rate up (`+`) or down (`-`) from `current`: 1, 2, 5, 10, 25, 50, 100 and the limit.
    A rate between two steps moves to the nearer one in the direction pressed; `+` stays at the
    limit, `-` at the lowest step."""
    steps = rate_steps(limit)
    if faster:
        return next((step for step in steps if step > current + 1e-9), steps[-1])
    return next((step for step in reversed(steps) if step < current - 1e-9), steps[0])


def check_rate(destination: Destination, rate: float | None) -> None:
    limit = rate_limit(destination)
    if rate is not None and not 0 < rate <= limit:
        raise RateRefused(f"the rate must be above 0 and at most {limit:g} requests per second (the "
                          f"{destination.endpoint} endpoint's published limit), not {rate:g}")


def needs_confirmation(request: SendRequest) -> bool:
    """Production sends are confirmed by the operator typing the destination's name first."""
    return request.environment == "production" and not request.dry_run


def send_request(workspace: Workspace, target: Target, source: SourceSpec | None, *, sample: int | None = None,
                 full: bool = False, dry_run: bool = False, rate: float | None = None,
                 resume_run_id: int | None = None, verify_window_s: float = READ_BACK_WINDOW_S,
                 send_constants: Mapping[str, str] | None = None, allow_shrink: bool = False,
                 source_query: str | None = None) -> SendRequest:
    """A send of `source` (or a resume of a run), refused here when this session may not make it.
    `send_constants` are the --set values already merged into the target's destination; a resume
    given none takes the run's own, so `--resume N` needs no --set repeated. `allow_shrink`: an audience
    destination's send may lose more members than its audience_shrink_limit (the export really is smaller)."""
    if not dry_run:
        target.operator.require_writable("send")
    check_rate(target.destination, rate)
    destination = target.destination
    if resume_run_id is not None and not send_constants and (run := _run_or_none(workspace, resume_run_id)):
        destination, send_constants = run_destination(destination, run), run_constants(run)
    return SendRequest(environment=target.environment.name, destination=destination, source=source,
                       operator=workspace.operator, data_dir=workspace.data_dir, sample=sample, full=full,
                       dry_run=dry_run, rate=rate, resume_run_id=resume_run_id, verify_window_s=verify_window_s,
                       send_constants=dict(send_constants or {}), allow_shrink=allow_shrink,
                       source_query=source_query)


def _run_or_none(workspace: Workspace, run_id: int) -> hist.RunRecord | None:
    with hist.HistoryStore(workspace.data_dir, readonly=True) as store:
        return store.get_run(run_id)  # a missing run is the engine's to refuse, with its message


def retry_request(workspace: Workspace, run_id: int, where: RejectionFilter | None = None, *,
                  include_unknown: bool = False) -> tuple[Target, SendRequest]:
    """Only the rejected, failed and unconfirmed rows of a run, as a new run; with `where`, only
    those of its rejections the filter shows (the console's facet and `/`, `retry --reason`);
    with `include_unknown` (an event destination), also its events whose fate is unknown."""
    run = workspace.run(run_id)
    target = workspace.target(run.environment, run.destination, "retry")
    target.operator.require_writable("retry")
    where = None if is_everything(where) else where.matching if where is not None else None
    return target, SendRequest(environment=run.environment, destination=run_destination(target.destination, run),
                               source=None, operator=workspace.operator, data_dir=workspace.data_dir, retry_of=run.id,
                               retry_filter=where, send_constants=run_constants(run), include_unknown=include_unknown)


def retry_count(workspace: Workspace, run_id: int, where: RejectionFilter | None = None, *,
                include_unknown: bool = False) -> int:
    """How many rows `retry_request(run_id, where)` would send (what a confirmation names)."""
    run = workspace.run(run_id)
    with hist.HistoryStore(workspace.data_dir, readonly=True) as store:
        return len(retry_rows(store.connection, run.id, where, include_unknown=include_unknown))


def connected(workspace: Workspace, target: Target, request: SendRequest) -> SendRequest:
    """The request with its server and key, once send.started is recorded (a dry run needs neither)."""
    if request.dry_run:
        return request
    connection = resolve_target(target.environment, target.destination.credential,
                                secrets_file=workspace.secrets_file, data_dir=workspace.data_dir)
    request = dataclasses.replace(request, base_url=connection.base_url, api_key=connection.api_key)
    record(workspace, Action.SEND_STARTED, request.destination.name, environment=request.environment,
           details=send_started_details(request), secrets=[connection.api_key])
    return request


def send_refused(workspace: Workspace, request: SendRequest, reason: str) -> int:
    """Every send.started has its end, also when the engine refused before sending anything."""
    if not request.dry_run:
        record(workspace, Action.SEND_FINISHED, request.destination.name, environment=request.environment,
               details={"refused": reason, "exit_code": USAGE})
    return USAGE


def exit_code(result: SendResult, destination: Destination, waited: Waited | None = None) -> int:
    run = result.run
    if result.stop is not None:
        return HISTORY if result.stop.reason == "history" else CONNECTION
    if run.status == hist.CANCELLED:
        return CANCELLED
    if run.status not in (hist.FINISHED, hist.AWAITING):
        return OVER_THRESHOLD
    if run.rejection_share > destination.rejection_threshold:
        return OVER_THRESHOLD
    if waited is not None:
        verdict = waited.verification.verdict if waited.verification is not None else None
        if verdict == "mismatched":
            return OVER_THRESHOLD
        if waited.timed_out or verdict == "pending":
            return PENDING
    return OK


@dataclass(frozen=True)
class SendClosed:
    code: int
    warning: str | None = None   # the send.finished entry could not be written (the same full disk)


def send_finished(workspace: Workspace, result: SendResult, destination: Destination,
                  waited: Waited | None = None) -> SendClosed:
    """The exit code, and the send.finished entry that records it (none for a dry run)."""
    code = exit_code(result, destination, waited)
    run = result.run
    if run.mode == hist.RunMode.DRY_RUN:
        return SendClosed(code)
    try:
        record(workspace, Action.SEND_FINISHED, run.destination, environment=run.environment,
               details=send_finished_details(result, code))
    except LedgerError as err:
        return SendClosed(code, str(err))
    return SendClosed(code)


def duration_note(destination: Destination, rows: int | None) -> str | None:
    """How long a subscriptions send takes at Attentive's limits (10 subscribes, 5 unsubscribes a
    second): said before it starts, since a million rows take more than a day."""
    if destination.kind != "subscription" or not rows:
        return None
    rate = min(destination.rate_limit or math.inf, BY_NAME["subscriptions"].limit_per_second)
    seconds = rows / rate
    took = (_count(math.ceil(seconds), "second") if seconds < 90 else _count(math.ceil(seconds / 60), "minute")
            if seconds < 3600 else f"{seconds / 3600:.1f} hours" if seconds < 48 * 3600 else f"{seconds / 86400:.1f} days")
    return (f"at Attentive's {rate:g} subscribes a second ({BY_NAME['unsubscribe'].limit_per_second:g} for unsubscribes), "
            f"{rows:,} rows take at least {took}; a stopped or killed run goes on with `send --resume RUN_ID`")


def _count(n: int, unit: str) -> str:
    return f"{n:,} {unit}" + ("" if n == 1 else "s")
