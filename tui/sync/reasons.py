"""Stable reason codes of the rejection log (scripts filter on them: never rename one)."""
from __future__ import annotations

# Found locally, before sending: the row is never sent.
MALFORMED_ROW = "malformed_row"              # the record itself cannot be read (fields, quotes, JSON)
MISSING_IDENTIFIER = "missing_identifier"    # the primary identifier is empty
INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
IDENTIFIER_TOO_LONG = "identifier_too_long"  # over Attentive's 100 characters
NON_SCALAR_VALUE = "non_scalar_value"        # a list or object (JSON Lines) as an attribute value
NO_ATTRIBUTES = "no_attributes"              # nothing to send besides the identifier
DUPLICATE_IDENTIFIER = "duplicate_identifier"  # a later row with an identifier already in this run
ATTRIBUTE_TYPE_INVALID = "attribute_type_invalid"  # a value that does not convert to its attribute's declared type

# Decided by Attentive.
ATTENTIVE_REJECTED = "attentive_rejected"    # 400/404 with Attentive's text (v1 call or bulk record)
SEND_FAILED = "send_failed"                  # still failing (5xx, timeouts, network) after every retry
NO_RESULT = "no_result"                      # unconfirmed: a completed bulk job had no readable line for it
JOB_FAILED = "job_failed"                    # failed: its bulk job ended FAILED (the job's own message)
NO_JOB_ID = "no_job_id"                      # unconfirmed: Attentive answered 2xx without a readable batchJobId
JOB_WITHOUT_RESULTS = "job_without_results"  # unconfirmed: the job COMPLETED but gave no results url
JOB_EXPIRED = "job_expired"                  # unconfirmed: no final status within Attentive's two-week retention

LOCAL = (
    MALFORMED_ROW, MISSING_IDENTIFIER, INVALID_EMAIL, INVALID_PHONE, IDENTIFIER_TOO_LONG,
    NON_SCALAR_VALUE, NO_ATTRIBUTES, DUPLICATE_IDENTIFIER, ATTRIBUTE_TYPE_INVALID,
)
UNCONFIRMED = (NO_RESULT, NO_JOB_ID, JOB_WITHOUT_RESULTS, JOB_EXPIRED)
ALL = LOCAL + (ATTENTIVE_REJECTED, SEND_FAILED, JOB_FAILED) + UNCONFIRMED
