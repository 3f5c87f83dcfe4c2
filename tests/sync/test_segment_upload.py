"""The SFTP upload of segment files, against an asyncssh SFTP server the test starts on loopback
(port 0, a generated host key, rooted in a tmp folder, one authorized client key): the files land
under their names with nothing half-written beside them; an unknown and a changed host key are
refused with the host and the fix and upload nothing; the client key comes from the secrets file;
a refused login names how it tried and never the key."""
from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import asyncssh
import pytest

from tui.core.segment_upload import SegmentUploadError, upload_segment_files
from tui.settings.model import Destination, SegmentFileMapping
from tui.settings.sftp_keys import store_sftp_key
from tui.sync.segment_files import SegmentFiles, write_segment_files

KEY_NAME = "attentive-sftp"


@dataclass
class Server:
    port: int
    root: Path
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey
    known_hosts: Path
    secrets: Path

    def settings(self, **changes: object) -> SegmentFileMapping:
        mapping = SegmentFileMapping(segment="Winter VIP", client_domain="acme", sftp_host="127.0.0.1",
                                     sftp_port=self.port, sftp_user="acme", sftp_folder="/inbound",
                                     known_hosts=str(self.known_hosts), sftp_key=KEY_NAME)
        return replace(mapping, **changes)  # type: ignore[arg-type]


def known_hosts_line(port: int, key: asyncssh.SSHKey) -> str:
    return f"[127.0.0.1]:{port} {key.export_public_key().decode().strip()}\n"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    root = tmp_path / "sftp-root"
    (root / "inbound").mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    acceptor = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
        sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()),
    )
    port = acceptor.get_port()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(known_hosts_line(port, host_key), encoding="utf-8")
    secrets = tmp_path / "private" / "secrets.toml"
    store_sftp_key(secrets, KEY_NAME, client_key.export_private_key().decode())
    try:
        yield Server(port, root, host_key, client_key, known_hosts, secrets)
    finally:
        acceptor.close()
        await acceptor.wait_closed()


def segment_files(tmp_path: Path, settings: SegmentFileMapping, rows: int = 3) -> SegmentFiles:
    source = tmp_path / "audience.csv"
    source.write_text("phone\n" + "".join(f"+1212555{1000 + i:04d}\n" for i in range(rows)), encoding="utf-8")
    destination = Destination(name="winter-vip", description="", credential="main", primary_identifier="phone",
                              identifiers={"phone": "phone"}, kind="segment-file", segment_file=settings)
    return write_segment_files(destination, source, tmp_path / "out", today=datetime.date(2026, 1, 15), rows_per_file=2)


async def test_the_files_land_on_the_server_with_the_key_from_the_secrets_file(server: Server, tmp_path: Path) -> None:
    settings = server.settings()
    written = segment_files(tmp_path, settings)
    uploaded = await upload_segment_files(settings, written.files, secrets_file=server.secrets)
    stem = "acme_subscriber_segment_20260115"
    assert uploaded.names == tuple(f"/inbound/{stem}_{n}.{ext}" for n in (1, 2) for ext in ("segment", "csv"))
    landed = server.root / "inbound"
    assert sorted(p.name for p in landed.iterdir()) == sorted(f"{stem}_{n}.{ext}" for n in (1, 2)
                                                              for ext in ("segment", "csv"))  # no .partial left
    for file in written.files:
        assert (landed / file.path.name).read_bytes() == file.path.read_bytes()
        assert (landed / file.segment_path.name).read_text() == "Winter VIP\n"
    # A second upload of the same names replaces the first (one day's set, sent again).
    again = await upload_segment_files(settings, written.files[:1], secrets_file=server.secrets)
    assert again.names[-1] == f"/inbound/{stem}_1.csv"


async def test_an_unknown_host_key_is_refused_with_the_host_and_the_fix(server: Server, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    server.known_hosts.write_text(f"sftp.elsewhere.example {other.export_public_key().decode()}", encoding="utf-8")
    settings = server.settings()
    written = segment_files(tmp_path, settings)
    with pytest.raises(SegmentUploadError) as caught:
        await upload_segment_files(settings, written.files, secrets_file=server.secrets)
    message = str(caught.value)
    assert "127.0.0.1" in message and "is not in" in message
    assert f"ssh-keyscan -p {server.port} 127.0.0.1 >> {server.known_hosts}" in message and "out of band" in message
    assert list((server.root / "inbound").iterdir()) == []


async def test_a_missing_known_hosts_file_is_refused_with_the_fix(server: Server, tmp_path: Path) -> None:
    settings = server.settings(known_hosts=str(tmp_path / "absent"))
    with pytest.raises(SegmentUploadError, match="does not exist.*ssh-keyscan"):
        await upload_segment_files(settings, segment_files(tmp_path, settings).files, secrets_file=server.secrets)


async def test_a_changed_host_key_is_refused_and_nothing_is_uploaded(server: Server, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    server.known_hosts.write_text(known_hosts_line(server.port, impostor), encoding="utf-8")
    settings = server.settings()
    with pytest.raises(SegmentUploadError) as caught:
        await upload_segment_files(settings, segment_files(tmp_path, settings).files, secrets_file=server.secrets)
    message = str(caught.value)
    assert "does NOT match" in message and "ssh-keygen -R 127.0.0.1" in message and "ssh-keyscan" in message
    assert list((server.root / "inbound").iterdir()) == []


async def test_a_key_the_server_does_not_know_is_refused_without_showing_it(server: Server, tmp_path: Path) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    store_sftp_key(server.secrets, "other", stranger)
    settings = server.settings(sftp_key="other")
    with pytest.raises(SegmentUploadError) as caught:
        await upload_segment_files(settings, segment_files(tmp_path, settings).files, secrets_file=server.secrets)
    message = str(caught.value)
    assert "refused the login" in message and "'other' from the secrets file" in message
    assert stranger.splitlines()[1] not in message


async def test_without_sftp_key_the_agent_is_used(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))   # no default ~/.ssh keys either
    settings = server.settings(sftp_key=None)
    with pytest.raises(SegmentUploadError, match="ssh agent"):
        await upload_segment_files(settings, segment_files(tmp_path, settings).files, secrets_file=server.secrets)


async def test_a_key_name_absent_from_the_secrets_file_names_the_fix(server: Server, tmp_path: Path) -> None:
    settings = server.settings(sftp_key="nope")
    with pytest.raises(SegmentUploadError, match="'nope' is not in the secrets file.*ssh agent"):
        await upload_segment_files(settings, segment_files(tmp_path, settings).files, secrets_file=server.secrets)
