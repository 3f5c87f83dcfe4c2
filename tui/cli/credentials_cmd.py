"""`attentive-console credentials list|add|set-key|remove|test`.

Keys are read from a no-echo prompt, or from stdin when it is not a terminal (for scripts:
`pass show attentive | attentive-console credentials set-key NAME`), never from the command line,
where they would land in shell history and the process list.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from tui.attentive.secret import ApiKey
from tui.cli.config_cmd import add_env_option, guarded, operator_of, print_json, print_table, refuse_if_read_only
from tui.cli.exit_codes import CONNECTION, OK, USAGE
from tui.cli.ledger_cmd import record
from tui.settings.connection import ConnectionTarget, Failure, check_connection, probe, resolve_base_url
from tui.settings.errors import SettingsError
from tui.settings.keyref import parse_key_ref
from tui.settings.ledger import Action, key_details
from tui.settings.loader import CREDENTIAL_TYPE, load_environment
from tui.settings.model import ENVIRONMENTS, Credential, Environment
from tui.settings.secrets import SecretsFile, check_key_text, credential_of, resolve_api_key
from tui.settings.store import ConfigStore


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("credentials", help="Attentive API credentials and their keys")
    commands = parser.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="credentials with their keys masked")
    add_env_option(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)

    add = commands.add_parser("add", help="add a credential; its key is read from a hidden prompt or stdin")
    add.add_argument("name")
    add_env_option(add)
    add.add_argument("--description", default="", help="what the key is for")
    add.add_argument("--env-var", metavar="VAR", help="read the key from this environment variable at run time "
                                                      "instead of storing it in the secrets file")
    add.add_argument("--no-test", action="store_true", help="store the key without testing it first")
    add.set_defaults(handler=run_add)

    set_key = commands.add_parser("set-key", help="set or rotate a credential's key (hidden prompt or stdin)")
    set_key.add_argument("name")
    add_env_option(set_key)
    set_key.add_argument("--no-test", action="store_true", help="store the key without testing it first")
    set_key.set_defaults(handler=run_set_key)

    remove = commands.add_parser("remove", help="remove a credential (refused while a destination uses it)")
    remove.add_argument("name")
    add_env_option(remove)
    remove.set_defaults(handler=run_remove)

    test = commands.add_parser("test", help="test connection: GET /v1/me and a read that needs Custom Attributes")
    test.add_argument("name")
    add_env_option(test)
    test.set_defaults(handler=run_test)


@guarded
def run_list(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    entries = []
    for credential in environment.credentials.values():
        try:
            key, status = resolve_api_key(environment, credential.name, args.ctx.secrets_file).masked(), "set"
        except SettingsError as err:
            key, status = None, str(err)
        entries.append({"name": credential.name, "description": credential.description, "type": credential.type,
                        "api_key": credential.api_key_ref, "key": key, "status": status})
    if args.json:
        print_json(entries)
        return OK
    if not entries:
        print(f"no credentials in {environment.path}")
        return OK
    print_table(["NAME", "KEY", "SOURCE", "DESCRIPTION"],
                [[e["name"], e["key"] or "(not set)", e["api_key"], e["description"]] for e in entries])
    for entry in entries:
        if entry["key"] is None:
            print(f"\n{entry['name']}: {entry['status']}", file=sys.stderr)
    return OK


@guarded
def run_add(args: argparse.Namespace) -> int:
    refuse_if_read_only(args, "credentials add")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator_of(args, environment).require_change(args.env, "credentials add")
    if args.name in environment.credentials:
        raise SettingsError(f"credential {args.name!r} already exists in {environment.path}; "
                            f"rotate its key with `attentive-console credentials set-key {args.name} --env {args.env}`")
    if args.env_var:
        ref = f"env:{args.env_var}"
        parse_key_ref(ref, credential=args.name, embedded=environment.embedded)
        _save_credential(args, Credential(args.name, args.description, CREDENTIAL_TYPE, ref))
        record(args.ctx, Action.CREDENTIAL_ADDED, args.name, environment=args.env, details={"key_source": ref})
        print(f"added credential {args.name!r} to {environment.path}; its key is read from ${args.env_var}")
        return OK
    key = _read_key(args.name)
    failed = _test_new_key(args, environment, args.name, key)
    if failed is not None:
        return failed
    SecretsFile(args.ctx.secrets_file).set(args.name, key.value)
    _save_credential(args, Credential(args.name, args.description, CREDENTIAL_TYPE, f"secret:{args.name}"))
    record(args.ctx, Action.CREDENTIAL_ADDED, args.name, environment=args.env, details=key_details(key), secrets=[key])
    print(f"added credential {args.name!r} to {environment.path}; key {key.masked()} stored in {args.ctx.secrets_file}")
    return OK


@guarded
def run_set_key(args: argparse.Namespace) -> int:
    refuse_if_read_only(args, "credentials set-key")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator_of(args, environment).require_change(args.env, "credentials set-key")
    credential = credential_of(environment, args.name)
    ref = parse_key_ref(credential.api_key_ref, credential=credential.name, embedded=environment.embedded)
    key = _read_key(args.name)
    failed = _test_new_key(args, environment, args.name, key)
    if failed is not None:
        return failed
    secret_name = ref.name if ref.scheme == "secret" else credential.name
    SecretsFile(args.ctx.secrets_file).set(secret_name, key.value)
    if ref.scheme != "secret":
        # The key now lives in the secrets file, so the credential has to point there.
        _save_credential(args, Credential(credential.name, credential.description, credential.type,
                                          f"secret:{secret_name}"))
        print(f"credential {args.name!r} now reads its key from the secrets file (was {ref})")
    record(args.ctx, Action.CREDENTIAL_ROTATED, args.name, environment=args.env, details=key_details(key), secrets=[key])
    print(f"key {key.masked()} stored for credential {args.name!r} in {args.ctx.secrets_file}")
    return OK


@guarded
def run_remove(args: argparse.Namespace) -> int:
    refuse_if_read_only(args, "credentials remove")
    environment = load_environment(args.ctx.config_dir, args.env)
    operator_of(args, environment).require_change(args.env, "credentials remove")
    credential = credential_of(environment, args.name)
    with ConfigStore(args.ctx.config_dir).editing(args.env) as handle:
        handle.remove_credential(args.name)
    record(args.ctx, Action.CREDENTIAL_REMOVED, args.name, environment=args.env)
    print(f"removed credential {args.name!r} from {environment.path}")
    if credential.api_key_ref.startswith("secret:"):
        _forget_secret(args, credential.api_key_ref.partition(":")[2])
    return OK


@guarded
def run_test(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    result = check_connection(environment, args.name, secrets_file=args.ctx.secrets_file, data_dir=args.ctx.data_dir)
    if result.ok:
        print(result.summary)
        return OK
    print(f"error: {result.summary}", file=sys.stderr)
    return USAGE if result.failure is Failure.NO_KEY else CONNECTION


# -- helpers --------------------------------------------------------------------------------------------
def _read_key(name: str) -> ApiKey:
    if sys.stdin.isatty():
        text = getpass.getpass(f"API key for {name} (input hidden): ")
    else:
        text = sys.stdin.readline()
    return ApiKey(check_key_text(text))


def _test_new_key(args: argparse.Namespace, environment: Environment, name: str, key: ApiKey) -> int | None:
    """None when the key may be stored; else the exit code, after saying why nothing was saved."""
    if args.no_test:
        return None
    target = ConnectionTarget(name, resolve_base_url(environment, args.ctx.data_dir), key)
    result = asyncio.run(probe(target))
    if result.ok:
        print(result.summary)
        return None
    print(f"error: {result.summary}\nnothing was saved (use --no-test to store the key anyway)", file=sys.stderr)
    return CONNECTION


def _save_credential(args: argparse.Namespace, credential: Credential) -> None:
    with ConfigStore(args.ctx.config_dir).editing(args.env) as handle:
        handle.upsert_credential(credential)


def _forget_secret(args: argparse.Namespace, secret_name: str) -> None:
    """Deletes the secret unless a credential of either environment still references it."""
    for name in ENVIRONMENTS:
        try:
            environment = load_environment(args.ctx.config_dir, name)
        except SettingsError:
            print(f"kept secret {secret_name!r}: {name}.toml could not be read to check that nothing uses it")
            return
        if any(c.api_key_ref == f"secret:{secret_name}" for c in environment.credentials.values()):
            return
    if SecretsFile(args.ctx.secrets_file).remove(secret_name):
        print(f"removed its key from {args.ctx.secrets_file}")
