"""The Attentive endpoints we use, their published rate limits and the permission each needs."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Permission(str, Enum):
    """Permissions of an Attentive custom app, as named in Attentive's UI."""

    ATTRIBUTES = "attributes"        # "Custom Attributes"
    SUBSCRIPTIONS = "subscriptions"  # "Subscribers"
    EVENTS = "events"                # "Custom Events" (OAuth scope events:write)
    ECOMMERCE = "ecommerce"          # "eCommerce" (OAuth scope ecommerce:write)
    SEGMENTS = "segments"            # OAuth scopes segments:read / segments:write (segments:all for bulk members)

    @property
    def label(self) -> str:
        return _LABELS[self.value]


_LABELS = {"attributes": "Custom Attributes", "subscriptions": "Subscribers", "events": "Custom Events",
           "ecommerce": "eCommerce", "segments": "Segments"}


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    method: str
    path: str
    limit_per_second: int
    permissions: tuple[Permission, ...]


ME = EndpointSpec("me", "GET", "/v1/me", 150, ())
CUSTOM_ATTRIBUTES = EndpointSpec("custom-attributes", "POST", "/v1/attributes/custom", 150, (Permission.ATTRIBUTES,))
CUSTOM_ATTRIBUTES_READ = EndpointSpec("custom-attributes-read", "GET", "/v1/attributes/custom", 150, (Permission.ATTRIBUTES,))
# Attentive documents both scopes for the bulk endpoint.
BULK_ATTRIBUTES = EndpointSpec(
    "bulk", "POST", "/v2/bulk/user/attributes", 100, (Permission.ATTRIBUTES, Permission.SUBSCRIPTIONS)
)
BULK_JOB = EndpointSpec("bulk-job", "GET", "/v2/bulk/job/{id}", 100, ())
# ATTENTIVE.md: "Subscribe 10/s, identity 10/s, unsubscribe 5/s".
SUBSCRIPTIONS = EndpointSpec("subscriptions", "POST", "/v1/subscriptions", 10, (Permission.SUBSCRIPTIONS,))
UNSUBSCRIBE = EndpointSpec("unsubscribe", "POST", "/v1/subscriptions/unsubscribe", 5, (Permission.SUBSCRIPTIONS,))
# The eligibility read has no limit of its own in ATTENTIVE.md or the spec; 10/s is the published
# subscriptions figure, chosen to be safe (the general 150/s may well apply, but is not promised).
SUBSCRIPTIONS_READ = EndpointSpec("subscriptions-read", "GET", "/v1/subscriptions", 10, (Permission.SUBSCRIPTIONS,))
# Subscribing or unsubscribing twice can text the person ("already subscribed", "you are
# unsubscribed"): the client sends these once, like the events.
SUBSCRIPTION_WRITES = (SUBSCRIPTIONS, UNSUBSCRIBE)
# Events: neither ATTENTIVE.md nor the v1 spec names a limit for them, so they take the general
# per-key, per-endpoint one ATTENTIVE.md documents: "150 requests/s for most endpoints".
CUSTOM_EVENTS = EndpointSpec("custom-events", "POST", "/v1/events/custom", 150, (Permission.EVENTS,))
PURCHASE_EVENTS = EndpointSpec("purchase-events", "POST", "/v1/events/ecommerce/purchase", 150, (Permission.ECOMMERCE,))
ADD_TO_CART_EVENTS = EndpointSpec(
    "add-to-cart-events", "POST", "/v1/events/ecommerce/add-to-cart", 150, (Permission.ECOMMERCE,)
)
PRODUCT_VIEW_EVENTS = EndpointSpec(
    "product-view-events", "POST", "/v1/events/ecommerce/product-view", 150, (Permission.ECOMMERCE,)
)
# The kinds of eCommerce event, as post_ecommerce_event and payloads.ecommerce_event_body name them.
ECOMMERCE_EVENTS = {"purchase": PURCHASE_EVENTS, "add-to-cart": ADD_TO_CART_EVENTS, "product-view": PRODUCT_VIEW_EVENTS}
# Sending an event twice counts it twice (no documented de-duplication): the client sends these once.
EVENTS = (CUSTOM_EVENTS, PURCHASE_EVENTS, ADD_TO_CART_EVENTS, PRODUCT_VIEW_EVENTS)
# Segments (v2). The spec names the scope on every operation: segments:write to create, patch,
# archive and change members (the bulk member texts say "segments:all"), segments:read OR :write to
# list and get; one Permission, SEGMENTS, stands for them all. The UI label of that permission is not
# documented anywhere: "Segments" is the scope's own name. Every one: "Default Rate Limit: 100
# requests per second". Member changes answer 202 with a batchJobId that GET /v2/bulk/job/{id} follows
# (BULK_JOB, no scope of its own); adding or removing a member twice leaves the same segment, so the
# member calls are retried as the bulk attribute POSTs are (not send-once).
SEGMENT_CREATE = EndpointSpec("segment-create", "POST", "/v2/segments", 100, (Permission.SEGMENTS,))
SEGMENT_LIST = EndpointSpec("segment-list", "GET", "/v2/segments", 100, (Permission.SEGMENTS,))
SEGMENT_GET = EndpointSpec("segment-get", "GET", "/v2/segments/external/{externalId}", 100, (Permission.SEGMENTS,))
SEGMENT_PATCH = EndpointSpec("segment-patch", "PATCH", "/v2/segments/external/{externalId}", 100, (Permission.SEGMENTS,))
SEGMENT_DELETE = EndpointSpec("segment-delete", "DELETE", "/v2/segments/external/{externalId}", 100, (Permission.SEGMENTS,))
SEGMENT_MEMBERS_ADD = EndpointSpec("segment-members-add", "POST", "/v2/bulk/segments/members", 100, (Permission.SEGMENTS,))
SEGMENT_MEMBERS_REMOVE = EndpointSpec(
    "segment-members-remove", "DELETE", "/v2/bulk/segments/members", 100, (Permission.SEGMENTS,)
)
SEGMENTS = (SEGMENT_CREATE, SEGMENT_LIST, SEGMENT_GET, SEGMENT_PATCH, SEGMENT_DELETE, SEGMENT_MEMBERS_ADD,
            SEGMENT_MEMBERS_REMOVE)

ALL = (ME, CUSTOM_ATTRIBUTES, CUSTOM_ATTRIBUTES_READ, BULK_ATTRIBUTES, BULK_JOB, SUBSCRIPTIONS, UNSUBSCRIBE,
       SUBSCRIPTIONS_READ, *EVENTS, *SEGMENTS)
BY_NAME = {e.name: e for e in ALL}

BULK_MAX_USERS = 256
ATTRIBUTE_NAME_MAX = 200
IDENTIFIER_MAX = 100
# The v2 segment limits (CreateSegmentRequest, SegmentMembers, SegmentMember).
SEGMENT_MEMBERS_MAX = 10_000
SEGMENT_NAME_MAX = 240
SEGMENT_DESCRIPTION_MIN, SEGMENT_DESCRIPTION_MAX = 2, 500
SEGMENT_EXTERNAL_ID_MAX = 255
