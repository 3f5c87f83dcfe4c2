"""The external-identifier and audience keys of a destination: accepted shapes, refusals naming the
file, the key and the fix, and the store writing them back where the loader reads them."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from config_kit import destination_toml, environment_toml, write_config_folder

from tui.settings.errors import ConfigError
from tui.settings.loader import load_environment
from tui.settings.store import ConfigStore


def config(tmp_path: Path, extra: str = "", *, endpoint: str = "bulk", identifiers: dict[str, str] | None = None,
           tables: str = "") -> Path:
    destination = destination_toml("loyalty", credential="main", endpoint=endpoint, extra=extra,
                                   identifiers=identifiers or {"email": "email"}, attributes={"Loyalty Tier": "tier"})
    text = environment_toml("embedded", credential="main", key="demo:sandbox", destinations=[destination + tables])
    return write_config_folder(tmp_path / "config", text)


def problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(folder, "sandbox")
    return [str(problem) for problem in caught.value.problems]


def test_every_new_key_is_read_into_the_destination(tmp_path):
    folder = config(tmp_path, 'audience = "Winter VIP 2026"\naudience_shrink_limit = 0.25\n',
                    identifiers={"email": "email", "client_user_id": "customer_id"},
                    tables='\n[destinations.loyalty.custom_identifiers]\nloyalty_id = "loyalty_number"\n"pos id" = "pos"\n')
    destination = load_environment(folder, "sandbox").destinations["loyalty"]
    assert destination.identifiers == {"email": "email"}  # email/phone only: clientUserId is no primary
    assert destination.client_user_id == "customer_id"
    assert destination.custom_identifiers == {"loyalty_id": "loyalty_number", "pos id": "pos"}
    assert destination.audience == "Winter VIP 2026" and destination.audience_shrink_limit == 0.25


def test_unset_keys_keep_their_defaults_and_the_hash(tmp_path):
    destination = load_environment(config(tmp_path), "sandbox").destinations["loyalty"]
    assert destination.client_user_id is None and destination.custom_identifiers == {}
    assert destination.audience is None and destination.audience_shrink_limit == 0.5
    with_audience = dataclasses.replace(destination, audience="VIP")
    assert with_audience.config_hash() != destination.config_hash()


def test_v1_carries_external_identifiers_too(tmp_path):
    # The v1 user object has externalIdentifiers; beside an email or phone no Identity API call is needed.
    folder = config(tmp_path, endpoint="custom-attributes", identifiers={"email": "email", "client_user_id": "cid"},
                    tables='\n[destinations.loyalty.custom_identifiers]\nloyalty_id = "lid"\n')
    destination = load_environment(folder, "sandbox").destinations["loyalty"]
    assert destination.client_user_id == "cid" and destination.custom_identifiers == {"loyalty_id": "lid"}


LONG_KEY = "k" * 101

# (id, extra destination lines, identifiers, tables, words of the message, words of the fix)
REFUSALS = [
    ("empty-client-user-id-column", "", {"email": "email", "client_user_id": " "}, "",
     "destinations.loyalty.identifiers.client_user_id must name a source column", 'write client_user_id = "<column>"'),
    ("empty-custom-identifier-key", "", None, '\n[destinations.loyalty.custom_identifiers]\n"" = "lid"\n',
     "a custom identifier key is empty", 'loyalty_id = "<column>"'),
    ("long-custom-identifier-key", "", None, f'\n[destinations.loyalty.custom_identifiers]\n{LONG_KEY} = "lid"\n',
     "destinations.loyalty.custom_identifiers: custom identifier key", "shorten it to 100 characters or fewer"),
    ("custom-identifier-column-empty", "", None, '\n[destinations.loyalty.custom_identifiers]\nloyalty_id = ""\n',
     "destinations.loyalty.custom_identifiers.loyalty_id must name a source column", 'write loyalty_id = "<column>"'),
    ("custom-identifiers-not-a-table", 'custom_identifiers = "lid"\n', None, "",
     "destinations.loyalty.custom_identifiers must be a table, not a string", "write custom_identifiers = {"),
    ("audience-empty", 'audience = " "\n', None, "", "destinations.loyalty.audience: an attribute name is empty",
     "give the custom attribute a name"),
    ("audience-too-long", f'audience = "{"A" * 201}"\n', None, "", "attribute name is 201 characters, Attentive allows 200",
     "shorten it to 200 characters or fewer"),
    ("audience-sensitive", 'audience = "Diagnosis"\n', None, "", 'sensitive-data category "health"', "remove this attribute"),
    ("audience-clashes-with-mapped", 'audience = "Loyalty Tier"\n', None, "",
     "destinations.loyalty.audience \"Loyalty Tier\" has the same name as the mapped attribute (column 'tier')",
     "give the audience an attribute name of its own"),
    ("audience-clashes-with-constant", 'audience = "Campaign"\nconstants = { Campaign = "Winter" }\n', None, "",
     'destinations.loyalty.audience "Campaign" has the same name as a constant', "give the audience an attribute name"),
    ("audience-not-text", "audience = true\n", None, "", "destinations.loyalty.audience must be a string, not a boolean",
     'write audience = "Winter VIP 2026"'),
    ("shrink-limit-zero", 'audience = "VIP"\naudience_shrink_limit = 0\n', None, "",
     "destinations.loyalty.audience_shrink_limit 0 is outside 0 (exclusive)..1", "more than 0 and at most 1"),
    ("shrink-limit-above-one", 'audience = "VIP"\naudience_shrink_limit = 1.5\n', None, "",
     "audience_shrink_limit 1.5 is outside", "more than 0 and at most 1"),
    ("shrink-limit-nan", 'audience = "VIP"\naudience_shrink_limit = nan\n', None, "",
     "audience_shrink_limit nan is outside", "more than 0 and at most 1"),
    ("shrink-limit-text", 'audience = "VIP"\naudience_shrink_limit = "50%"\n', None, "",
     "audience_shrink_limit must be a number, not a string", "write audience_shrink_limit = 0.5"),
]


@pytest.mark.parametrize(("extra", "identifiers", "tables", "message", "fix"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_refusals_name_the_file_the_key_and_the_fix(tmp_path, extra, identifiers, tables, message, fix):
    folder = config(tmp_path, extra, identifiers=identifiers, tables=tables)
    [problem] = problems(folder)
    assert str(folder / "sandbox.toml") in problem
    assert message in problem and fix in problem


def test_a_client_user_id_that_is_not_text_is_refused(tmp_path):
    folder = config(tmp_path, tables="")
    path = folder / "sandbox.toml"
    path.write_text(path.read_text().replace('email = "email"\n', 'email = "email"\nclient_user_id = 7\n'))
    [problem] = problems(folder)
    assert "identifiers.client_user_id must name a source column (non-empty text)" in problem


def test_a_misspelt_key_is_suggested(tmp_path):
    [problem] = problems(config(tmp_path, identifiers={"email": "email", "client_userid": "cid"}))
    assert 'unknown key client_userid in [destinations.loyalty.identifiers] (did you mean "client_user_id"?)' in problem


def test_the_store_writes_the_keys_where_the_loader_reads_them(tmp_path):
    folder = config(tmp_path)
    store = ConfigStore(folder)
    with store.editing("sandbox") as handle:
        loaded = handle.environment.destinations["loyalty"]
        handle.upsert_destination(dataclasses.replace(
            loaded, client_user_id="customer_id", custom_identifiers={"loyalty_id": "lid"}, audience="VIP",
            audience_shrink_limit=0.2))
    text = (folder / "sandbox.toml").read_text()
    assert 'client_user_id = "customer_id"' in text.split("[destinations.loyalty.identifiers]")[1]
    assert "[destinations.loyalty.custom_identifiers]" in text and 'audience = "VIP"' in text
    reread = load_environment(folder, "sandbox").destinations["loyalty"]
    assert (reread.client_user_id, reread.custom_identifiers, reread.audience, reread.audience_shrink_limit) == (
        "customer_id", {"loyalty_id": "lid"}, "VIP", 0.2)
    with store.editing("sandbox") as handle:
        handle.upsert_destination(dataclasses.replace(reread, client_user_id=None, custom_identifiers={}, audience=None,
                                                      audience_shrink_limit=0.5))
    cleared = load_environment(folder, "sandbox").destinations["loyalty"]
    assert cleared == loaded
    assert "client_user_id" not in (folder / "sandbox.toml").read_text()
