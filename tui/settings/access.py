"""Who the operator is and what they may do; identifier masking for restricted-PII operators.

The operator is the OS login name (the CLI's `main(..., operator=...)` is the only override, for
tests). Rules, enforced here for the CLI, the console and the engine alike:
- read-only refuses every change;
- admin-only destinations refuse non-admins (using and editing them);
- changes to production's file (credentials, destinations) are admin actions, as promotion is;
- restricted-PII operators see identifiers masked, cannot export them unmasked and cannot use
  destinations with allow_restricted_pii = false.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from tui.settings.errors import AccessDenied
from tui.settings.model import AccessPolicy, Destination, EnvironmentName

_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Operator:
    login: str
    is_admin: bool
    restricted_pii: bool
    read_only: bool

    @classmethod
    def of(cls, login: str, policy: AccessPolicy, *, read_only: bool = False) -> Operator:
        return cls(login, policy.is_admin(login), policy.is_restricted(login), read_only)

    @property
    def role(self) -> str:
        if self.is_admin:
            return "admin"
        return "restricted PII" if self.restricted_pii else "operator"

    def require_writable(self, action: str) -> None:
        if self.read_only:
            raise AccessDenied(f"{action}: refused, this session is read-only (--read-only)")

    def require_admin(self, action: str) -> None:
        if not self.is_admin:
            raise AccessDenied(f"{action}: only admins may do this, and {self.login!r} is not one "
                               "(admins are listed under [access] admins in the environment file)")

    def require_change(self, environment: EnvironmentName, action: str) -> None:
        """Any change to an environment file."""
        self.require_writable(action)
        if environment == "production":
            self.require_admin(action)

    def refusal(self, destination: Destination) -> str | None:
        """Why this operator may not use (send to, edit) the destination, or None."""
        if destination.admin_only and not self.is_admin:
            return f"destination {destination.name!r} is admin-only and {self.login!r} is not an admin"
        if self.restricted_pii and not destination.allow_restricted_pii:
            return (f"destination {destination.name!r} does not allow operators with restricted PII access, "
                    f"and {self.login!r} is one")
        return None

    def require_destination(self, destination: Destination, action: str) -> None:
        reason = self.refusal(destination)
        if reason:
            raise AccessDenied(f"{action}: refused, {reason}")

    def require_unmasked_export(self) -> None:
        if self.restricted_pii:
            raise AccessDenied(f"{self.login!r} has restricted PII access and cannot export identifiers "
                               "unmasked; export them masked instead")

    def show(self, identifier: str) -> str:
        """An identifier as this operator may see it."""
        return mask_identifier(identifier) if self.restricted_pii else identifier


def mask_email(value: str) -> str:
    """jane.doe@example.com -> j***@e***.com"""
    local, _, domain = value.strip().rpartition("@")
    labels = domain.split(".")
    masked_domain = f"{labels[0][:1]}***" + (f".{labels[-1]}" if len(labels) > 1 else "")
    return f"{local[:1]}***@{masked_domain}"


def mask_phone(value: str) -> str:
    """+19148440001 -> +1******0001: country code and last four digits stay."""
    digits = "".join(_DIGIT.findall(value))
    if len(digits) <= 4:
        return "*" * len(digits)
    prefix, rest = "", digits
    if value.strip().startswith("+"):
        prefix = "+"
        try:
            code = str(phonenumbers.parse(value.strip()).country_code)
        except phonenumbers.NumberParseException:
            code = ""
        if len(rest) - len(code) > 4:
            prefix, rest = "+" + code, rest[len(code):]
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def mask_identifier(value: str) -> str:
    """Masks an email or a phone, or anything else down to its first character."""
    if "@" in value:
        return mask_email(value)
    if len(_DIGIT.findall(value)) >= 5:
        return mask_phone(value)
    return value[:1] + "***" if value else value
