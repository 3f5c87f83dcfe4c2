"""SFTP private keys in the secrets file: a segment-file destination's `sftp_key` names one.

The key is kept as the API keys are (secrets.py: the file 0600, refused when others can read it),
under its name, as a TOML multi-line string holding the key's text as ssh-keygen wrote it:

    "attentive-sftp" = \"\"\"
    -----BEGIN OPENSSH PRIVATE KEY-----
    ...
    -----END OPENSSH PRIVATE KEY-----
    \"\"\"

Nothing here puts a key, or any part of one, into a message.
"""
from __future__ import annotations

from pathlib import Path

from tui.settings.errors import SecretsError
from tui.settings.secrets import SecretsFile

_MARKER = "PRIVATE KEY-----"


def _how_to_store(name: str, secrets_file: Path) -> str:
    return (f'add "{name}" = """<the private key file\'s text>""" to {secrets_file} (kept chmod 600), '
            "or remove sftp_key to use the ssh agent")


def read_sftp_key(secrets_file: Path, name: str) -> str:
    """The private key's text stored under `name`; a SecretsError naming the name and the file when it
    is absent, or not a private key (a public key, an API key pasted there)."""
    text = SecretsFile(secrets_file).get(name)
    if not text or not text.strip():
        raise SecretsError(f"the SFTP key {name!r} is not in the secrets file {secrets_file}",
                           _how_to_store(name, secrets_file))
    if _MARKER not in text:
        raise SecretsError(f"secret {name!r} in {secrets_file} is not a private key (it has no "
                           "\"-----BEGIN ... PRIVATE KEY-----\" line)", _how_to_store(name, secrets_file))
    return text.strip() + "\n"


def store_sftp_key(secrets_file: Path, name: str, key_text: str) -> None:
    """Stores a private key's text under `name` (the file created 0600, written atomically)."""
    if _MARKER not in key_text:
        raise SecretsError("that is not a private key (no \"-----BEGIN ... PRIVATE KEY-----\" line); nothing stored",
                           "give the private key file, not its .pub")
    SecretsFile(secrets_file).set(name, key_text.strip() + "\n")
