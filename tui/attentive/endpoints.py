"""The Attentive endpoints we use, their published rate limits and the permission each needs."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Permission(str, Enum):
    """Permissions of an Attentive custom app, as named in Attentive's UI."""

    ATTRIBUTES = "attributes"        # "Custom Attributes"
    SUBSCRIPTIONS = "subscriptions"  # "Subscribers"

    @property
    def label(self) -> str:
        return {"attributes": "Custom Attributes", "subscriptions": "Subscribers"}[self.value]


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
SUBSCRIPTIONS = EndpointSpec("subscriptions", "POST", "/v1/subscriptions", 10, (Permission.SUBSCRIPTIONS,))

ALL = (ME, CUSTOM_ATTRIBUTES, CUSTOM_ATTRIBUTES_READ, BULK_ATTRIBUTES, BULK_JOB, SUBSCRIPTIONS)
BY_NAME = {e.name: e for e in ALL}

BULK_MAX_USERS = 256
ATTRIBUTE_NAME_MAX = 200
IDENTIFIER_MAX = 100
