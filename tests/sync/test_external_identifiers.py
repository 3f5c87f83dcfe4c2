"""clientUserId and custom identifiers ([identifiers] client_user_id, [custom_identifiers]) travel
beside the primary identifier: read from their columns, trimmed, part of the digest, in the v2 bulk
item's `identifiers` (v1: `user.externalIdentifiers`), kept by the simulator."""
from __future__ import annotations

import pytest
from sync_kit import HEADER, loyalty, send, valid_row, write_csv, write_jsonl

from tui.attentive import endpoints, payloads
from tui.attentive.simulator.state import CUSTOM_IDENTIFIER
from tui.attentive.simulator.validation import compile_validator
from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.profiles import Invalid, Profile, ProfileBuilder
from tui.sync.source_files import SourceRow

EXTERNAL_HEADER = (*HEADER, "customer_id", "loyalty_number")
BULK = compile_validator(endpoints.BULK_ATTRIBUTES.name, "v2", endpoints.BULK_ATTRIBUTES.path)
V1 = compile_validator(endpoints.CUSTOM_ATTRIBUTES.name, "v1", endpoints.CUSTOM_ATTRIBUTES.path)


def external(**overrides):
    return loyalty(client_user_id="customer_id", custom_identifiers={"loyalty_id": "loyalty_number"}, **overrides)


def build(values: dict, destination=None) -> Profile | Invalid:
    builder = ProfileBuilder(destination or external())
    return builder.build(SourceRow(7, [values.get(column) for column in builder.columns]))


def row(i: int, **overrides: str) -> dict[str, str]:
    return {**valid_row(i), "customer_id": f"C-{i:05d}", "loyalty_number": f"L{i}", **overrides}


def test_the_builder_reads_the_columns_and_trims_the_values():
    builder = ProfileBuilder(external())
    assert {"customer_id", "loyalty_number"} <= set(builder.columns)
    profile = build({**valid_row(1), "customer_id": "  C-1 ", "loyalty_number": "L1\t"})
    assert isinstance(profile, Profile)
    assert profile.external == {"clientUserId": "C-1", "customIdentifiers": [{"name": "loyalty_id", "value": "L1"}]}
    assert profile.user("email") == {"email": "member1@example.com", "externalIdentifiers": profile.external}


def test_empty_values_are_omitted_and_leave_the_digest_as_without_them():
    plain = build(valid_row(1), loyalty())
    empty = build({**valid_row(1), "customer_id": " ", "loyalty_number": None})
    only_custom = build({**valid_row(1), "customer_id": "", "loyalty_number": "L1"})
    assert isinstance(plain, Profile) and isinstance(empty, Profile) and isinstance(only_custom, Profile)
    assert empty.external is None and empty.user("email") == {"email": "member1@example.com"}
    assert empty.digest == plain.digest  # turning the feature on does not resend rows that have none
    assert only_custom.external == {"customIdentifiers": [{"name": "loyalty_id", "value": "L1"}]}


def test_a_changed_identifier_changes_the_digest():
    digests = {build(row(1, **change)).digest for change in ({}, {"customer_id": "C-2"}, {"loyalty_number": "L2"})}
    assert len(digests) == 3


@pytest.mark.parametrize(("column", "what"), [("customer_id", "'customer_id' (clientUserId)"),
                                              ("loyalty_number", "'loyalty_number' (custom identifier 'loyalty_id')")])
def test_a_value_over_100_characters_rejects_the_row_and_keeps_the_primary(column, what):
    invalid = build(row(1, **{column: "x" * 101}))
    assert isinstance(invalid, Invalid) and invalid.reason == reasons.IDENTIFIER_TOO_LONG
    assert invalid.identifier == "member1@example.com"
    assert invalid.message == f"{what} is 101 characters; Attentive allows 100"
    assert isinstance(build(row(1, **{column: "x" * 100})), Profile)


def test_a_list_is_no_identifier():
    invalid = build(row(1, customer_id=["C-1"]))  # JSON Lines can hold one
    assert isinstance(invalid, Invalid) and invalid.reason == reasons.NON_SCALAR_VALUE


def test_a_destination_without_them_keeps_the_plain_builder():
    builder = ProfileBuilder(loyalty())
    assert builder.build == builder._build


def test_the_payloads_follow_both_specs():
    profile = build(row(3))
    assert isinstance(profile, Profile)
    item = payloads.bulk_user_item(profile.user("email"), profile.attributes)
    assert item["identifiers"] == {"email": "member3@example.com", "clientUserId": "C-00003",
                                   "customIdentifiers": [{"key": "loyalty_id", "value": "L3"}]}
    BULK.validate(payloads.bulk_body([item]))
    v1 = payloads.custom_attributes_body(profile.user("email"), profile.attributes)
    assert v1["user"] == {"email": "member3@example.com", "externalIdentifiers": {
        "clientUserId": "C-00003", "customIdentifiers": [{"name": "loyalty_id", "value": "L3"}]}}
    V1.validate(v1)


async def test_the_simulator_keeps_what_a_bulk_request_carried(simulator):
    item = payloads.bulk_user_item({"email": "kept@example.com", "externalIdentifiers": {
        "clientUserId": "C-9", "customIdentifiers": [{"name": "loyalty_id", "value": "L9"}]}}, {"Tier": "Gold"})
    reply = await simulator.call("POST", endpoints.BULK_ATTRIBUTES.path, key=simulator.full_key,
                                 json=payloads.bulk_body([item]))
    assert reply.status == 202, reply.text
    profile = stored(simulator, "kept@example.com")
    assert profile.identifiers["clientUserId"] == "C-9" and profile.identifiers[CUSTOM_IDENTIFIER + "loyalty_id"] == "L9"


def stored(sim, email: str):
    sim.run_jobs()
    [company] = [c for c in sim.sim.state.companies.values() if c.find("email", email) is not None]
    return company.find("email", email)


def rejections(data_dir, run_id: int) -> list[tuple[int, str, str]]:
    with HistoryStore(data_dir, readonly=True) as store:
        return store.connection.execute(
            "SELECT row, reason, identifier FROM rejections WHERE run_id = ? ORDER BY row", (run_id,)).fetchall()


async def test_a_bulk_send_carries_them_and_a_too_long_one_rejects_only_its_row(simulator, tmp_path):
    data = [row(i) for i in range(5)]
    data[2]["loyalty_number"] = "L" * 101
    source = write_csv(tmp_path / "a.csv", data, EXTERNAL_HEADER)
    sent = await send(simulator, tmp_path / "data", external(), source)
    assert (sent.run.invalid, sent.run.accepted) == (1, 4)
    assert rejections(tmp_path / "data", sent.run.id) == [(4, reasons.IDENTIFIER_TOO_LONG, "member2@example.com")]
    for i in (0, 1, 3, 4):
        ids = stored(simulator, f"member{i}@example.com").identifiers
        assert ids["clientUserId"] == f"C-{i:05d}" and ids[CUSTOM_IDENTIFIER + "loyalty_id"] == f"L{i}"
    assert all(c.find("email", "member2@example.com") is None for c in simulator.sim.state.companies.values())

    # Unchanged rows are skipped; a changed clientUserId is sent again.
    again = await send(simulator, tmp_path / "data", external(), source)
    assert again.run.skipped_unchanged == 4
    data[0]["customer_id"] = "C-NEW"
    changed = await send(simulator, tmp_path / "data", external(), write_csv(tmp_path / "b.csv", data, EXTERNAL_HEADER))
    assert changed.run.accepted == 1 and changed.run.skipped_unchanged == 3
    assert stored(simulator, "member0@example.com").identifiers["clientUserId"] == "C-NEW"


async def test_a_v1_send_carries_them_too(simulator, tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", [row(i) for i in range(3)])
    sent = await send(simulator, tmp_path / "data", external(endpoint="custom-attributes"), source)
    assert sent.run.accepted == 3
    ids = stored(simulator, "member1@example.com").identifiers
    assert ids["clientUserId"] == "C-00001" and ids[CUSTOM_IDENTIFIER + "loyalty_id"] == "L1"
