"""The rules of a segment-file destination (kind "segment-file"): Attentive's subscriber segment upload,
checked by the loader's destination rules, which locate and report each problem.

    [destinations.winter-vip]
    kind = "segment-file"
    credential = "attentive"
    primary_identifier = "phone"            # the file's one identifier kind: phones or emails, never both
    identifiers = { phone = "phone" }
    [destinations.winter-vip.segment_file]
    segment = "Winter VIP"                  # the segment's name in Attentive; a file of an existing name replaces it
    client_domain = "acme"                  # the file-name prefix Attentive gives the account
    sftp_host = "sftp.attentivemobile.com"  # optional: without it the files are only written
    sftp_port = 22
    sftp_user = "acme"
    sftp_folder = "/"
    known_hosts = "~/.ssh/known_hosts"      # the server's host key must be in it
    sftp_key = "attentive-sftp"             # the NAME of a private key in the secrets file; absent: the ssh agent

No key, password or passphrase ever goes in the config file: sftp_key names a secret, and a value
that looks like a key is refused. There is no API endpoint: `send` refuses such a destination
(SEGMENT_FILE_ONLY) and `attentive-console segment-file` writes (and uploads) the files.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tui.settings.event_settings import EventProblem
from tui.settings.model import SegmentFileMapping

SEGMENT_FILE_FIELDS = {
    "segment": ("string", '"Winter VIP"'), "client_domain": ("string", '"acme"'),
    "sftp_host": ("string", '"sftp.example.com"'), "sftp_port": ("number", "22"),
    "sftp_user": ("string", '"acme"'), "sftp_folder": ("string", '"/"'),
    "known_hosts": ("string", '"~/.ssh/known_hosts"'), "sftp_key": ("string", '"attentive-sftp"'),
}
REQUIRED = ("segment", "client_domain")
# Read only when the files are uploaded.
SFTP_ONLY = ("sftp_port", "sftp_user", "sftp_folder", "known_hosts", "sftp_key")
# Keys someone might write to put a secret in the config: refused with the way it is done instead.
SECRET_KEYS = ("password", "passphrase", "private_key", "sftp_password", "sftp_passphrase", "sftp_private_key", "key")
KEY_FIX = ('store the private key in the secrets file under a name (README, "Segment files") and write '
           'sftp_key = "<that name>", or leave sftp_key out to use the ssh agent')
# Keys of [destinations.NAME] a segment-file destination does not use -> (why, fix). endpoint is not
# here: the store writes the dataclass's "bulk" back, so only another value is refused.
NOT_FOR_SEGMENT_FILES = {
    "attributes": ("a segment file holds identifiers only", "remove [attributes], or send them from an attributes destination"),
    "constants": ("a segment file holds identifiers only", "remove [constants]"),
    "types": ("a segment file holds identifiers only", "remove [types]"),
    "audience": ("the segment is named in [segment_file]", "remove audience; write segment = \"<name>\" under [segment_file]"),
    "audience_shrink_limit": ("audience_shrink_limit guards audience membership", "remove it"),
    "custom_identifiers": ("a segment file holds its primary identifier alone", "remove [custom_identifiers]"),
    "subscriptions": ("a segment file subscribes nobody", "remove subscriptions"),
    "rate_limit": ("the upload is not an API call and has no rate limit", "remove rate_limit"),
}
ENDPOINT_PROBLEM = ("a segment-file destination calls no API endpoint: its files go by SFTP",
                    "remove endpoint")
# Raised by `send` (and the console's send) for a kind "segment-file" destination, before anything else.
SEGMENT_FILE_ONLY = (
    "{name} is a segment-file destination: it is not sent through the API; write (and upload) its files "
    "with `attentive-console segment-file {name} FILE`"
)
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"

_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_SECRET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+\Z")
_HOST_PORT = re.compile(r"[^:]+:\d+\Z")


def _controls(text: str) -> bool:
    return any(not c.isprintable() for c in text)


def looks_like_a_key(text: str) -> bool:
    return "PRIVATE KEY" in text or "-----BEGIN" in text or "\n" in text or text.startswith(("ssh-", "AAAA"))


def secret_key_problems(table: Mapping[str, Any]) -> list[EventProblem]:
    """A key that would put a secret in the file, and any value holding a private key."""
    problems = [EventProblem(("segment_file", key), "is refused: keys and passwords are never read from the config file",
                             f"remove {key}; {KEY_FIX}", on_value=False) for key in table if key in SECRET_KEYS]
    for key, value in table.items():
        if key in SEGMENT_FILE_FIELDS and isinstance(value, str) and looks_like_a_key(value):
            what = "the name of one" if key == "sftp_key" else "a " + key.replace("_", " ")
            problems.append(EventProblem(("segment_file", key), f"holds what looks like a private key, not {what}",
                                         f"remove it from the config file; {KEY_FIX}"))
    return problems


def segment_file_mapping(values: Mapping[str, Any]) -> tuple[SegmentFileMapping | None, list[EventProblem]]:
    """The [segment_file] table's keys, each of its TOML kind or None (absent or wrongly typed, reported
    by the caller), checked; the mapping when there is no problem. The caller also reports
    secret_key_problems of the raw table (a mapping is refused when there are any)."""
    problems: list[EventProblem] = []

    def refuse(key: str, message: str, fix: str) -> None:
        problems.append(EventProblem(("segment_file", key), message, fix))

    segment, domain = values["segment"], values["client_domain"]
    if not segment.strip():
        refuse("segment", "is empty", 'write the segment\'s name as Attentive shows it, e.g. "Winter VIP"')
    elif _controls(segment) or segment != segment.strip():
        refuse("segment", f"{segment!r} has control characters or surrounding spaces", "write the name alone, on one line")
    if not _DOMAIN.match(domain):
        refuse("client_domain", f"{domain!r} is not a file-name prefix (letters, digits, '-' or '_')",
               'write the prefix Attentive gave the account for segment files, e.g. "acme"')
    host, port = values["sftp_host"], values["sftp_port"]
    if host is None:
        for key in SFTP_ONLY:
            if values[key] is not None:
                problems.append(EventProblem(("segment_file", key), "is read only when the files are uploaded (sftp_host)",
                                             f"add sftp_host, or remove {key}", on_value=False))
    elif _HOST_PORT.match(host):
        refuse("sftp_host", f"{host!r} holds a port", f'write sftp_host = "{host.split(":")[0]}" and sftp_port = '
                                                      f'{host.split(":")[1]}')
    elif not _HOST.match(host) or "@" in host:
        refuse("sftp_host", f"{host!r} is not a host name", 'write the host alone, e.g. "sftp.example.com"; '
                                                            "the login goes in sftp_user")
    elif values["sftp_user"] is None:
        problems.append(EventProblem(("segment_file",), "names sftp_host but no sftp_user",
                                     'add sftp_user = "<the login Attentive gave the account>"', on_value=False))
    if port is not None and (isinstance(port, float) and not port.is_integer() or not 1 <= port <= 65535):
        refuse("sftp_port", f"{port} is not a port", "write a whole number from 1 to 65535, e.g. 22")
    for key in ("sftp_user", "sftp_folder", "known_hosts"):
        text = values[key]
        if text is not None and (not text.strip() or _controls(text)):
            refuse(key, "is empty or has control characters", f"write {key} = {SEGMENT_FILE_FIELDS[key][1]}, or remove it")
    key_name = values["sftp_key"]
    if key_name is not None and looks_like_a_key(key_name):
        return None, problems   # reported by secret_key_problems, with every table's other secrets
    if key_name is not None and not _SECRET_NAME.match(key_name):
        refuse("sftp_key", f"{key_name!r} is not a secret's name (letters, digits, '.', '_' or '-')", KEY_FIX)
    if problems:
        return None, problems
    return SegmentFileMapping(
        segment=segment, client_domain=domain, sftp_host=host, sftp_port=22 if port is None else int(port),
        sftp_user=values["sftp_user"], sftp_folder=values["sftp_folder"] or "/", known_hosts=values["known_hosts"],
        sftp_key=key_name,
    ), []
