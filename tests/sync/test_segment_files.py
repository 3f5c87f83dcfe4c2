"""Segment files in Attentive's upload format: the naming rule, no header, one identifier kind a line,
split at the rows per file, invalid rows counted by row, duplicates dropped, 0600, nothing left under a
final name when writing fails, today's files never overwritten without asking; and the CLI on them."""
from __future__ import annotations

import datetime
import json
import os
import socket
import stat
from pathlib import Path
from typing import Literal

import asyncssh
import pytest
from cli_kit import CliOn

from tui.settings.model import Destination, SegmentFileMapping
from tui.sync import reasons
from tui.sync import segment_files as module
from tui.sync.segment_files import SegmentFileError, write_segment_files

TODAY = datetime.date(2026, 1, 15)
STEM = "acme_subscriber_segment_20260115"


def destination(primary: Literal["email", "phone"] = "phone") -> Destination:
    return Destination(name="winter-vip", description="", credential="main", primary_identifier=primary,
                       identifiers={primary: primary}, kind="segment-file",
                       segment_file=SegmentFileMapping(segment="Winter VIP", client_domain="acme"))


def audience(path: Path, lines: list[str], header: str = "phone,email") -> Path:
    path.write_text(header + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def phones(count: int, start: int = 0) -> list[str]:
    return [f"(212) 555-{1000 + i:04d},p{i}@example.com" for i in range(start, start + count)]


def test_files_follow_the_naming_rule_hold_no_header_and_split_at_the_rows_per_file(tmp_path: Path) -> None:
    source = audience(tmp_path / "in.csv", phones(5))
    written = write_segment_files(destination(), source, tmp_path / "out", today=TODAY, rows_per_file=2)
    assert [f.path.name for f in written.files] == [f"{STEM}_1.csv", f"{STEM}_2.csv", f"{STEM}_3.csv"]
    assert [f.rows for f in written.files] == [2, 2, 1]
    lines = [line for f in written.files for line in f.path.read_text().splitlines()]
    assert lines == [f"+1212555{1000 + i:04d}" for i in range(5)]   # E.164 with the region, no header line
    assert all(f.segment_path.read_text() == "Winter VIP\n" and f.segment_path.name == f.path.stem + ".segment"
               for f in written.files)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [f"{STEM}_{n}.csv" for n in (1, 2, 3)] + [f"{STEM}_{n}.segment" for n in (1, 2, 3)])


def test_a_file_holds_one_identifier_kind_the_primary_one(tmp_path: Path) -> None:
    source = audience(tmp_path / "in.csv", ["+12125551000,Jane@Example.COM", ",bob@example.com"])
    written = write_segment_files(destination("email"), source, tmp_path / "out", today=TODAY)
    assert written.identifier == "email"
    assert written.files[0].path.read_text() == "Jane@example.com\nbob@example.com\n"


def test_invalid_rows_are_skipped_and_counted_by_row_with_their_reason(tmp_path: Path) -> None:
    source = audience(tmp_path / "in.csv", ["+12125551000,a@x.com", "not a phone,b@x.com", ",c@x.com",
                                            "+12125551001,d@x.com"])
    written = write_segment_files(destination(), source, tmp_path / "out", today=TODAY)
    assert written.files[0].path.read_text() == "+12125551000\n+12125551001\n"
    assert (written.rows_read, written.invalid) == (4, 2)
    assert [(i.row, i.reason) for i in written.invalid_rows] == [(3, reasons.INVALID_PHONE),
                                                                 (4, reasons.MISSING_IDENTIFIER)]
    assert "not a phone" not in written.invalid_rows[0].message   # the value is masked


def test_only_the_first_twenty_invalid_rows_are_kept_the_rest_counted(tmp_path: Path) -> None:
    source = audience(tmp_path / "in.csv", [f"bad{i},x@x.com" for i in range(30)] + ["+12125551000,a@x.com"])
    written = write_segment_files(destination(), source, tmp_path / "out", today=TODAY)
    assert written.invalid == 30 and len(written.invalid_rows) == 20 and written.invalid_rows[-1].row == 21


def test_duplicates_after_normalising_are_dropped_and_counted(tmp_path: Path) -> None:
    source = audience(tmp_path / "in.csv", ["(212) 555-1000,a@x.com", "+1 212 555 1000,b@x.com", "212.555.1000,c@x.com",
                                            "+12125551001,d@x.com"])
    written = write_segment_files(destination(), source, tmp_path / "out", today=TODAY)
    assert written.files[0].path.read_text() == "+12125551000\n+12125551001\n"
    assert written.duplicates == 2


def test_files_are_private_to_their_owner(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        written = write_segment_files(destination(), audience(tmp_path / "in.csv", phones(2)), tmp_path / "out",
                                      today=TODAY)
    finally:
        os.umask(old)
    for file in written.files:
        assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(file.segment_path.stat().st_mode) == 0o600


def test_a_write_failing_midway_leaves_no_file_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync, calls = os.fsync, []

    def disk_full_on_the_second_file(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(module.os, "fsync", disk_full_on_the_second_file)
    out = tmp_path / "out"
    with pytest.raises(SegmentFileError, match="No space left on device.*nothing was written"):
        write_segment_files(destination(), audience(tmp_path / "in.csv", phones(5)), out, today=TODAY, rows_per_file=2)
    assert list(out.iterdir()) == []


def test_todays_files_are_not_overwritten_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_segment_files(destination(), audience(tmp_path / "a.csv", phones(3)), out, today=TODAY, rows_per_file=1)
    assert len(first.files) == 3
    with pytest.raises(SegmentFileError, match="--overwrite"):
        write_segment_files(destination(), audience(tmp_path / "b.csv", phones(1, start=7)), out, today=TODAY)
    assert first.files[0].path.read_text() == "+12125551000\n"   # untouched
    again = write_segment_files(destination(), tmp_path / "b.csv", out, today=TODAY, overwrite=True)
    assert again.files[0].path.read_text() == "+12125551007\n"
    # the earlier, larger set's _2 and _3 are gone: they would be uploaded beside the new one
    assert sorted(p.name for p in out.iterdir()) == [f"{STEM}_1.csv", f"{STEM}_1.segment"]
    tomorrow = write_segment_files(destination(), tmp_path / "b.csv", out, today=TODAY + datetime.timedelta(days=1))
    assert tomorrow.files[0].path.name == "acme_subscriber_segment_20260116_1.csv"


def test_a_source_without_one_valid_identifier_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SegmentFileError, match="would empty the segment"):
        write_segment_files(destination(), audience(tmp_path / "in.csv", ["nope,a@x.com"]), out, today=TODAY)
    assert list(out.iterdir()) == []


def test_rows_per_file_above_attentives_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SegmentFileError, match="500,000"):
        write_segment_files(destination(), audience(tmp_path / "in.csv", phones(1)), tmp_path / "out", today=TODAY,
                            rows_per_file=500_001)


CONFIG = '''api_url = "embedded"
[access]
admins = ["alice"]
[credentials.main]
api_key = "demo:sandbox"

[destinations.winter-vip]
kind = "segment-file"
credential = "main"
primary_identifier = "phone"
identifiers = { phone = "phone" }
rejection_threshold = 0.4
[destinations.winter-vip.segment_file]
segment = "Winter VIP"
client_domain = "acme"
'''


def test_the_command_writes_the_files_into_the_data_folder_and_reports_them(tmp_path: Path, cli_on: CliOn) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sandbox.toml").write_text(CONFIG, encoding="utf-8")
    (config / "production.toml").write_text('api_url = "embedded"\n', encoding="utf-8")
    cli = cli_on(config)
    source = audience(tmp_path / "in.csv", [*phones(3), "bad,x@x.com", phones(1)[0]])
    code, out, err = cli("segment-file", "winter-vip", str(source), "--rows-per-file", "2")
    assert code == 0, err
    folder = cli.data / "segment-files" / "winter-vip"
    assert sorted(p.name for p in folder.glob("*.csv")) == [
        f"acme_subscriber_segment_{datetime.date.today():%Y%m%d}_{n}.csv" for n in (1, 2)]
    assert "invalid 1" in out and "duplicates dropped 1" in out and "row 5: invalid_phone" in out
    code, out, err = cli("segment-file", "winter-vip", str(source))
    assert code == 2 and "--overwrite" in err
    code, out, err = cli("segment-file", "winter-vip", str(source), "--upload")
    assert code == 2 and "names no sftp_host" in err
    code, out, err = cli("send", "winter-vip", str(source))   # not an API destination: nothing is sent
    assert code == 2 and "attentive-console segment-file winter-vip FILE" in err and out == ""
    mostly_bad = audience(tmp_path / "bad.csv", ["bad,x@x.com", "worse,y@x.com", phones(1)[0]])
    code, out, err = cli("segment-file", "winter-vip", str(mostly_bad), "--out", str(tmp_path / "other"), "--json")
    assert code == 1 and "rejection_threshold" in err


def test_an_upload_that_cannot_connect_exits_3_and_keeps_the_files(tmp_path: Path, cli_on: CliOn) -> None:
    with socket.socket() as bound:   # bound, never listening: a connection to it is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        known_hosts = tmp_path / "known_hosts"
        host_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_key}")
        config = tmp_path / "config"
        config.mkdir()
        upload = f'sftp_host = "127.0.0.1"\nsftp_port = {port}\nsftp_user = "acme"\nknown_hosts = "{known_hosts}"\n'
        (config / "sandbox.toml").write_text(CONFIG + upload, encoding="utf-8")
        (config / "production.toml").write_text('api_url = "embedded"\n', encoding="utf-8")
        cli = cli_on(config)
        code, out, err = cli("segment-file", "winter-vip", str(audience(tmp_path / "in.csv", phones(2))), "--json")
    assert code == 3 and "cannot connect to acme@127.0.0.1" in err and "the files stay in" in err
    summary = json.loads(out)
    assert summary["exit_code"] == 3 and summary["uploaded"] is None and Path(summary["files"][0]["path"]).is_file()
    code, out, err = cli("segment-file", "winter-vip", str(tmp_path / "in.csv"), "--no-upload", "--overwrite")
    assert code == 0 and "uploaded" not in out


def test_an_sftp_key_is_stored_in_the_secrets_file_from_a_file_never_shown(tmp_path: Path, cli_on: CliOn) -> None:
    from tui.settings.sftp_keys import read_sftp_key

    config = tmp_path / "config"
    config.mkdir()
    (config / "sandbox.toml").write_text(CONFIG + 'sftp_host = "sftp.example.com"\nsftp_user = "acme"\n'
                                         'sftp_key = "attentive-sftp"\n', encoding="utf-8")
    (config / "production.toml").write_text('api_url = "embedded"\n', encoding="utf-8")
    cli = cli_on(config)
    key = asyncssh.generate_private_key("ssh-ed25519")
    private, public = tmp_path / "id_ed25519", tmp_path / "id_ed25519.pub"
    private.write_bytes(key.export_private_key())
    public.write_bytes(key.export_public_key())
    refused = cli("credentials", "set-sftp-key", "attentive-sftp", "--from", str(public))
    assert refused.code == 2 and "not a private key" in refused.err and "nothing stored" in refused.err
    missing = cli("credentials", "set-sftp-key", "attentive-sftp", "--from", str(tmp_path / "nope"))
    assert missing.code == 2 and "cannot read the key file" in missing.err
    stored = cli("credentials", "set-sftp-key", "attentive-sftp", "--from", str(private))
    assert stored.code == 0 and 'sftp_key = "attentive-sftp"' in stored.out
    secret_text = private.read_text().strip()
    assert secret_text not in stored.out + stored.err and "PRIVATE KEY" not in stored.out + stored.err
    assert cli.secrets is not None and stat.S_IMODE(cli.secrets.stat().st_mode) == 0o600
    assert read_sftp_key(cli.secrets, "attentive-sftp").strip() == secret_text
    refused = cli("--read-only", "credentials", "set-sftp-key", "other", "--from", str(private))
    assert refused.code == 2 and "read-only" in refused.err
