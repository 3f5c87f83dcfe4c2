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

    @property
    def label(self) -> str:
        return _LABELS[self.value]


_LABELS = {"attributes": "Custom Attributes", "subscriptions": "Subscribers", "events": "Custom Events",
           "ecommerce": "eCommerce"}


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

ALL = (ME, CUSTOM_ATTRIBUTES, CUSTOM_ATTRIBUTES_READ, BULK_ATTRIBUTES, BULK_JOB, SUBSCRIPTIONS, UNSUBSCRIBE,
       SUBSCRIPTIONS_READ, *EVENTS)
BY_NAME = {e.name: e for e in ALL}

BULK_MAX_USERS = 256
ATTRIBUTE_NAME_MAX = 200
IDENTIFIER_MAX = 100
