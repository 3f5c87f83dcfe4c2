"""Read-back verification: fetch profiles a run sent through GET /v1/attributes/custom and compare
attribute by attribute, exactly (compare.py). The profiles are rebuilt from the run's source file
(its hash must still match), so `verify RUN_ID` works on any run, long after it finished.

A test send's read-back is scheduled, not run at once: Attentive may take up to 24 hours to show a
change, so jobs.py tries it once the run's jobs have resolved and again over a window until it
matches. One attempt here says only matched or mismatched; the follower decides "pending"."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import FatalAttentiveError, OutcomeKind
from tui.attentive.secret import ApiKey
from tui.settings.model import Destination
from tui.sync import job_schedule
from tui.sync.compare import compare_value
from tui.sync.history import HistoryStore, RunRecord, Verification
from tui.sync.job_store import JobStore
from tui.sync.membership import leave_profiles
from tui.sync.membership_state import is_leave_row
from tui.sync.profiles import Profile, ProfileBuilder
from tui.sync.run_inputs import run_destination, run_source
from tui.sync.sources import SourceError, SourceInfo, SourceReader, inspect_source

MAX_DETAILS = 100
CONCURRENCY = 8
SAMPLE_MAX = 100


class CannotVerify(Exception):
    """The run's profiles cannot be rebuilt as they were sent (the file or the destination changed)."""


def profiles_for_rows(info: SourceInfo, builder: ProfileBuilder, rows: Collection[int]) -> list[Profile]:
    wanted = set(rows)
    found: list[Profile] = []
    for chunk in SourceReader(info, builder.columns).chunks():
        for source in chunk:
            if source.row in wanted:
                built = builder.build(source)
                if isinstance(built, Profile):
                    found.append(built)
        if len(found) == len(wanted) or (chunk and chunk[-1].row >= max(wanted, default=0)):
            break
    return found


async def read_back(client: AttentiveClient, run_id: int, kind: str, profiles: list[Profile],
                    *, verbose: bool = True) -> Verification:
    """Raises FatalAttentiveError on 401/403."""
    gate = asyncio.Semaphore(CONCURRENCY)
    details: list[dict[str, Any]] = []
    counts = {"matched": 0, "mismatched": 0, "missing": 0}

    def note(profile: Profile, problem: str, **extra: Any) -> None:
        if len(details) < MAX_DETAILS:
            details.append({"row": profile.row, "identifier": profile.identifier if verbose else None,
                            "problem": problem, **extra})

    async def check(profile: Profile) -> None:
        async with gate:
            outcome = await client.get_custom_attributes(**{kind: profile.identifier})
        if outcome.kind is OutcomeKind.FATAL:
            raise FatalAttentiveError(outcome, outcome.text)
        if outcome.status == 404:
            counts["missing"] += 1
            note(profile, "profile not found")
            return
        if not outcome.ok:
            counts["mismatched"] += 1
            note(profile, f"read failed: {outcome.text[:200]}")
            return
        stored = outcome.data or {}
        different = False
        for name, sent in profile.attributes.items():
            difference = compare_value(sent, stored.get(name))
            if difference is not None:
                different = True
                note(profile, difference.problem, attribute=name, explanation=difference.explanation,
                     sent=sent if verbose else None, got=stored.get(name) if verbose else None)
        counts["mismatched" if different else "matched"] += 1

    await asyncio.gather(*(check(p) for p in profiles))
    checked = len(profiles)
    passed = checked > 0 and counts["matched"] == checked
    return Verification(run_id, time.time(), checked, counts["matched"], counts["mismatched"], counts["missing"],
                        passed, details, "matched" if passed else "mismatched")


def sample_profiles(store: HistoryStore, run: RunRecord, destination: Destination, *,
                    limit: int = SAMPLE_MAX) -> list[Profile]:
    """The profiles of a run that Attentive may hold, rebuilt from its source as they were sent."""
    destination = run_destination(destination, run)
    if run.config_hash != destination.config_hash():
        raise CannotVerify(f"destination {destination.name!r} changed since run {run.id}; a read-back would "
                           "compare against a different mapping")
    try:
        info = inspect_source(run_source(run))
    except SourceError as exc:
        raise CannotVerify(f"cannot read run {run.id}'s source again: {exc}") from None
    if info.sha256 != run.source_hash:
        raise CannotVerify(f"{info.name} changed since run {run.id} read it, so its rows cannot be rebuilt "
                           "as they were sent")
    rows = [row for row in store.rows_to_read_back(run.id, limit) if not is_leave_row(row)]
    # An audience send's leaves (false) are read back too, up to half the sample when the file fills it.
    leaves = (leave_profiles(store.connection, run.id, destination.audience, limit - min(len(rows), limit - limit // 2))
              if destination.audience else [])
    return profiles_for_rows(info, ProfileBuilder(destination), rows[:limit - len(leaves)]) + leaves


async def read_back_run(client: AttentiveClient, store: HistoryStore, run: RunRecord,
                        destination: Destination) -> Verification:
    """One read-back attempt of a run (not saved: the caller decides its state and saves it). A run
    that cannot be rebuilt is a mismatch that says why."""
    try:
        profiles = sample_profiles(store, run, destination)
    except CannotVerify as exc:
        return Verification(run.id, time.time(), 0, 0, 0, 0, False, [{"problem": str(exc)}], "mismatched")
    return await read_back(client, run.id, destination.primary_identifier, profiles,
                           verbose=destination.verbose_logging)


def record_attempt(store: HistoryStore, result: Verification, now: float) -> Verification:
    """Save one attempt with its state. A scheduled read-back stays `pending` while it differs and
    its window is open (it is tried again later); a match, or the window's end, settles it."""
    jobs = JobStore(store.connection)
    scheduled = jobs.read_back_of(result.run_id)
    if result.verdict != "matched" and scheduled is not None and now < scheduled.window_ends_at:
        result = replace(result, state="pending", passed=False)
        jobs.read_back_done(result.run_id, next_at=min(
            scheduled.window_ends_at, now + job_schedule.next_check_delay(scheduled.attempts + 1)))
    elif scheduled is not None:
        jobs.read_back_done(result.run_id, next_at=None)
    store.save_verification(result)
    return result


async def verify_run(store: HistoryStore, run: RunRecord, destination: Destination, base_url: str, api_key: ApiKey,
                     *, limit: int = SAMPLE_MAX) -> Verification:
    """Read back up to `limit` profiles of a run now (`attentive-console verify RUN_ID`) and record it.
    Raises CannotVerify when the run's rows cannot be rebuilt or it has nothing to read back."""
    profiles = sample_profiles(store, run, destination, limit=limit)
    if not profiles:
        raise CannotVerify(f"run {run.id} has no accepted or unconfirmed profiles to read back")
    async with AttentiveClient(base_url, api_key) as client:
        result = await read_back(client, run.id, destination.primary_identifier, profiles,
                                 verbose=destination.verbose_logging)
    return record_attempt(store, result, time.time())
