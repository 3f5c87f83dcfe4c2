"""Reading an environment file into the typed model, reporting every problem at once.

Each problem names the file, the line and column of the offending key (or of the enclosing table
when a field is missing), what is wrong and how to fix it. Values of `api_key` are never echoed:
an operator may have pasted a real key there by mistake.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tui.settings.destination_rules import DESTINATION_ENDPOINTS as DESTINATION_ENDPOINTS
from tui.settings.destination_rules import IDENTIFIERS as IDENTIFIERS
from tui.settings.destination_rules import MIN_RATE_LIMIT as MIN_RATE_LIMIT
from tui.settings.destination_rules import DestinationRules, did_you_mean, dotted
from tui.settings.errors import ConfigError, Problem
from tui.settings.keyref import NAME_PATTERN, KeyRefError, parse_key_ref
from tui.settings.locate import KeyLocator, KeyPath, Position
from tui.settings.model import EMBEDDED, AccessPolicy, Credential, Environment, EnvironmentName

CREDENTIAL_TYPE = "custom-attributes-api"
WILDCARD = "*"

# name -> (TOML kind, example shown in the fix)
_TOP = {"api_url": ("string", '"embedded"'), "access": ("table", "[access]"),
        "credentials": ("table", "[credentials.NAME]"), "destinations": ("table", "[destinations.NAME]")}
_ACCESS = {"admins": ("array", '["alice"]'), "restricted_pii": ("array", '["bob"]')}
_CREDENTIAL = {"description": ("string", '"Attentive test company"'),
               "type": ("string", f'"{CREDENTIAL_TYPE}"'),
               "api_key": ("string", '"secret:attentive"')}
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_SYNTAX_FIXES = (
    ("Cannot overwrite", "each key and table may be defined once; remove or merge the duplicate"),
    ("Cannot declare", "each key and table may be defined once; remove or merge the duplicate"),
    ("Unterminated string", "close the string with the same quote it opens with"),
    ("Illegal character '\\n'", 'close the string on the line it opens (use """...""" for text over several lines)'),
    ("Invalid value", 'quote text values ("like this"); numbers, true/false and [lists] stay bare'),
    ("Expected '=' after a key", 'write key = value; quote keys that hold spaces ("Loyalty Tier" = "tier")'),
)


def environment_path(config_dir: Path, name: EnvironmentName) -> Path:
    return config_dir / f"{name}.toml"


def load_environment(config_dir: Path, name: EnvironmentName) -> Environment:
    path = environment_path(config_dir, name)
    return parse_environment(read_config_text(path), path=path, name=name)


def read_config_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(path, 1, 1, "environment file not found",
                                   "point --config (or $ATTENTIVE_CONSOLE_CONFIG) at the folder that holds "
                                   "sandbox.toml and production.toml; the project's config/ folder has "
                                   "commented examples")]) from None
    except OSError as err:
        raise ConfigError([Problem(path, 1, 1, f"cannot read the file: {err.strerror}",
                                   "check that it is a file you may read")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ConfigError([Problem(path, line, column, "the file is not UTF-8 text", "save it as UTF-8")]) from None


def parse_environment(text: str, *, path: Path, name: EnvironmentName) -> Environment:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([syntax_problem(path, text, err)]) from None
    return _Validator(path, name, KeyLocator(text)).environment(data)


def syntax_problem(path: Path, text: str, err: tomllib.TOMLDecodeError) -> Problem:
    message = str(err)
    found = _POSITION.search(message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()]
    else:  # "(at end of document)"
        message = message.replace(" (at end of document)", "") + " at the end of the file"
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    fix = next((f for prefix, f in _SYNTAX_FIXES if message.startswith(prefix)), "correct the TOML syntax there")
    return Problem(path, line, column, f"TOML syntax error: {message}", f"{fix}; nothing was loaded or changed")


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    kinds: dict[type[Any], str] = {str: "string", dict: "table", list: "array"}
    return kinds.get(type(value), type(value).__name__)


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def api_url_problem(url: str) -> tuple[str, str] | None:
    """(message, fix) when `url` is not a bare http(s) server address, else None. The client adds /v1
    and /v2 itself, so anything after the host and port would end up in every request's path."""
    address = 'the server\'s address alone, such as "https://api.attentivemobile.com" or "http://127.0.0.1:8787"'
    # Checked before anything echoes the URL: what precedes "@" may be a password.
    if "@" in url:
        return ('api_url holds a user name or password (text before "@")',
                f'put the key in a credential (api_key = "secret:attentive"), never in the URL; write api_url as {address}')
    # A query or fragment may hold a pasted key, so no message repeats them.
    shown = json.dumps(re.split(r"[?#]", url, maxsplit=1)[0])
    if not re.match(r"https?://[^/\s]+(/\S*)?\Z", url):
        return f'api_url {shown} is neither "embedded" nor an http(s) URL', f'write "embedded", or {address}'
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [IPv6] host
        return f"api_url {shown} is not a URL that can be read", f"write {address}"
    tail = parts.netloc[parts.netloc.rfind("]") + 1:]  # past an [IPv6] host, whose colons are not a port
    port = tail.partition(":")[2]
    if not parts.hostname:
        return f"api_url {shown} names no host", f"write {address}"
    if port and not (port.isascii() and port.isdigit()):
        return f"api_url {shown}: the port {json.dumps(port)} is not a number", "write the port as digits, e.g. :8787"
    if port and not 1 <= int(port) <= 65535:
        return f"api_url {shown}: the port {port} is outside 1..65535", "write the port the server listens on, from 1 to 65535"
    base = json.dumps(f"{parts.scheme}://{parts.netloc}")
    if parts.path not in ("", "/"):
        return (f"api_url {shown} has a path ({json.dumps(parts.path)})",
                f"write api_url = {base}: the client adds /v1 and /v2 itself")
    if "?" in url:
        return 'api_url has a query string (text after "?")', f"write api_url = {base}; a key belongs in a credential"
    if "#" in url:
        return 'api_url has a fragment (text after "#")', f"write api_url = {base}"
    return None


class _Validator(DestinationRules):
    def __init__(self, path: Path, name: EnvironmentName, locator: KeyLocator):
        self.path, self.name, self.locator = path, name, locator
        self.problems: list[Problem] = []

    def report(self, at: Position, message: str, fix: str) -> None:
        self.problems.append(Problem(self.path, at.line, at.column, message, fix))

    def environment(self, data: dict[str, Any]) -> Environment:
        self._known_keys(data, (), _TOP)
        api_url = self._field(data, (), "api_url", _TOP, required=True)
        if isinstance(api_url, str):
            self._check_api_url(api_url)
        embedded = api_url == EMBEDDED
        access = self._access(self._field(data, (), "access", _TOP) or {}, embedded)
        credentials = self._credentials(self._field(data, (), "credentials", _TOP) or {}, embedded)
        raw_destinations = self._field(data, (), "destinations", _TOP) or {}
        # Names as written, so a destination is not blamed for its credential's own problems.
        known = list(data["credentials"]) if isinstance(data.get("credentials"), dict) else []
        destinations = {}
        for name, body in raw_destinations.items():
            destination = self._destination(name, body, known)
            if destination is not None:
                destinations[name] = destination
        if self.problems:
            raise ConfigError(sorted(self.problems, key=lambda p: (p.line, p.column)))
        return Environment(self.name, self.path, api_url, access, credentials, destinations)

    # -- generic checks -------------------------------------------------------------------------
    def _known_keys(self, table: dict[str, Any], path: KeyPath, fields: dict[str, tuple[str, str]]) -> None:
        where = f"[{dotted(path)}]" if path else "the top level"
        for key in table:
            if key in fields:
                continue
            guess = did_you_mean(key, fields)
            fix = f'did you mean "{guess}"?' if guess else f"known keys: {', '.join(fields)}"
            self.report(self.locator.key(path + (key,)), f"unknown key {dotted((key,))} in {where}", fix)

    def _field(self, table: dict[str, Any], path: KeyPath, key: str, fields: dict[str, tuple[str, str]],
               *, required: bool = False) -> Any:
        kind, example = fields[key]
        full = path + (key,)
        if key not in table:
            if required:
                where = f"[{dotted(path)}]" if path else "the top level"
                self.report(self.locator.key(path), f"missing required key {key} in {where}", f"add {key} = {example}")
            return None
        value = table[key]
        if _kind_of(value) != kind:
            self.report(self.locator.value(full), f"{dotted(full)} must be {_a(kind)}, not {_a(_kind_of(value))}",
                        f"write {key} = {example}")
            return None
        return value

    def _name(self, path: KeyPath, what: str) -> bool:
        name = path[-1]
        if isinstance(name, str) and NAME_PATTERN.match(name):
            return True
        self.report(self.locator.key(path), f"{what} name {json.dumps(name)} is not usable on the command line",
                    "use letters, digits, '.', '_' or '-', starting with a letter or digit")
        return False

    def _check_api_url(self, api_url: str) -> None:
        if api_url == EMBEDDED:
            return
        problem = api_url_problem(api_url)
        if problem is not None:
            self.report(self.locator.value(("api_url",)), *problem)

    # -- sections -------------------------------------------------------------------------------
    def _access(self, table: dict[str, Any], embedded: bool) -> AccessPolicy:
        self._known_keys(table, ("access",), _ACCESS)
        lists: dict[str, tuple[str, ...]] = {}
        for key in _ACCESS:
            logins = self._field(table, ("access",), key, _ACCESS) or []
            for index, login in enumerate(logins):
                if not isinstance(login, str) or not login:
                    self.report(self.locator.value(("access", key, index)),
                                f"access.{key}[{index}] must be a login name (non-empty text)", 'write e.g. ["alice"]')
            lists[key] = tuple(login for login in logins if isinstance(login, str) and login)
        if WILDCARD in lists["admins"] and not embedded:
            index = lists["admins"].index(WILDCARD)
            self.report(self.locator.value(("access", "admins", index)),
                        'admins = ["*"] (every login is an admin) is allowed only with api_url = "embedded"',
                        "list the admins' OS login names instead")
        return AccessPolicy(admins=lists["admins"], restricted_pii=lists["restricted_pii"])

    def _credentials(self, table: dict[str, Any], embedded: bool) -> dict[str, Credential]:
        found = {}
        for name, body in table.items():
            path: KeyPath = ("credentials", name)
            if not isinstance(body, dict):
                self.report(self.locator.value(path), f"credentials.{dotted((name,))} must be a table",
                            f"write [credentials.{dotted((name,))}] with description, type and api_key")
                continue
            named = self._name(path, "credential")
            self._known_keys(body, path, _CREDENTIAL)
            description = self._field(body, path, "description", _CREDENTIAL) or ""
            kind = self._field(body, path, "type", _CREDENTIAL) or CREDENTIAL_TYPE
            if kind != CREDENTIAL_TYPE:
                self.report(self.locator.value(path + ("type",)), f"unknown credential type {json.dumps(kind)}",
                            f'write type = "{CREDENTIAL_TYPE}"')
            ref = self._field(body, path, "api_key", _CREDENTIAL, required=True)
            if isinstance(ref, str):
                try:
                    parse_key_ref(ref, credential=name, embedded=embedded)
                except KeyRefError as err:
                    self.report(self.locator.value(path + ("api_key",)), f"{dotted(path)}.api_key: {err}", err.fix)
                    ref = None
            if named and ref is not None:
                found[name] = Credential(name, description, kind, ref)
        return found
