"""`attentive-console credentials list|add|set-key|remove|test`.

Keys are read from a no-echo prompt, or from stdin when it is not a terminal (for scripts:
`pass show attentive | attentive-console credentials set-key NAME`), never from the command line,
where they would land in shell history and the process list.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from tui.attentive.secret import ApiKey
from tui.cli.config_cmd import guarded, print_json, print_table
from tui.cli.settings_commands import action_parser, failure_exit_code, not_saved
from tui.core.exit_codes import OK, USAGE
from tui.settings import changes
from tui.settings.access import Operator
from tui.settings.connection import check_connection
from tui.settings.errors import SettingsError
from tui.settings.loader import load_environment
from tui.settings.secrets import resolve_api_key
from tui.settings.sftp_keys import store_sftp_key
from tui.settings.store import AlreadyExists
from tui.sync.terminal_text import escape_lines


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("credentials", help="Attentive API credentials and their keys")
    commands = parser.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)

    action_parser(commands, "list", "credentials with their keys masked", run_list, named=False, json=True)
    add = action_parser(commands, "add", "add a credential; its key is read from a hidden prompt or stdin", run_add)
    add.add_argument("--description", default="", help="what the key is for")
    add.add_argument("--env-var", metavar="VAR", help="read the key from this environment variable at run time "
                                                      "instead of storing it in the secrets file")
    set_key = action_parser(commands, "set-key", "set or rotate a credential's key (hidden prompt or stdin)",
                            run_set_key)
    for keyed in (add, set_key):
        keyed.add_argument("--no-test", action="store_true", help="store the key without testing it first")
    action_parser(commands, "remove", "remove a credential (refused while a destination uses it)", run_remove)
    action_parser(commands, "test", "test connection: GET /v1/me and a read that needs Custom Attributes", run_test)
    sftp = commands.add_parser("set-sftp-key", help="store an SFTP private key for a segment-file destination's "
                                                    "sftp_key in the secrets file (never in the config)")
    sftp.add_argument("name", help="the name the destination's sftp_key gives")
    sftp.add_argument("--from", dest="key_file", metavar="FILE",
                      help="the private key file, as ssh-keygen wrote it (default: standard input)")
    sftp.set_defaults(handler=run_set_sftp_key)


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
                [[str(e["name"]), e["key"] or "(not set)", str(e["api_key"]), str(e["description"] or "")] for e in entries])
    for entry in entries:
        if entry["key"] is None:
            print(f"\n{entry['name']}: {escape_lines(str(entry['status']))}", file=sys.stderr)
    return OK


@guarded
def run_add(args: argparse.Namespace) -> int:
    credential = changes.new_credential(args.name, args.description, args.env_var)
    try:
        saved = changes.add_credential(args.ctx, args.env, credential,
                                       None if args.env_var else lambda: _read_key(args.name), test=not args.no_test)
    except AlreadyExists as exists:
        raise SettingsError(f"{exists}\nrotate its key with: attentive-console credentials set-key {args.name} "
                            f"--env {args.env}") from None
    except changes.NotSaved as failed:
        return not_saved(failed, "use --no-test to store the key anyway")
    if saved.tested:
        print(escape_lines(saved.tested))
    stored = (f"its key is read from ${args.env_var}" if saved.key_masked is None
              else f"key {saved.key_masked} stored in {args.ctx.secrets_file}")
    print(f"added credential {args.name!r} to {saved.environment.path}; {stored}")
    return OK


@guarded
def run_set_key(args: argparse.Namespace) -> int:
    try:
        saved = changes.set_credential_key(args.ctx, args.env, args.name, lambda: _read_key(args.name),
                                           test=not args.no_test)
    except changes.NotSaved as failed:
        return not_saved(failed, "use --no-test to store the key anyway")
    if saved.tested:
        print(escape_lines(saved.tested))
    if saved.moved_from is not None:
        print(f"credential {args.name!r} now reads its key from the secrets file (was {saved.moved_from})")
    print(f"key {saved.key_masked} stored for credential {args.name!r} in {args.ctx.secrets_file}")
    return OK


@guarded
def run_set_sftp_key(args: argparse.Namespace) -> int:
    Operator(args.ctx.operator, False, False, args.ctx.read_only).require_writable("store an SFTP key")
    try:
        text = Path(args.key_file).read_text(encoding="utf-8") if args.key_file else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as err:
        print(f"error: cannot read the key file {args.key_file}: {getattr(err, 'strerror', None) or err}; nothing stored",
              file=sys.stderr)
        return USAGE
    store_sftp_key(args.ctx.secrets_file, args.name, text)
    print(f"SFTP key {args.name!r} stored in {args.ctx.secrets_file}; name it in a segment-file destination as "
          f'sftp_key = "{args.name}"')
    return OK


@guarded
def run_remove(args: argparse.Namespace) -> int:
    removed = changes.remove_credential(args.ctx, args.env, args.name)
    print(f"removed credential {args.name!r} from {removed.environment.path}")
    if removed.secret_kept:
        print(removed.secret_kept)
    if removed.secret_removed:
        print(f"removed its key from {args.ctx.secrets_file}")
    return OK


@guarded
def run_test(args: argparse.Namespace) -> int:
    environment = load_environment(args.ctx.config_dir, args.env)
    result = check_connection(environment, args.name, secrets_file=args.ctx.secrets_file, data_dir=args.ctx.data_dir)
    # The summary quotes Attentive's answer (its company name, an error body).
    if result.ok:
        print(escape_lines(result.summary))
        return OK
    print(f"error: {escape_lines(result.summary)}", file=sys.stderr)
    return failure_exit_code(result)


# -- helpers --------------------------------------------------------------------------------------------
def _read_key(name: str) -> ApiKey:
    if sys.stdin.isatty():
        return changes.typed_key(getpass.getpass(f"API key for {name} (input hidden): "))
    return changes.typed_key(sys.stdin.readline())
