"""Segment destinations (kind "segment"): the [segment] table loads into a SegmentMapping, the endpoint
comes from the kind; every refusal names the file, the key path and a fix; the store and the promotion
diff keep the [segment] table; the mapping is hashed and the shrink guard is not."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from config_kit import write_config_folder
from destination_kit import HEAD, load, problems

from tui.settings.model import SegmentMapping
from tui.settings.promotion_diff import diff_destination
from tui.settings.store import ConfigStore

VIP = '''
[destinations.winter-vip-segment]
kind = "segment"
credential = "main"
primary_identifier = "email"
identifiers = { email = "email" }
audience_shrink_limit = 0.5   # the shrink guard
rate_limit = 50

[destinations.winter-vip-segment.segment]
name = "Winter VIP"
external_id = "winter-vip-2026"
description = "Winter VIPs from the warehouse"
'''
HERE = "destinations.winter-vip-segment"
BESIDE_EMAIL = 'identifiers = { email = "email" }'


def test_a_segment_destination_loads_with_its_endpoint_from_the_kind() -> None:
    vip = load(VIP)["winter-vip-segment"]
    assert (vip.kind, vip.endpoint, vip.keeps_members, vip.sends_once, vip.rate_limit, vip.audience_shrink_limit) == (
        "segment", "segment-members-add", True, False, 50.0, 0.5)
    assert vip.segment == SegmentMapping(name="Winter VIP", external_id="winter-vip-2026",
                                         description="Winter VIPs from the warehouse")
    assert (vip.attributes, vip.constants, vip.types, vip.audience) == ({}, {}, {}, None)


def test_a_name_alone_and_the_default_endpoint_are_enough() -> None:
    text = VIP.replace('external_id = "winter-vip-2026"\n', "").replace('description = "Winter VIPs from the warehouse"\n', "")
    vip = load(text.replace(BESIDE_EMAIL, BESIDE_EMAIL + '\nendpoint = "bulk"'))["winter-vip-segment"]
    assert (vip.segment, vip.endpoint) == (SegmentMapping(name="Winter VIP"), "segment-members-add")


@pytest.mark.parametrize(("change", "words"), [
    (('name = "Winter VIP"\n', ""), f"missing required key name in [{HERE}.segment] (add name = \"Winter VIP\")"),
    (('name = "Winter VIP"', 'name = ""'), f"{HERE}.segment.name: is empty (write the segment's name"),
    (('name = "Winter VIP"', 'name = "   "'), f"{HERE}.segment.name: is empty"),
    (('name = "Winter VIP"', f'name = "{"W" * 241}"'),
     f"{HERE}.segment.name: is 241 characters long: Attentive takes 1 to 240 (shorten it to 1..240 characters)"),
    (('name = "Winter VIP"', 'name = " Winter VIP"'), 'starts or ends with spaces (write it without the spaces)'),
    (('name = "Winter VIP"', 'name = "Winter\\tVIP"'), f"{HERE}.segment.name: \"Winter\\tVIP\" has control characters"),
    (('external_id = "winter-vip-2026"', f'external_id = "{"w" * 256}"'),
     f"{HERE}.segment.external_id: is 256 characters long: Attentive takes 1 to 255 (shorten it to 1..255 characters, "
     "or remove external_id)"),
    (('external_id = "winter-vip-2026"', 'external_id = " "'), f"{HERE}.segment.external_id: is empty"),
    (('description = "Winter VIPs from the warehouse"', 'description = "x"'),
     f"{HERE}.segment.description: is 1 character long: Attentive takes 2 to 500 (lengthen it to 2..500 characters"),
    (('name = "Winter VIP"', 'name = "Winter VIP"\nsize = 3'), f"unknown key size in [{HERE}.segment]"),
    ((BESIDE_EMAIL, BESIDE_EMAIL + '\nattributes = { Tier = "tier" }'),
     f"{HERE}.attributes: not used by a segment destination: a segment holds people, not attributes (remove [attributes]"),
    ((BESIDE_EMAIL, BESIDE_EMAIL + '\nconstants = { Campaign = "Winter" }'),
     f"{HERE}.constants: not used by a segment destination: a segment holds people, not attributes (remove [constants])"),
    ((BESIDE_EMAIL, BESIDE_EMAIL + '\naudience = "Winter VIP"'),
     f"{HERE}.audience: not used by a segment destination: the segment is named in [segment]"),
    ((BESIDE_EMAIL, 'identifiers = { email = "email", phone = "phone" }'),
     f"{HERE}.identifiers.phone: a segment's user is its primary identifier (email) alone (remove phone from"),
    ((BESIDE_EMAIL, BESIDE_EMAIL + '\nendpoint = "custom-attributes"'),
     f"{HERE}.endpoint: a segment destination sends to the v2 segment members endpoints"),
    (("rate_limit = 50", "rate_limit = 101"),
     "rate_limit 101 is above the segment-members-add endpoint's published limit of 100 requests/second (write at most 100"),
    (("audience_shrink_limit = 0.5", "audience_shrink_limit = 0"), f"{HERE}.audience_shrink_limit 0 is outside 0 (exclusive)..1"),
])
def test_each_refusal_names_the_file_the_key_and_a_fix(change: tuple[str, str], words: str) -> None:
    text = VIP.replace(*change)
    assert text != VIP
    found = problems(text)
    assert any(words in problem and problem.startswith("sandbox.toml:") and problem.endswith(")") for problem in found), found


def test_the_table_without_the_kind_and_the_kind_without_the_table_are_refused() -> None:
    attributes = VIP.replace('kind = "segment"\n', 'attributes = { Tier = "tier" }\n')
    assert any(f"{HERE}.segment is read only for segment destinations "
               '(add kind = "segment", or remove the segment table)' in p for p in problems(attributes))
    bare = VIP.split(f"[{HERE}.segment]")[0]
    assert any(f"needs an [{HERE}.segment] table (add [{HERE}.segment] with name = " in p for p in problems(bare))
    files = VIP.replace('kind = "segment"', 'kind = "segment-file"')
    assert any(f"{HERE}.segment is read only for segment destinations" in p for p in problems(files))


def test_the_store_keeps_the_segment_table_through_a_load_and_a_save(tmp_path: Path) -> None:
    folder = write_config_folder(tmp_path / "config", HEAD + VIP)
    written = (folder / "sandbox.toml").read_bytes()
    store = ConfigStore(folder)
    environment, handle = store.load("sandbox")
    vip = environment.destinations["winter-vip-segment"]
    handle.upsert_destination(vip)
    assert not handle.save() and (folder / "sandbox.toml").read_bytes() == written   # unchanged: not touched
    assert vip.segment is not None
    edited = dataclasses.replace(vip, segment=dataclasses.replace(vip.segment, name="Spring VIP", description=None))
    handle.upsert_destination(edited)
    assert handle.save()
    text = (folder / "sandbox.toml").read_text(encoding="utf-8")
    assert 'name = "Spring VIP"' in text and "description" not in text and "# the shrink guard" in text
    assert "endpoint" not in text   # the kind decides it
    assert store.load("sandbox")[0].destinations["winter-vip-segment"] == edited


def test_the_store_writes_a_new_segment_destination_that_loads_the_same(tmp_path: Path) -> None:
    vip = load(VIP)["winter-vip-segment"]
    store = ConfigStore(write_config_folder(tmp_path / "config", HEAD))
    _, handle = store.load("sandbox")
    handle.upsert_destination(vip)
    assert handle.save()
    assert f"[{HERE}.segment]" in (tmp_path / "config" / "sandbox.toml").read_text(encoding="utf-8")
    assert store.load("sandbox")[0].destinations["winter-vip-segment"] == vip


def test_the_promotion_diff_shows_the_segment_table() -> None:
    vip = load(VIP)["winter-vip-segment"]
    assert vip.segment is not None
    renamed = dataclasses.replace(vip, segment=dataclasses.replace(vip.segment, name="Spring VIP"))
    assert {"segment.name", "segment.external_id", "segment.description"} <= {c.field for c in diff_destination(vip, None).changes}
    changes = diff_destination(renamed, vip).changes
    assert [(c.field, c.production, c.sandbox) for c in changes] == [("segment.name", '"Winter VIP"', '"Spring VIP"')]


def test_the_mapping_is_hashed_and_the_shrink_guard_is_not() -> None:
    vip = load(VIP)["winter-vip-segment"]
    assert vip.segment is not None
    renamed = dataclasses.replace(vip, segment=dataclasses.replace(vip.segment, name="Spring VIP"))
    assert renamed.config_hash() != vip.config_hash()
    assert dataclasses.replace(vip, audience_shrink_limit=0.9).config_hash() == vip.config_hash()
