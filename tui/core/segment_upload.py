"""Uploading segment files to Attentive's SFTP server (a segment-file destination with sftp_host).

- The server's host key is checked against the known_hosts file (sftp's `known_hosts`, default
  ~/.ssh/known_hosts): a host not in it, or one whose key differs from the one recorded, is refused
  before anything is sent, naming the host and the fix (ssh-keyscan, after checking the fingerprint
  with Attentive out of band). There is no "accept the new key" switch.
- The client key: the private key stored in the secrets file under `sftp_key` (that key alone), or,
  without sftp_key, the ssh agent (SSH_AUTH_SOCK) and the default ~/.ssh keys, as ssh itself does.
  Passwords are never used.
- Each file goes to sftp_folder under a hidden temporary name and is renamed once complete, so
  Attentive never picks up half a file; a segment name's companion file goes before its CSV.
- Every failure is one SegmentUploadError with the reason: no traceback, never the key.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tui.settings.errors import SettingsError
from tui.settings.model import SegmentFileMapping
from tui.settings.segment_file_settings import DEFAULT_KNOWN_HOSTS
from tui.settings.sftp_keys import read_sftp_key
from tui.sync.segment_files import SegmentFile

CONNECT_TIMEOUT_S = 30.0


class SegmentUploadError(Exception):
    """The upload failed; the message names the host and what to do, never a key."""


@dataclass(frozen=True)
class Uploaded:
    host: str
    folder: str
    names: tuple[str, ...]      # the remote names, in the order they landed


def known_hosts_path(settings: SegmentFileMapping) -> Path:
    return Path(os.path.expanduser(settings.known_hosts or DEFAULT_KNOWN_HOSTS))


def _keyscan(settings: SegmentFileMapping, known_hosts: Path) -> str:
    port = f"-p {settings.sftp_port} " if settings.sftp_port != 22 else ""
    return (f"verify the server's fingerprint with Attentive out of band, then run: "
            f"ssh-keyscan {port}{settings.sftp_host} >> {known_hosts}")


def _where(settings: SegmentFileMapping) -> str:
    return f"{settings.sftp_user}@{settings.sftp_host}:{settings.sftp_port}"


def _recorded_keys(settings: SegmentFileMapping, known_hosts: Path) -> bool:
    """Whether known_hosts holds any key for the host (then a refusal means the key changed)."""
    assert settings.sftp_host is not None
    try:
        entries = asyncssh.read_known_hosts(str(known_hosts))
    except (OSError, ValueError) as err:
        raise SegmentUploadError(f"cannot read the known_hosts file {known_hosts}: {err}; fix it or point "
                                 "known_hosts at another file") from None
    host_keys, ca_keys = entries.match(settings.sftp_host, "", settings.sftp_port)[:2]
    return bool(host_keys or ca_keys)


def _client_keys(settings: SegmentFileMapping, secrets_file: Path) -> list[asyncssh.SSHKey] | None:
    if settings.sftp_key is None:
        return None
    try:
        text = read_sftp_key(secrets_file, settings.sftp_key)
    except SettingsError as err:
        raise SegmentUploadError(str(err)) from None
    try:
        return [asyncssh.import_private_key(text)]
    except asyncssh.KeyImportError:   # its message says nothing of the key's text, but ours is enough
        raise SegmentUploadError(
            f"the SFTP key {settings.sftp_key!r} in {secrets_file} cannot be read as a private key (passphrase-"
            "protected keys cannot be used here); store an unencrypted key there, or remove sftp_key and load the "
            "key into the ssh agent (ssh-add)") from None


async def upload_segment_files(settings: SegmentFileMapping, files: Sequence[SegmentFile], *, secrets_file: Path,
                               connect_timeout_s: float = CONNECT_TIMEOUT_S) -> Uploaded:
    """Uploads each file and its segment-name companion to sftp_folder; raises SegmentUploadError."""
    if settings.sftp_host is None or settings.sftp_user is None:
        raise SegmentUploadError("the destination names no sftp_host and sftp_user: nothing to upload to")
    known_hosts = known_hosts_path(settings)
    if not known_hosts.is_file():
        raise SegmentUploadError(f"the known_hosts file {known_hosts} does not exist, so the host key of "
                                 f"{settings.sftp_host} cannot be checked; {_keyscan(settings, known_hosts)}")
    recorded = _recorded_keys(settings, known_hosts)
    keys = _client_keys(settings, secrets_file)
    options: dict[str, object] = {"client_keys": keys, "agent_path": None} if keys is not None else {}
    try:
        async with asyncssh.connect(
            settings.sftp_host, settings.sftp_port, username=settings.sftp_user, known_hosts=str(known_hosts),
            preferred_auth="publickey", password=None, config=None, connect_timeout=connect_timeout_s,
            **options,
        ) as connection:
            async with connection.start_sftp_client() as sftp:
                names = [await _put(sftp, local, settings.sftp_folder)
                         for file in files for local in (file.segment_path, file.path)]
    except asyncssh.HostKeyNotVerifiable:
        if recorded:
            raise SegmentUploadError(
                f"the host key of {settings.sftp_host} (port {settings.sftp_port}) does NOT match the one in "
                f"{known_hosts}: it changed, or something is in between; nothing was uploaded. Ask Attentive "
                f"whether the key changed; only then remove the old line (ssh-keygen -R {settings.sftp_host} -f "
                f"{known_hosts}) and {_keyscan(settings, known_hosts)}") from None
        raise SegmentUploadError(
            f"the host {settings.sftp_host} (port {settings.sftp_port}) is not in {known_hosts}; nothing was "
            f"uploaded: {_keyscan(settings, known_hosts)}") from None
    except asyncssh.PermissionDenied:
        how = (f"the key {settings.sftp_key!r} from the secrets file" if settings.sftp_key is not None
               else "the ssh agent's keys (SSH_AUTH_SOCK) and the default ~/.ssh keys")
        raise SegmentUploadError(f"{_where(settings)} refused the login with {how}; check sftp_user and that "
                                 "Attentive has the public key") from None
    except asyncssh.SFTPError as err:
        raise SegmentUploadError(f"SFTP on {_where(settings)} failed: {err.reason} (folder "
                                 f"{settings.sftp_folder!r}); check sftp_folder and its permissions") from None
    except (asyncssh.Error, OSError, TimeoutError) as err:
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or err.__class__.__name__
        raise SegmentUploadError(f"cannot connect to {_where(settings)}: {reason}; check sftp_host, sftp_port "
                                 "and the network") from None
    return Uploaded(settings.sftp_host, settings.sftp_folder, tuple(names))


async def _put(sftp: asyncssh.SFTPClient, local: Path, folder: str) -> str:
    final = posixpath.join(folder, local.name)
    temporary = posixpath.join(folder, f".{local.name}.partial")
    await sftp.put(str(local), temporary)
    try:
        await sftp.posix_rename(temporary, final)   # replaces an earlier upload of the same name
    except asyncssh.SFTPOpUnsupported:
        if await sftp.exists(final):
            await sftp.remove(final)
        await sftp.rename(temporary, final)
    return final
