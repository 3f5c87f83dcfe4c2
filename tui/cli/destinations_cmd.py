"""`attentive-console destinations list|show|add|edit|remove|validate`.

Saving a destination (add, edit) tests its credential first, as Amperity does: when the test
fails nothing is saved and the reason is shown.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from tui.cli.config_cmd import guarded, print_json, print_table
from tui.cli.settings_commands import action_parser, failure_exit_code, not_saved
from tui.core.exit_codes import OK
from tui.settings import changes
from tui.settings.connection import ConnectionResult, check_connection
from tui.settings.errors import SettingsError
from tui.settings.loader import DESTINATION_ENDPOINTS, IDENTIFIERS, load_environment
from tui.settings.model import Destination, Environment
from tui.settings.store import AlreadyExists, EditConflict

SUBSCRIPTIONS_WARNING = (
    "warning: subscriptions are on for {name}: every send also subscribes each person, and existing text "
    "subscribers get an \"already subscribed\" text message from Attentive"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("destinations", help="where and how profiles are sent")
    commands = parser.add_subparsers(dest="destinations_command", metavar="ACTION", required=True)

    action_parser(commands, "list", "the destinations of an environment", run_list, named=False, json=True)
    action_parser(commands, "show", "one destination in full", run_show, json=True)
    _field_flags(action_parser(commands, "add", "add a destination (its credential is tested first)", run_add))
    edit = action_parser(commands, "edit", "change a destination (its credential is tested first)", run_edit)
    _field_flags(edit)
    edit.add_argument("--remove-attribute", action="append", default=[], metavar="NAME",
                      help="stop sending this custom attribute (repeatable)")
    edit.add_argument("--remove-identifier", action="append", default=[], choices=IDENTIFIERS,
                      help="forget the column of this identifier (repeatable)")
    edit.add_argument("--no-rate-limit", action="store_true", help="use the endpoint's published limit again")
    action_parser(commands, "remove", "remove a destination", run_remove)
    validate = action_parser(commands, "validate", "validate destinations and test their credentials", run_validate,
                             named=False)
    validate.add_argument("name", nargs="?", help="only this destination")
    validate.add_argument("--offline", action="store_true", help="check the file only, do not test credentials")


def _field_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description")
    parser.add_argument("--credential", help="credential name (default for add: the environment's only one)")
    parser.add_argument("--primary-identifier", choices=IDENTIFIERS, help="the one identifier every row must have")
    parser.add_argument("--endpoint", choices=DESTINATION_ENDPOINTS, help="bulk (v2, default) or custom-attributes (v1)")
    parser.add_argument("--identifier", action="append", default=[], metavar="KIND=COLUMN",
                        help="column holding an identifier, e.g. email=email (repeatable)")
    parser.add_argument("--attribute", action="append", default=[], metavar="NAME=COLUMN",
                        help='custom attribute from a column, e.g. "Loyalty Tier=tier" (repeatable)')
    parser.add_argument("--phone-region", help="region for phones without a country code, e.g. US")
    parser.add_argument("--rate-limit", type=float, help="requests/second, at most the endpoint's published limit")
    parser.add_argument("--rejection-threshold", type=float, help="share of rejected rows that fails a run, 0..1")
    for flag, text in (("admin-only", "only admins may use it"),
                       ("allow-restricted-pii", "operators with restricted PII access may use it"),
                       ("verbose-logging", "keep per-contact rejection details"),
                       ("subscriptions", "also subscribe people (existing text subscribers get a message)")):
        parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None, help=text)


# -- reading ------------------------------------------------------------------------------------------
def _as_json(destination: Destination) -> dict[str, Any]:
    return {**dataclasses.asdict(destination), "config_hash": destination.config_hash()}


def _access_label(destination: Destination) -> str:
    labels = ["admin-only"] if destination.admin_only else []
    if not destination.allow_restricted_pii:
        labels.append("no restricted-PII")
    return ", ".join(labels) or "everyone"


@guarded
def run_list(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    destinations = list(environment.destinations.values())
    if args.json:
        print_json([_as_json(d) for d in destinations])
    elif not destinations:
        print(f"no destinations in {environment.path}")
    else:
        print_table(["NAME", "CREDENTIAL", "PRIMARY", "ENDPOINT", "ACCESS", "ATTRIBUTES"],
                    [[d.name, d.credential, d.primary_identifier, d.endpoint, _access_label(d), str(len(d.attributes))]
                     for d in destinations])
    return OK


@guarded
def run_show(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    destination = changes.destination_of(environment, args.name)
    if args.json:
        print_json(_as_json(destination))
        return OK
    for key, value in dataclasses.asdict(destination).items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, column in value.items():
                print(f"  {name} <- {column}")
        else:
            print(f"{key}: {'(endpoint limit)' if key == 'rate_limit' and value is None else value}")
    print(f"access: {_access_label(destination)}")
    print(f"config hash: {destination.config_hash()}")
    return OK


# -- changing -----------------------------------------------------------------------------------------
@guarded
def run_add(args: argparse.Namespace) -> int:
    environment, _ = changes.open_for_change(args.ctx, args.env, "destinations add")
    credential = args.credential or _only_credential(environment)
    if args.primary_identifier is None:
        raise SettingsError("--primary-identifier email|phone is required: every row must carry that identifier")
    destination = _apply_flags(Destination(args.name, "", credential, args.primary_identifier), args)
    try:
        return _save(args, destination, before=None)
    except AlreadyExists as exists:
        raise SettingsError(f"{exists}\nchange it with: attentive-console destinations edit {args.name} "
                            f"--env {args.env}") from None


@guarded
def run_edit(args: argparse.Namespace) -> int:
    _, current = changes.editable_destination(args.ctx, args.env, args.name, "destinations edit")
    destination = _apply_flags(current, args)
    for name in args.remove_attribute:
        if name not in destination.attributes:
            raise SettingsError(f"destination {args.name!r} has no attribute {name!r} to remove")
    destination = dataclasses.replace(
        destination,
        attributes={k: v for k, v in destination.attributes.items() if k not in args.remove_attribute},
        identifiers={k: v for k, v in destination.identifiers.items() if k not in args.remove_identifier},
        rate_limit=None if args.no_rate_limit else destination.rate_limit,
    )
    if destination == current:
        print(f"destination {args.name!r} unchanged")
        return OK
    try:
        return _save(args, destination, before=current)
    except EditConflict as conflict:
        raise SettingsError(f"{conflict}\nsee it as it is now: attentive-console destinations show {args.name} "
                            f"--env {args.env}") from None


@guarded
def run_remove(args: argparse.Namespace) -> int:
    removed = changes.remove_destination(args.ctx, args.env, args.name)
    print(f"removed destination {args.name!r} from {removed.environment.path}")
    return OK


@guarded
def run_validate(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    operator = args.ctx.operator_in(environment)
    chosen = [changes.destination_of(environment, args.name)] if args.name else list(environment.destinations.values())
    if not chosen:
        print(f"{environment.path}: OK, no destinations")
        return OK
    results: dict[str, ConnectionResult] = {}
    if not args.offline:
        for credential in sorted({d.credential for d in chosen}):
            results[credential] = check_connection(environment, credential, secrets_file=args.ctx.secrets_file,
                                                   data_dir=args.ctx.data_dir)
    for destination in chosen:
        result = results.get(destination.credential)
        line = f"{destination.name}: configuration OK"
        if result is not None:
            line += f"; {result.summary}"
        refusal = operator.refusal(destination)
        print(line + (f" (note: you may not use it: {refusal})" if refusal else ""))
    # A credential that failed to connect (3) outweighs one whose key is not set (2).
    return max((failure_exit_code(r) for r in results.values() if not r.ok), default=OK)


# -- helpers ------------------------------------------------------------------------------------------
def _only_credential(environment: Environment) -> str:
    if len(environment.credentials) == 1:
        return next(iter(environment.credentials))
    raise SettingsError(f"--credential is required: {environment.path} defines "
                        f"{', '.join(environment.credentials) or 'no credentials'}")


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, column = value.rpartition("=")
        if not sep or not name.strip() or not column.strip():
            raise SettingsError(f"{flag} {value!r}: write NAME=COLUMN, e.g. {flag} \"Loyalty Tier=tier\"")
        pairs[name.strip()] = column.strip()
    return pairs


def _apply_flags(destination: Destination, args: argparse.Namespace) -> Destination:
    updates: dict[str, Any] = {}
    for field in ("description", "credential", "primary_identifier", "endpoint", "phone_region", "rate_limit",
                  "rejection_threshold", "admin_only", "allow_restricted_pii", "verbose_logging", "subscriptions"):
        value = getattr(args, field)
        if value is not None:
            updates[field] = value
    identifiers = _pairs(args.identifier, "--identifier")
    unknown = sorted(set(identifiers) - set(IDENTIFIERS))
    if unknown:
        raise SettingsError(f"--identifier {unknown[0]}=...: the identifiers are {' and '.join(IDENTIFIERS)}")
    updates["identifiers"] = {**destination.identifiers, **identifiers}
    updates["attributes"] = {**destination.attributes, **_pairs(args.attribute, "--attribute")}
    return dataclasses.replace(destination, **updates)


def _save(args: argparse.Namespace, destination: Destination, *, before: Destination | None) -> int:
    try:
        saved = changes.save_destination(args.ctx, args.env, destination, before=before)
    except changes.NotSaved as failed:
        return not_saved(failed)
    print(saved.tested)
    if not saved.changed:
        print(f"destination {destination.name!r} unchanged: {saved.environment.path} already has these values")
        return OK
    if saved.subscriptions_turned_on:
        print(SUBSCRIPTIONS_WARNING.format(name=destination.name), file=sys.stderr)
    changed = "" if before is None else f"changed: {', '.join(saved.changed)}; "
    print(f"saved destination {destination.name!r} in {saved.environment.path} "
          f"({changed}config hash {saved.destination.config_hash()[:12]})")
    return OK
