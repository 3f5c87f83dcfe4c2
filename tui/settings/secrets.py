"""The secrets file and resolving a credential's `api_key` reference to the key itself.

The secrets file is TOML (`"secret-name" = "key"`), kept outside the project's config folder and
created 0600. Like ssh with a private key, a secrets file others can read is refused, with the
chmod to run; so is one that is not a regular file (a FIFO would block the reader for ever).
Writers take atomic.locked's `.<name>.lock` beside it (never through a symbolic link, giving up
after its timeout with the lock named). Nothing here ever puts a key into a message.
"""
from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path

import tomlkit

from tui.attentive.secret import ApiKey
from tui.settings.atomic import LOCK_TIMEOUT_S, atomic_write, locked
from tui.settings.errors import SecretsError, SettingsError
from tui.settings.keyref import parse_key_ref
from tui.settings.loader import did_you_mean
from tui.settings.model import Credential, Environment

_HEADER = (
    "attentive-console secrets: API keys by secret name. Keep this file private (chmod 600);\n"
    "edit it with `attentive-console credentials set-key NAME`, never commit it."
)


class SecretsFile:
    def __init__(self, path: Path, *, lock_timeout_s: float = LOCK_TIMEOUT_S):
        self.path = path
        self.lock_timeout_s = lock_timeout_s

    def check_permissions(self) -> None:
        """Refuses a secrets file that is not a regular file, or that the group or others may read or write."""
        try:
            self._check(self.path.stat().st_mode)
        except FileNotFoundError:
            return

    def _check(self, mode: int) -> None:
        if not stat.S_ISREG(mode):
            raise SecretsError(f"secrets file {self.path} is not a regular file (a FIFO, device or folder); "
                               "refusing to read it", "point --secrets at a regular file, such as secrets.toml")
        if stat.S_IMODE(mode) & 0o077:
            raise SecretsError(
                f"secrets file {self.path} is accessible by other users (mode {stat.S_IMODE(mode):04o}); "
                "refusing to use it",
                f"run: chmod 600 {self.path}",
            )

    def _text(self) -> str | None:
        """The file's text, None when there is none. Opened without blocking (a FIFO would wait for
        a writer) and checked on the open descriptor, so what is checked is what is read."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise SecretsError(f"cannot read secrets file {self.path}: {err.strerror}",
                               "check that it is a file you own") from None
        with os.fdopen(fd, "rb") as handle:
            self._check(os.fstat(fd).st_mode)
            try:
                return handle.read().decode("utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise SecretsError(f"cannot read secrets file {self.path}: {err.__class__.__name__}",
                                   "check that it is a UTF-8 text file you own") from None

    def read(self) -> dict[str, str]:
        """All secrets by name; an absent file holds none."""
        text = self._text()
        if text is None:
            return {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            # tomllib's message names the position only, never the content.
            raise SecretsError(f"secrets file {self.path} is not valid TOML: {err}",
                               'each line must read "secret-name" = "key"') from None
        return {name: value for name, value in data.items() if isinstance(value, str)}

    def get(self, name: str) -> str | None:
        return self.read().get(name)

    def set(self, name: str, value: str) -> None:
        self._change(lambda doc: doc.__setitem__(name, value))

    def remove(self, name: str) -> bool:
        if name not in self.read():
            return False
        self._change(lambda doc: doc.__delitem__(name))
        return True

    def _change(self, change: Callable[[tomlkit.TOMLDocument], None]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(self.path, timeout_s=self.lock_timeout_s):
            text = self._text()
            if text is None:
                doc = tomlkit.document()
                for line in _HEADER.splitlines():
                    doc.add(tomlkit.comment(line))
            else:
                try:
                    doc = tomlkit.parse(text)
                except Exception:  # tomlkit's ParseError; its message would be no help here
                    raise SecretsError(f"secrets file {self.path} is not valid TOML; not changing it",
                                       "fix or remove the broken line by hand (each line: \"secret-name\" = \"key\")") from None
            change(doc)
            atomic_write(self.path, doc.as_string().encode("utf-8"), mode=0o600)


def check_key_text(key: str) -> str:
    """The key as it will be stored: surrounding whitespace dropped, anything else odd refused."""
    key = key.strip()
    if not key:
        raise SettingsError("no key was given (empty input); nothing was changed")
    if any(c.isspace() or not c.isprintable() for c in key):
        raise SettingsError("the key contains spaces or control characters; paste the key alone, on one line")
    return key


def credential_of(environment: Environment, name: str) -> Credential:
    credential = environment.credentials.get(name)
    if credential is None:
        guess = did_you_mean(name, environment.credentials)
        hint = f'; did you mean "{guess}"?' if guess else (
            f"; defined: {', '.join(environment.credentials) or '(none)'}")
        raise SettingsError(f"there is no credential {name!r} in {environment.path}{hint}")
    return credential


def resolve_api_key(environment: Environment, credential_name: str, secrets_file: Path) -> ApiKey:
    """The key a credential references, or a SecretsError naming the credential and how to set it."""
    credential = credential_of(environment, credential_name)
    ref = parse_key_ref(credential.api_key_ref, credential=credential.name, embedded=environment.embedded)
    set_key = f"attentive-console credentials set-key {credential.name} --env {environment.name}"
    if ref.scheme == "demo":
        from tui.attentive.simulator.demo import DEMO_KEYS  # only the embedded default needs the simulator

        return ApiKey(DEMO_KEYS[ref.name])
    if ref.scheme == "env":
        value = os.environ.get(ref.name, "").strip()
        if not value:
            raise SecretsError(
                f"credential {credential.name!r} reads its key from the environment variable {ref.name}, which is not set",
                f"set {ref.name} in the environment that runs attentive-console, or store the key with `{set_key}`",
            )
        return ApiKey(value)
    stored = SecretsFile(secrets_file).get(ref.name)
    if not stored:
        raise SecretsError(
            f"credential {credential.name!r} uses secret {ref.name!r}, which is not in {secrets_file}",
            f"store it with `{set_key}`",
        )
    return ApiKey(stored)
