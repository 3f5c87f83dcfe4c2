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
# Events (custom and purchase), see events.py and purchases.py.
EVENT_TYPE_INVALID = "event_type_invalid"    # the type column is empty or holds " ' ( ) { } [ ] \ | ,
PROPERTY_NAME_INVALID = "property_name_invalid"  # a key inside an object property holds " { } [ ] \ |
TOO_MANY_PROPERTIES = "too_many_properties"  # over 200 property keys (nested objects' keys counted)
SMS_NESTED_PROPERTY = "sms_nested_property"  # a list or object on a destination marked sms (email only)
TIMESTAMP_NO_OFFSET = "timestamp_no_offset"  # no UTC offset and no time_zone configured
TIMESTAMP_INVALID = "timestamp_invalid"      # empty, unreadable, or a local time the time zone skips
MISSING_EVENT_KEY = "missing_event_key"      # an event_key column is empty: the event has no stable id
MISSING_PURCHASE_VALUE = "missing_purchase_value"  # the order, product or variant id is empty
PRICE_INVALID = "price_invalid"              # not a number (or negative)
CURRENCY_INVALID = "currency_invalid"        # not an ISO 4217 code
QUANTITY_INVALID = "quantity_invalid"        # not a whole number of at least 1
ORDER_INCONSISTENT = "order_inconsistent"    # rows of one order differ in user, time or event key
ORDER_NOT_CONTIGUOUS = "order_not_contiguous"  # an order's rows resume after other orders' rows
ORDER_REJECTED = "order_rejected"            # another row of its order was rejected: orders go whole or not at all
DUPLICATE_EVENT = "duplicate_event"          # a later row (or order) with an event id already in this run
CONSENT_INVALID = "consent_invalid"          # a subscription's consent is neither true, false nor empty

# Decided by Attentive.
ATTENTIVE_REJECTED = "attentive_rejected"    # 400/404 with Attentive's text (v1 call or bulk record)
SEND_FAILED = "send_failed"                  # still failing (5xx, timeouts, network) after every retry
NO_RESULT = "no_result"                      # unconfirmed: a completed bulk job had no readable line for it
JOB_FAILED = "job_failed"                    # failed: its bulk job ended FAILED (the job's own message)
NO_JOB_ID = "no_job_id"                      # unconfirmed: Attentive answered 2xx without a readable batchJobId
JOB_WITHOUT_RESULTS = "job_without_results"  # unconfirmed: the job COMPLETED but gave no results url
JOB_EXPIRED = "job_expired"                  # unconfirmed: no final status within Attentive's two-week retention
EVENT_UNKNOWN = "event_unknown"              # unknown: an event sent without an answer that says whether it arrived

LOCAL = (
    MALFORMED_ROW, MISSING_IDENTIFIER, INVALID_EMAIL, INVALID_PHONE, IDENTIFIER_TOO_LONG,
    NON_SCALAR_VALUE, NO_ATTRIBUTES, DUPLICATE_IDENTIFIER, ATTRIBUTE_TYPE_INVALID,
    EVENT_TYPE_INVALID, PROPERTY_NAME_INVALID, TOO_MANY_PROPERTIES, SMS_NESTED_PROPERTY, TIMESTAMP_NO_OFFSET,
    TIMESTAMP_INVALID, MISSING_EVENT_KEY, MISSING_PURCHASE_VALUE, PRICE_INVALID, CURRENCY_INVALID, QUANTITY_INVALID,
    ORDER_INCONSISTENT, ORDER_NOT_CONTIGUOUS, ORDER_REJECTED, DUPLICATE_EVENT, CONSENT_INVALID,
)
UNCONFIRMED = (NO_RESULT, NO_JOB_ID, JOB_WITHOUT_RESULTS, JOB_EXPIRED)
ALL = LOCAL + (ATTENTIVE_REJECTED, SEND_FAILED, JOB_FAILED) + UNCONFIRMED + (EVENT_UNKNOWN,)
