"""Environment files for tests: one builder of their TOML text and one writer of a config folder.

    environment_toml(url, restricted=("bob",), destinations=[destination_toml()])
        api_url, [access] (admins, restricted_pii), one credential (name, description, key reference
        such as "secret:attentive", "env:VAR" or "demo:sandbox"; credential=None for none), then the
        destination tables given, each after a blank line.
    destination_toml("loyalty", identifiers={"email": "email"}, extra="rate_limit = 20\\n")
        one [destinations.NAME] table with its identifiers and attributes tables; `extra` lines go
        after `endpoint`, so `text.replace('endpoint = "bulk"', ...)` edits stay easy.
    credential_toml("bad", key="secret:bad"): one more credential table, to append.
    write_config_folder(folder, sandbox_text, production_text) -> folder, with sandbox.toml and
        production.toml (the shipped production.toml when production_text is None).
    shipped_config(tmp_path) -> tmp_path/config, a copy of the repository's config/ (SHIPPED).
"""
from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "config"

LOYALTY_IDENTIFIERS = {"email": "email", "phone": "phone"}
LOYALTY_ATTRIBUTES = {"Loyalty Tier": "tier", "Points": "points"}


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def credential_toml(name: str = "attentive", *, key: str = "secret:attentive", description: str = "test") -> str:
    return f'[credentials.{name}]\ndescription = "{description}"\ntype = "custom-attributes-api"\napi_key = "{key}"\n'


def destination_toml(name: str = "loyalty-attributes", *, credential: str = "attentive", description: str = "test",
                     primary_identifier: str = "email", endpoint: str = "bulk",
                     identifiers: Mapping[str, str] = LOYALTY_IDENTIFIERS,
                     attributes: Mapping[str, str] = LOYALTY_ATTRIBUTES, extra: str = "") -> str:
    text = (f'[destinations.{name}]\ndescription = "{description}"\ncredential = "{credential}"\n'
            f'primary_identifier = "{primary_identifier}"\nendpoint = "{endpoint}"\n{extra}\n'
            f"[destinations.{name}.identifiers]\n" + "".join(f'{k} = "{v}"\n' for k, v in identifiers.items()))
    if attributes:
        text += f"\n[destinations.{name}.attributes]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in attributes.items())
    return text


def environment_toml(api_url: str, *, admins: Iterable[str] = ("alice",), restricted: Iterable[str] = (),
                     credential: str | None = "attentive", key: str = "secret:attentive", description: str = "test",
                     destinations: Iterable[str] = ()) -> str:
    parts = [f'api_url = "{api_url}"\n', f"[access]\nadmins = {_strings(admins)}\nrestricted_pii = {_strings(restricted)}\n"]
    if credential is not None:
        parts.append(credential_toml(credential, key=key, description=description))
    return "\n".join([*parts, *destinations])


def write_config_folder(folder: Path, sandbox: str, production: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sandbox.toml").write_text(sandbox, encoding="utf-8")
    if production is None:
        production = (SHIPPED / "production.toml").read_text(encoding="utf-8")
    (folder / "production.toml").write_text(production, encoding="utf-8")
    return folder


def shipped_config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("sandbox.toml", "production.toml"):
        shutil.copy(SHIPPED / name, folder / name)
    return folder


def visits_toml(credential: str = "test") -> str:
    """A custom-event destination, store-visits: the type from `kind`, the time from `visited_at`,
    one event per `visit_id`, the property Store (tests/sync/event_kit.py writes its files)."""
    return f'''
[destinations.store-visits]
kind = "custom-event"
credential = "{credential}"
primary_identifier = "email"
identifiers = {{ email = "email" }}
[destinations.store-visits.event]
type_column = "kind"
occurred_at = "visited_at"
event_key = ["visit_id"]
[destinations.store-visits.attributes]
"Store" = "store"
'''


def orders_toml(credential: str = "test") -> str:
    """A purchase destination, till-receipts: one row per item, grouped by `order_no`."""
    return f'''
[destinations.till-receipts]
kind = "purchase"
credential = "{credential}"
primary_identifier = "email"
identifiers = {{ email = "email" }}
[destinations.till-receipts.event]
occurred_at = "sold_at"
order_column = "order_no"
product_id_column = "sku"
product_variant_id_column = "variant"
price_column = "price"
currency_column = "currency"
'''


def optins_toml(credential: str = "test") -> str:
    """A subscriptions destination, sms-optins: phones, consent in `sms_opt_in`."""
    return f'''
[destinations.sms-optins]
kind = "subscription"
credential = "{credential}"
primary_identifier = "phone"
identifiers = {{ phone = "phone" }}
[destinations.sms-optins.subscription]
consent_column = "sms_opt_in"
locale = "en-US"
subscription_type = "MARKETING"
single_opt_in = false
'''


def segment_toml(credential: str = "test", *, external_id: str | None = None) -> str:
    """A segment destination, winter-vip-segment: members of the v2 segment "Winter VIP" by email."""
    chosen = f'external_id = "{external_id}"\n' if external_id else ""
    return f'''
[destinations.winter-vip-segment]
kind = "segment"
credential = "{credential}"
primary_identifier = "email"
identifiers = {{ email = "email" }}
[destinations.winter-vip-segment.segment]
name = "Winter VIP"
{chosen}'''
