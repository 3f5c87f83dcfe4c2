"""Read-back verification: fetch profiles a run sent through GET /v1/attributes/custom and compare
attribute by attribute. The profiles are rebuilt from the run's source file (its hash must still
match), so `verify RUN_ID` works on any run, long after it finished."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import FatalAttentiveError, OutcomeKind
from tui.sync.history import Verification
from tui.sync.profiles import Profile, ProfileBuilder
from tui.sync.sources import SourceInfo, SourceReader

MAX_DETAILS = 100
CONCURRENCY = 8


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


def same_value(sent: Any, got: Any) -> bool:
    """Attentive reads values back as text; "24" and 24, True and "true" are the same value."""
    if isinstance(sent, bool):
        sent = "true" if sent else "false"
    if isinstance(got, bool):
        got = "true" if got else "false"
    left, right = str(sent).strip(), str(got).strip()
    if left == right:
        return True
    try:
        return float(left) == float(right)
    except ValueError:
        return left.lower() == right.lower() and left.lower() in ("true", "false")


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
            got = stored.get(name)
            if got is None or not same_value(sent, got):
                different = True
                note(profile, "attribute differs", attribute=name, sent=sent if verbose else None,
                     got=got if verbose else None)
        counts["mismatched" if different else "matched"] += 1

    await asyncio.gather(*(check(p) for p in profiles))
    checked = len(profiles)
    passed = checked > 0 and counts["matched"] == checked
    return Verification(run_id, time.time(), checked, counts["matched"], counts["mismatched"], counts["missing"],
                        passed, details)
