"""Typed settings shared by the console, the CLI and the engine. Plain data; loading lives elsewhere."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

EnvironmentName = Literal["sandbox", "production"]
ENVIRONMENTS: tuple[EnvironmentName, ...] = ("sandbox", "production")
DestinationEndpoint = Literal["bulk", "custom-attributes"]


def environment_name(text: str) -> EnvironmentName:
    """An environment named by text (a run's, as the history keeps it), checked."""
    if text == "sandbox":
        return "sandbox"
    if text == "production":
        return "production"
    raise ValueError(f"unknown environment {text!r}: use sandbox or production")
EMBEDDED = "embedded"


@dataclass(frozen=True)
class AccessPolicy:
    admins: tuple[str, ...] = ()
    restricted_pii: tuple[str, ...] = ()

    # "*" stands for every login (the shipped embedded demo; refused with a real api_url).
    def is_admin(self, login: str) -> bool:
        return login in self.admins or "*" in self.admins

    def is_restricted(self, login: str) -> bool:
        return login in self.restricted_pii or "*" in self.restricted_pii


@dataclass(frozen=True)
class Credential:
    name: str
    description: str
    type: str                 # "custom-attributes-api"
    api_key_ref: str          # "secret:NAME", "env:VAR" or, for the embedded simulator only, "demo:ENV"


# Destination fields added after the first histories were written, with their unset values.
OPTIONAL_HASHED: dict[str, object] = {"constants": {}, "types": {}, "client_user_id": None, "custom_identifiers": {},
                                      "audience": None}


@dataclass(frozen=True)
class Destination:
    name: str
    description: str
    credential: str
    primary_identifier: Literal["email", "phone"]
    endpoint: DestinationEndpoint = "bulk"
    admin_only: bool = False
    allow_restricted_pii: bool = True
    verbose_logging: bool = True
    phone_region: str = "US"
    rejection_threshold: float = 0.05
    rate_limit: float | None = None
    subscriptions: bool = False
    identifiers: dict[str, str] = field(default_factory=dict)   # "email"/"phone" -> source column
    attributes: dict[str, str] = field(default_factory=dict)    # custom attribute name -> source column
    constants: dict[str, str] = field(default_factory=dict)     # custom attribute name -> value sent on every profile
    types: dict[str, str] = field(default_factory=dict)         # attribute name -> string | number | boolean | date
    # Bulk only: identifiers sent beside the primary one (never instead of it).
    client_user_id: str | None = None                           # source column -> clientUserId
    custom_identifiers: dict[str, str] = field(default_factory=dict)  # identifier key -> source column
    # Audience membership: every profile of the file gets `audience` = true; confirmed members of the
    # last finished membership send that are absent now get false, unless more than
    # `audience_shrink_limit` of the members would leave (a truncated export) and --allow-shrink is not given.
    audience: str | None = None
    audience_shrink_limit: float = 0.5

    def config_hash(self) -> str:
        """Canonical hash of what decides the payloads; the credential name is excluded so a
        sandbox test send vouches for the same definition under production's credential."""
        body = asdict(self)
        body.pop("credential")
        body.pop("description")
        body.pop("audience_shrink_limit")  # a guard, not part of any payload
        for key, unset in OPTIONAL_HASHED.items():   # absent when unset: older definitions keep their hash
            if body[key] == unset:
                body.pop(key)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Environment:
    name: EnvironmentName
    path: Path
    api_url: str
    access: AccessPolicy = AccessPolicy()
    credentials: dict[str, Credential] = field(default_factory=dict)
    destinations: dict[str, Destination] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.api_url == EMBEDDED
