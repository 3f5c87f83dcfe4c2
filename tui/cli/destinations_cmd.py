"""`attentive-console destinations list|show|add|edit|remove|validate`.

Saving a destination (add, edit) tests its credential first, as Amperity does: when the test
fails nothing is saved and the reason is shown.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from tui.cli.config_cmd import add_env_option, guarded, operator_of, print_json, print_table, refuse_if_read_only
from tui.cli.exit_codes import CONNECTION, OK, USAGE
from tui.cli.ledger_cmd import change_details, record
from tui.settings.access import Operator
from tui.settings.connection import ConnectionResult, Failure, check_connection
from tui.settings.errors import SettingsError
from tui.settings.ledger import Action
from tui.settings.loader import DESTINATION_ENDPOINTS, IDENTIFIERS, did_you_mean, load_environment
from tui.settings.model import Destination, Environment
from tui.settings.store import ConfigStore, EnvironmentFile

SUBSCRIPTIONS_WARNING = (
    "warning: subscriptions are on for {name}: every send also subscribes each person, and existing text "
    "subscribers get an \"already subscribed\" text message from Attentive"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("destinations", help="where and how profiles are sent")
    commands = parser.add_subparsers(dest="destinations_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="the destinations of an environment")
    add_env_option(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)

    show = commands.add_parser("show", help="one destination in full")
    show.add_argument("name")
    add_env_option(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_show)

    add = commands.add_parser("add", help="add a destination (its credential is tested first)")
    add.add_argument("name")
    add_env_option(add)
    _field_flags(add)
    add.set_defaults(handler=run_add)

    edit = commands.add_parser("edit", help="change a destination (its credential is tested first)")
    edit.add_argument("name")
    add_env_option(edit)
    _field_flags(edit)
    edit.add_argument("--remove-attribute", action="append", default=[], metavar="NAME",
                      help="stop sending this custom attribute (repeatable)")
    edit.add_argument("--remove-identifier", action="append", default=[], choices=IDENTIFIERS,
                      help="forget the column of this identifier (repeatable)")
    edit.add_argument("--no-rate-limit", action="store_true", help="use the endpoint's published limit again")
    edit.set_defaults(handler=run_edit)

    remove = commands.add_parser("remove", help="remove a destination")
    remove.add_argument("name")
    add_env_option(remove)
    remove.set_defaults(handler=run_remove)

    validate = commands.add_parser("validate", help="validate destinations and test their credentials")
    validate.add_argument("name", nargs="?", help="only this destination")
    add_env_option(validate)
    validate.add_argument("--offline", action="store_true", help="check the file only, do not test credentials")
    validate.set_defaults(handler=run_validate)


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
    destination = _destination(environment, args.name)
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
    refuse_if_read_only(args, "destinations add")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator = operator_of(args, environment)
    operator.require_change(args.env, "destinations add")
    if args.name in environment.destinations:
        raise SettingsError(f"destination {args.name!r} already exists in {environment.path}; change it with "
                            f"`attentive-console destinations edit {args.name} --env {args.env}`")
    credential = args.credential or _only_credential(environment)
    if args.primary_identifier is None:
        raise SettingsError("--primary-identifier email|phone is required: every row must carry that identifier")
    blank = Destination(args.name, "", credential, args.primary_identifier)
    destination = _apply_flags(blank, args)
    return _save(args, environment, operator, blank, destination, "destinations add")


@guarded
def run_edit(args: argparse.Namespace) -> int:
    refuse_if_read_only(args, "destinations edit")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator = operator_of(args, environment)
    operator.require_change(args.env, "destinations edit")
    current = _destination(environment, args.name)
    operator.require_destination(current, "destinations edit")
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
    return _save(args, environment, operator, current, destination, "destinations edit")


@guarded
def run_remove(args: argparse.Namespace) -> int:
    refuse_if_read_only(args, "destinations remove")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator = operator_of(args, environment)
    operator.require_change(args.env, "destinations remove")
    operator.require_destination(_destination(environment, args.name), "destinations remove")
    with ConfigStore(args.ctx.config_dir).editing(args.env) as handle:
        handle.remove_destination(args.name)
    record(args.ctx, Action.DESTINATION_REMOVED, args.name, environment=args.env)
    print(f"removed destination {args.name!r} from {environment.path}")
    return OK


@guarded
def run_validate(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    operator = operator_of(args, environment)
    chosen = [_destination(environment, args.name)] if args.name else list(environment.destinations.values())
    if not chosen:
        print(f"{environment.path}: OK, no destinations")
        return OK
    results: dict[str, ConnectionResult] = {}
    if not args.offline:
        for credential in sorted({d.credential for d in chosen}):
            results[credential] = _test(args, environment, credential)
    for destination in chosen:
        result = results.get(destination.credential)
        line = f"{destination.name}: configuration OK"
        if result is not None:
            line += f"; {result.summary}"
        refusal = operator.refusal(destination)
        print(line + (f" (note: you may not use it: {refusal})" if refusal else ""))
    failures = [r for r in results.values() if not r.ok]
    if any(r.failure is not Failure.NO_KEY for r in failures):
        return CONNECTION
    return USAGE if failures else OK


# -- helpers ------------------------------------------------------------------------------------------
def _destination(environment: Environment, name: str) -> Destination:
    destination = environment.destinations.get(name)
    if destination is None:
        guess = did_you_mean(name, environment.destinations)
        raise SettingsError(f"there is no destination {name!r} in {environment.path}"
                            + (f'; did you mean "{guess}"?' if guess else ""))
    return destination


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
    changes: dict[str, Any] = {}
    for field in ("description", "credential", "primary_identifier", "endpoint", "phone_region", "rate_limit",
                  "rejection_threshold", "admin_only", "allow_restricted_pii", "verbose_logging", "subscriptions"):
        value = getattr(args, field)
        if value is not None:
            changes[field] = value
    identifiers = _pairs(args.identifier, "--identifier")
    unknown = sorted(set(identifiers) - set(IDENTIFIERS))
    if unknown:
        raise SettingsError(f"--identifier {unknown[0]}=...: the identifiers are {' and '.join(IDENTIFIERS)}")
    changes["identifiers"] = {**destination.identifiers, **identifiers}
    changes["attributes"] = {**destination.attributes, **_pairs(args.attribute, "--attribute")}
    return dataclasses.replace(destination, **changes)


def _save(args: argparse.Namespace, environment: Environment, operator: Operator, before: Destination,
          destination: Destination, action: str) -> int:
    if (before.admin_only, before.allow_restricted_pii) != (destination.admin_only, destination.allow_restricted_pii):
        operator.require_admin(f"{action}: changing who may use a destination")
    # Validate the whole file with the change before spending a connection test on it.
    EnvironmentFile.open(args.ctx.config_dir, args.env).upsert_destination(destination)
    result = _test(args, environment, destination.credential)
    if not result.ok:
        print(f"error: {result.summary}\nnothing was saved", file=sys.stderr)
        return USAGE if result.failure is Failure.NO_KEY else CONNECTION
    with ConfigStore(args.ctx.config_dir).editing(args.env) as handle:
        handle.upsert_destination(destination)
    record(args.ctx, Action.DESTINATION_ADDED if action == "destinations add" else Action.DESTINATION_EDITED,
           destination.name, environment=args.env, details=change_details(destination, before, action == "destinations add"))
    print(result.summary)
    if destination.subscriptions and not before.subscriptions:
        print(SUBSCRIPTIONS_WARNING.format(name=destination.name), file=sys.stderr)
    print(f"saved destination {destination.name!r} in {environment.path} (config hash {destination.config_hash()[:12]})")
    return OK


def _test(args: argparse.Namespace, environment: Environment, credential: str) -> ConnectionResult:
    return check_connection(environment, credential, secrets_file=args.ctx.secrets_file, data_dir=args.ctx.data_dir)
