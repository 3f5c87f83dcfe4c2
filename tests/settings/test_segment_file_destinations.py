"""Segment-file destinations (kind "segment-file"): the [segment_file] table loads into a
SegmentFileMapping with its defaults; every refusal names the file, the key and a fix, a private key
or a password in the config above all; the store writes the table back; the mapping is hashed."""
from __future__ import annotations

import dataclasses

import pytest
from destination_kit import HEAD, PATH, load, problems

from tui.settings.model import SegmentFileMapping
from tui.settings.store import EnvironmentFile

VIP = '''
[destinations.winter-vip]
kind = "segment-file"
credential = "main"
primary_identifier = "phone"
identifiers = { phone = "phone" }

[destinations.winter-vip.segment_file]
segment = "Winter VIP"
client_domain = "acme"
'''
SFTP = '''sftp_host = "sftp.example.com"
sftp_port = 2222
sftp_user = "acme"
sftp_folder = "/inbound"
known_hosts = "~/attentive_known_hosts"
sftp_key = "attentive-sftp"
'''




def test_a_files_only_destination_loads_with_the_defaults() -> None:
    vip = load(VIP)["winter-vip"]
    assert (vip.kind, vip.endpoint, vip.sends_once, vip.rate_limit) == ("segment-file", "bulk", False, None)
    assert vip.segment_file == SegmentFileMapping(segment="Winter VIP", client_domain="acme")
    assert (vip.segment_file.sftp_port, vip.segment_file.sftp_folder, vip.segment_file.sftp_key) == (22, "/", None)


def test_an_upload_destination_loads_every_sftp_key() -> None:
    mapping = load(VIP + SFTP)["winter-vip"].segment_file
    assert mapping == SegmentFileMapping(segment="Winter VIP", client_domain="acme", sftp_host="sftp.example.com",
                                         sftp_port=2222, sftp_user="acme", sftp_folder="/inbound",
                                         known_hosts="~/attentive_known_hosts", sftp_key="attentive-sftp")


@pytest.mark.parametrize(("change", "words"), [
    (('segment = "Winter VIP"\n', ""), "missing required key segment"),
    (('client_domain = "acme"\n', ""), "missing required key client_domain"),
    (('segment = "Winter VIP"', 'segment = " "'), "segment: is empty"),
    (('client_domain = "acme"', 'client_domain = "acme/x"'), "is not a file-name prefix"),
    (('sftp_port = 2222', 'sftp_port = 70000'), "is not a port"),
    (('sftp_port = 2222', 'sftp_port = 22.5'), "is not a port"),
    (('sftp_host = "sftp.example.com"', 'sftp_host = "sftp.example.com:2222"'), "holds a port"),
    (('sftp_host = "sftp.example.com"', 'sftp_host = "acme@sftp.example.com"'), "the login goes in sftp_user"),
    (('sftp_user = "acme"\n', ""), "names sftp_host but no sftp_user"),
    (('sftp_host = "sftp.example.com"\n', ""), "is read only when the files are uploaded"),
    (('sftp_key = "attentive-sftp"', 'sftp_key = "-----BEGIN OPENSSH PRIVATE KEY-----"'),
     "looks like a private key, not the name of one"),
    (('sftp_key = "attentive-sftp"', 'sftp_key = "my key"'), "is not a secret's name"),
    (('sftp_key = "attentive-sftp"', 'sftp_password = "hunter2"'), "sftp_password: is refused: keys and passwords"),
    (('known_hosts = "~/attentive_known_hosts"', 'known_hosts = "-----BEGIN RSA PRIVATE KEY-----"'),
     "known_hosts: holds what looks like a private key"),
    (('sftp_folder = "/inbound"', 'sftp_folder = "/in\\u0007"'), "sftp_folder: is empty or has control characters"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\nendpoint = "custom-attributes"'),
     "calls no API endpoint"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\nattributes = { Tier = "tier" }'),
     "not used by a segment-file destination: a segment file holds identifiers only"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\nrate_limit = 5'), "has no rate limit"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone", email = "email" }'),
     "primary identifier (phone) alone"),
])
def test_each_refusal_names_the_file_the_key_and_a_fix(change: tuple[str, str], words: str) -> None:
    text = (VIP + SFTP).replace(*change)
    assert text != VIP + SFTP
    found = problems(text)
    assert any(words in problem and problem.startswith("sandbox.toml:") and problem.endswith(")") for problem in found), found


def test_a_key_in_the_config_is_refused_with_where_keys_go_and_never_echoed() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n-----END OPENSSH PRIVATE KEY-----"
    found = problems((VIP + SFTP).replace('sftp_key = "attentive-sftp"', f'sftp_key = "{key}"'))
    assert len(found) == 1 and "secrets file" in found[0] and "ssh agent" in found[0]
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in found[0]


def test_the_table_without_the_kind_and_the_kind_without_the_table_are_refused() -> None:
    attributes = VIP.replace('kind = "segment-file"\n', 'attributes = { Tier = "tier" }\n')
    assert any("segment_file is read only for segment-file destinations" in p for p in problems(attributes))
    bare = VIP.split("[destinations.winter-vip.segment_file]")[0]
    assert any("needs an [destinations.winter-vip.segment_file] table" in p for p in problems(bare))
    assert any('"segment-file"' in p for p in problems(VIP.replace('kind = "segment-file"', 'kind = "segment"')))


def test_the_store_writes_the_table_back_and_it_loads_the_same() -> None:
    handle = EnvironmentFile(PATH, "sandbox", HEAD + "# keep me\n")
    vip = load(VIP + SFTP)["winter-vip"]
    assert vip.segment_file is not None
    edited = dataclasses.replace(vip, segment_file=dataclasses.replace(vip.segment_file, sftp_port=22, segment="Spring"))
    handle.upsert_destination(edited)
    assert "# keep me" in handle.text and 'segment = "Spring"' in handle.text
    assert "sftp_port" not in handle.text   # the default stays unwritten
    assert handle.environment.destinations["winter-vip"] == edited


def test_the_mapping_is_part_of_the_configuration_hash() -> None:
    vip = load(VIP)["winter-vip"]
    assert vip.segment_file is not None
    other = dataclasses.replace(vip, segment_file=dataclasses.replace(vip.segment_file, segment="Spring"))
    assert other.config_hash() != vip.config_hash()
