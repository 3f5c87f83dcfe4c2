"""Turning an HTTP exchange (or its failure) into an Outcome, and the data types the client returns.

Kept apart from the transport so classification can be read, and tested, as a table.
"""
from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from tui.attentive.endpoints import EndpointSpec
from tui.attentive.outcomes import Outcome, OutcomeKind

MAX_TEXT = 2000          # response text kept in an outcome; enough for any error message
MAX_RETRY_AFTER_S = 300  # a Retry-After beyond this is treated as this: a stray header must not stall a run for hours


@dataclass(frozen=True)
class Me:
    """GET /v1/me: who the key belongs to."""

    application_name: str
    company_name: str
    attentive_domain_name: str = ""
    contact_email: str = ""
    company_id: str = ""


@dataclass(frozen=True)
class BulkJob:
    """GET /v2/bulk/job/{id}. status: PENDING | IN_PROGRESS | COMPLETED | FAILED, as the spec's "common
    values include" says: any other word is kept as sent. `body` is the whole answer, verbatim."""

    id: str
    status: str
    total_records: int | None = None
    url: str | None = None
    body: str = ""
    message: str = ""            # the first message-like field of the body ("with error messages if applicable")


@dataclass
class EndpointStats:
    requests: int = 0        # HTTP requests sent, retries included
    throttled: int = 0       # 429 answers
    retries: int = 0         # requests repeated after a retryable outcome (429 included)
    errors: int = 0          # timeouts and connection errors
    ratelimit_remaining: int | None = None
    ratelimit_limit: int | None = None


@dataclass
class ClientStats:
    """Counters per endpoint name, for progress lines and benchmarks."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)

    def of(self, endpoint_name: str) -> EndpointStats:
        stats = self.endpoints.get(endpoint_name)
        if stats is None:
            stats = self.endpoints[endpoint_name] = EndpointStats()
        return stats

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.endpoints.values())

    @property
    def throttled(self) -> int:
        return sum(s.throttled for s in self.endpoints.values())

    @property
    def retries(self) -> int:
        return sum(s.retries for s in self.endpoints.values())


class CommonFields(TypedDict):
    """The Outcome fields every classified HTTP answer carries, whatever its kind."""

    status: int
    ratelimit_remaining: int | None


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def classify(endpoint: EndpointSpec, status: int, text: str, headers: Mapping[str, str]) -> Outcome:
    """Classify one HTTP answer. Bodies are kept as raw text: their shapes are undocumented."""
    text = text[:MAX_TEXT]
    remaining = header_int(headers, "x-ratelimit-remaining")
    common: CommonFields = {"status": status, "ratelimit_remaining": remaining}
    if 200 <= status < 300:
        return Outcome(OutcomeKind.ACCEPTED, text=text, **common)
    if status == 401:
        return Outcome(OutcomeKind.FATAL, text=_with_detail("the API key was not accepted (HTTP 401)", text), **common)
    if status == 403:
        return forbidden(endpoint, text, common)
    if status == 429:
        return Outcome(
            OutcomeKind.RETRYABLE,
            text=_with_detail("rate limited (HTTP 429)", text),
            retry_after=retry_after_seconds(headers.get("Retry-After")),
            **common,
        )
    if status >= 500 or status == 408:
        return Outcome(OutcomeKind.RETRYABLE, text=_with_detail(f"server error (HTTP {status})", text), **common)
    if 300 <= status < 400:
        where = headers.get("Location", "elsewhere")
        return Outcome(OutcomeKind.REJECTED, text=f"unexpected redirect (HTTP {status}) to {where}", **common)
    # 400, 404 and the other 4xx: this request's fault. Keep the server's words as they are.
    return Outcome(OutcomeKind.REJECTED, text=text or f"HTTP {status} with an empty body", **common)


def forbidden(endpoint: EndpointSpec, text: str, common: CommonFields) -> Outcome:
    labels = [p.label for p in endpoint.permissions]
    if labels:
        needed = " and ".join(labels)
        noun = "permission" if len(labels) == 1 else "permissions"
        message = (
            f"access denied (HTTP 403): {endpoint.method} {endpoint.path} needs the {needed} {noun}; "
            f"grant it to the custom app behind this API key in Attentive"
        )
        return Outcome(OutcomeKind.FATAL, text=_with_detail(message, text), permission=needed, **common)
    return Outcome(OutcomeKind.FATAL, text=_with_detail("access denied (HTTP 403)", text), **common)


def transport_failure(description: str) -> Outcome:
    """Timeouts and connection errors: no status, always worth another attempt."""
    return Outcome(OutcomeKind.RETRYABLE, status=None, text=description)


def unexpected_body(outcome: Outcome, what: str) -> Outcome:
    """A 2xx whose body is not the documented shape (a proxy page, a truncated body): retrying the
    same request will not fix it, so it is a rejection that says what arrived."""
    return Outcome(
        OutcomeKind.REJECTED,
        status=outcome.status,
        text=f"HTTP {outcome.status} but the body is not {what}: {outcome.text[:300] or '(empty)'}",
        ratelimit_remaining=outcome.ratelimit_remaining,
        attempts=outcome.attempts,
    )


def parse_me(body: Any) -> Me | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("companyName"), str):
        return None
    return Me(
        application_name=str(body.get("applicationName") or ""),
        company_name=body["companyName"],
        attentive_domain_name=str(body.get("attentiveDomainName") or ""),
        contact_email=str(body.get("contactEmail") or ""),
        company_id=str(body.get("companyId") or ""),
    )


def parse_custom_attributes(body: Any) -> dict[str, Any] | None:
    """The read-back array of {name, value} as a dict. The spec's own `required` says "attribute"
    where its properties say "name", so either key is read."""
    if not isinstance(body, list):
        return None
    attributes: dict[str, Any] = {}
    for item in body:
        if not isinstance(item, Mapping):
            return None
        name = item.get("name", item.get("attribute"))
        if isinstance(name, str):
            attributes[name] = item.get("value")
    return attributes


def parse_batch_job_id(body: Any) -> str | None:
    if isinstance(body, Mapping) and isinstance(body.get("batchJobId"), str) and body["batchJobId"]:
        return body["batchJobId"]
    return None


# Where a job's error may be: the spec promises "error messages if applicable" and names no field.
_MESSAGE_FIELDS = ("errorMessage", "error_message", "message", "error", "errors", "failureReason", "reason", "detail")


def parse_bulk_job(body: Any, job_id: str, text: str = "") -> BulkJob | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("status"), str):
        return None
    total = body.get("totalRecords")
    url = body.get("url")
    return BulkJob(
        id=str(body.get("bulkJobId") or job_id),
        status=body["status"],
        total_records=total if isinstance(total, int) and not isinstance(total, bool) else None,
        url=url if isinstance(url, str) and url.strip() else None,
        body=text,
        message=_first_message(body),
    )


def _first_message(body: Mapping[str, Any]) -> str:
    for name in _MESSAGE_FIELDS:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value not in (None, "", [], {}):
            return json.dumps(value, ensure_ascii=False)
    return ""


def _with_detail(message: str, text: str) -> str:
    detail = " ".join(text.split())[:300]
    return f"{message}: {detail}" if detail else message


def with_parsed_body(outcome: Outcome, body: str, parse: Callable[[Any], Any], what: str, *,
                     allow_empty: bool = False) -> Outcome:
    """Attach the parsed body as data; a success whose body `parse` cannot read becomes a rejection."""
    if not outcome.ok:
        return outcome
    if allow_empty and not body.strip():
        return outcome
    try:
        parsed = json.loads(body)
    except ValueError:
        return unexpected_body(outcome, what)
    data = parse(parsed)
    if data is None:
        return unexpected_body(outcome, what)
    return replace(outcome, data=data)


def unknown(outcome: Outcome, note: str) -> Outcome:
    """A send-once request's retryable answer that may have followed its arrival (a 5xx, a timeout,
    a dropped connection): UNKNOWN, with the reason and `note` (what a repeat would do) kept, for
    the sender to decide on; never repeated here."""
    return replace(outcome, kind=OutcomeKind.UNKNOWN, text=f"{outcome.text} (not repeated: it may have arrived, {note})")


def cancelled(attempts: int) -> Outcome:
    """The request was not sent (again): the send it belongs to was cancelled."""
    return Outcome(OutcomeKind.RETRYABLE, status=None, text="not sent: the send was cancelled", attempts=attempts)


def not_sent(error: Exception) -> Outcome:
    return Outcome(OutcomeKind.REJECTED, status=None, text=f"not sent: {error}", attempts=0)
