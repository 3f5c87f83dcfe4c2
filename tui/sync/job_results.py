"""What a bulk job's answer means for each profile of its batch: verdicts from the status and the
results file, without guessing.

Results lines are matched to the batch's profiles by the identifier they echo, and nothing else:
first exactly, then as Attentive may normalise it (an email in lower case, a phone without its "+"
or its formatting). A line's position is never used, since the line format is undocumented and its
order is not promised. A line that cannot be read, names no profile of the batch, or names one a
second time is kept raw; a profile no line names is `unconfirmed`, never failed.
"""
from __future__ import annotations

from collections.abc import Sequence

from tui.attentive.bulk_results import BulkResults
from tui.sync import reasons
from tui.sync.history_schema import (
    ACCEPTED,
    FAILED,
    JOB_COMPLETED,
    JOB_EXPIRED,
    JOB_FAILED,
    JOB_UNCONFIRMED,
    REJECTED,
    UNCONFIRMED,
)
from tui.sync.job_store import JobLine, JobRecord, JobRow, Resolution, RowVerdict


def _loose(identifier: str) -> str:
    """The form Attentive might echo: emails case-folded, phones as their digits."""
    text = identifier.strip()
    if "@" in text:
        return text.casefold()
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits or text.casefold()


def completed(job: JobRecord, rows: Sequence[JobRow], results: BulkResults, *, status: str, body: str,
              url: str) -> Resolution:
    exact = {row.identifier: row for row in rows}
    loose: dict[str, JobRow | None] = {}
    for row in rows:
        key = _loose(row.identifier)
        loose[key] = None if key in loose else row  # two profiles alike when loosened: match neither loosely
    verdicts: dict[int, RowVerdict] = {}
    lines = [JobLine(job.id, line.line_no, "unreadable", line.text) for line in results.unparsed]
    for record in results.records:
        found = None
        if record.identifier:
            found = exact.get(record.identifier) or loose.get(_loose(record.identifier))
        if found is None:
            lines.append(JobLine(job.id, record.line_no, "unmatched", record.raw))
        elif found.row in verdicts:
            lines.append(JobLine(job.id, record.line_no, "duplicate", record.raw))
        elif record.ok:
            verdicts[found.row] = RowVerdict(found.row, ACCEPTED)
        else:
            verdicts[found.row] = RowVerdict(found.row, REJECTED, reasons.ATTENTIVE_REJECTED, record.status,
                                             record.message or record.raw)
    silent = [row for row in rows if row.row not in verdicts]
    for row in silent:
        verdicts[row.row] = RowVerdict(row.row, UNCONFIRMED, reasons.NO_RESULT, None,
                                       f"bulk job {job.job_id} completed, but no readable line of its results "
                                       "names this profile")
    message = f"{len(silent)} of {len(rows)} profiles without a readable result" if silent else None
    if lines:
        kept = f"{len(lines)} result lines kept raw (see `attentive-console jobs --run {job.run_id} --json`)"
        message = f"{message}; {kept}" if message else kept
    return Resolution(JOB_COMPLETED, status, body, url, message, list(verdicts.values()), lines)


def failed(job: JobRecord, rows: Sequence[JobRow], *, status: str, body: str, message: str) -> Resolution:
    """The job's own words, or its whole body when it names none."""
    said = message or body
    text = f"bulk job {job.job_id} {status}: {said}"
    verdicts = [RowVerdict(row.row, FAILED, reasons.JOB_FAILED, None, text) for row in rows]
    return Resolution(JOB_FAILED, status, body, None, said, verdicts)


def without_results(job: JobRecord, rows: Sequence[JobRow], *, status: str, body: str) -> Resolution:
    text = f"bulk job {job.job_id} {status} without a results url, so no profile's result is known"
    verdicts = [RowVerdict(row.row, UNCONFIRMED, reasons.JOB_WITHOUT_RESULTS, None, text) for row in rows]
    return Resolution(JOB_UNCONFIRMED, status, body, None, "completed without a results url", verdicts)


def expired(job: JobRecord, rows: Sequence[JobRow], *, last_seen: str) -> Resolution:
    text = (f"bulk job {job.job_id} gave no final status within Attentive's two-week retention "
            f"(last seen: {last_seen})")
    verdicts = [RowVerdict(row.row, UNCONFIRMED, reasons.JOB_EXPIRED, None, text) for row in rows]
    return Resolution(JOB_EXPIRED, None, None, job.url, text, verdicts)
