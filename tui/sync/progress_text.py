"""Progress and run summaries as plain text lines, for the CLI (and any other text watcher)."""
from __future__ import annotations

from tui.attentive.durations import format_clock
from tui.sync.history import RunMode, RunRecord, Verification
from tui.sync.membership import AudienceCounts
from tui.sync.progress import Progress


def progress_line(p: Progress) -> str:
    total = f"/{p.total_rows_estimate:,}" if p.total_rows_estimate else ""
    share = f" {p.fraction:.0%}" if p.fraction is not None else ""
    parts = [
        f"run {p.run_id} {p.state}",
        f"{p.done_rows:,}{total} rows{share}",
        f"ok {p.accepted:,}",
    ]
    if p.submitted:
        parts.append(f"submitted {p.submitted:,}")
    parts += [
        f"rejected {p.rejected:,}",
        f"invalid {p.invalid:,}",
        f"unchanged {p.skipped_unchanged:,}",
    ]
    if p.skipped_pending:
        parts.append(f"in a pending job {p.skipped_pending:,}")
    if p.unconfirmed:
        parts.append(f"unconfirmed {p.unconfirmed:,}")
    if p.skipped_already_sent:
        parts.append(f"already sent {p.skipped_already_sent:,}")
    if p.unknown:
        parts.append(f"UNKNOWN {p.unknown:,}")
    if p.failed:
        parts.append(f"failed {p.failed:,}")
    if p.not_sent:
        parts.append(f"would send {p.not_sent:,}")
    parts.append(f"in flight {p.in_flight:,}")
    if p.retrying:
        parts.append(f"retrying {p.retrying:,}")
    parts.append(f"{p.rows_per_s:,.0f} rows/s {p.shown_requests_per_s:,.0f} req/s")
    if p.rate_limit is not None:
        left = f", {p.ratelimit_remaining} left" if p.ratelimit_remaining is not None else ""
        parts.append(f"limit {p.rate_limit:g}/s{left}")
    if not p.stopped:  # a stopped run has nothing left to estimate
        parts.append(f"ETA {format_clock(p.eta_s)}")
    return " | ".join(parts)


def run_summary(run: RunRecord, threshold: float | None = None) -> list[str]:
    lines = [
        f"run {run.id} {run.status} in {run.duration_s:.1f}s: {run.destination} -> {run.environment} "
        f"({run.endpoint}, {run.mode})",
        f"  rows read {run.rows_read:,}; accepted {run.accepted:,}; rejected by Attentive {run.rejected:,}; "
        f"invalid {run.invalid:,}; unchanged (skipped) {run.skipped_unchanged:,}; failed {run.failed:,}"
        + (f"; would send {run.not_sent:,}" if run.mode == RunMode.DRY_RUN else "")
        + (f"; {'would leave' if run.mode == RunMode.DRY_RUN else 'left'} (false) {run.audience_left:,}"
           if run.audience_left else ""),
    ]
    waiting = [f"submitted, results pending {run.submitted:,}" if run.submitted else "",
               f"unconfirmed {run.unconfirmed:,}" if run.unconfirmed else "",
               f"skipped, already in a pending job {run.skipped_pending:,}" if run.skipped_pending else "",
               f"skipped, already sent {run.skipped_already_sent:,}" if run.skipped_already_sent else ""]
    if any(waiting):
        lines.append("  " + "; ".join(w for w in waiting if w))
    if run.stale_events:
        lines.append(f"  {run.stale_events:,} events over 12 hours old: Attentive records them, but they trigger no journeys")
    if run.unknown:
        lines.append(f"  unknown {run.unknown:,}: sent without an answer that says whether Attentive recorded them, so "
                     f"not sent again on their own; list them with `attentive-console rejections {run.id} --reason "
                     f"event_unknown`, check in Attentive, then `attentive-console retry {run.id} --include-unknown`")
    if run.status == "awaiting_results":
        lines.append(f"  Attentive is processing the bulk jobs (hours for large sends); follow them with: "
                     f"attentive-console jobs --run {run.id} --wait")
    if run.problem_rows:
        limit = f" (threshold {threshold:.1%})" if threshold is not None else ""
        lines.append(f"  rejections {run.rejection_share:.1%}{limit}: attentive-console rejections {run.id}")
    if run.message:
        lines.append(f"  {run.message}")
    return lines


def audience_summary(counts: AudienceCounts, *, dry_run: bool, override: str) -> list[str]:
    """Joins, stays and leaves of an audience destination's send (a dry run: what a send would do);
    `override` says how this front end gets past the shrink guard."""
    verb = ("would join", "would stay", "would leave") if dry_run else ("join", "stay", "leave")
    lines = [f"  {counts.label}: {counts.members:,} members before; {counts.joins:,} {verb[0]}, "
             f"{counts.stays:,} {verb[1]}, {counts.leaves:,} {verb[2]} "
             f"({counts.leave_share:.0%} of the members; the limit is {counts.limit:.0%})"]
    if counts.refusal is not None:
        lines.append(f"  a send would be refused: {counts.refusal}" + (f": {override}" if counts.shrinking else ""))
    return lines


_VERDICTS = {"matched": "matched", "mismatched": "MISMATCHED",
             "pending": "pending (differs for now; Attentive may take up to 24 hours, it is tried again)"}


def verification_summary(result: Verification) -> list[str]:
    lines = [f"  read-back {_VERDICTS[result.verdict]}: {result.matched}/{result.checked} profiles match"
             f" ({result.mismatched} differ, {result.missing} not found)"]
    for detail in result.details[:10]:
        where = f"row {detail['row']}: " if "row" in detail else ""
        attribute = (f" {detail['attribute']!r}: sent {detail.get('sent')!r}, read {detail.get('got')!r}"
                     if "attribute" in detail else "")
        lines.append(f"    {where}{detail['problem']}{attribute}")
        if detail.get("explanation"):
            lines.append(f"      {detail['explanation']}")
    return lines
