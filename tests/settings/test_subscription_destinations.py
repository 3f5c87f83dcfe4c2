"""Subscriptions destinations (kind "subscription"): both ways of naming a sign-up unit load into a
SubscriptionMapping; every refusal names the file, the key and a fix; the store writes the
[subscription] table back; attribute destinations keep their config_hash."""
from __future__ import annotations

import dataclasses

import pytest
from destination_kit import HEAD, PATH, load, problems

from tui.settings.model import SubscriptionMapping
from tui.settings.store import EnvironmentFile

OPTINS = '''
[destinations.sms-optins]
kind = "subscription"
credential = "main"
primary_identifier = "phone"
identifiers = { phone = "phone" }

[destinations.sms-optins.subscription]
consent_column = "sms_opt_in"
sign_up_source_id = "123456"
single_opt_in = false
'''




def test_a_sign_up_source_destination_loads_with_its_endpoint_from_the_kind() -> None:
    optins = load(OPTINS)["sms-optins"]
    assert (optins.kind, optins.endpoint, optins.sends_once, optins.sends_events) == (
        "subscription", "subscriptions", True, False)
    assert optins.subscription == SubscriptionMapping(consent_column="sms_opt_in", single_opt_in=False,
                                                      sign_up_source_id="123456")


def test_a_locale_and_type_destination_loads_with_its_options() -> None:
    text = OPTINS.replace('sign_up_source_id = "123456"', 'locale = "fr-CA"\nsubscription_type = "TRANSACTIONAL"\n'
                                                          "check_eligibility = true\nnotify_unsubscribe = true")
    mapping = load(text)["sms-optins"].subscription
    assert mapping == SubscriptionMapping(consent_column="sms_opt_in", single_opt_in=False, language="fr", country="CA",
                                          subscription_type="TRANSACTIONAL", check_eligibility=True,
                                          notify_unsubscribe=True)


@pytest.mark.parametrize(("change", "words"), [
    (('sign_up_source_id = "123456"', ""), "names no sign-up unit"),
    (('sign_up_source_id = "123456"', 'sign_up_source_id = "1"\nlocale = "en-US"'), "one way only"),
    (('sign_up_source_id = "123456"', 'locale = "english"\nsubscription_type = "MARKETING"'), "is not a locale"),
    (('sign_up_source_id = "123456"', 'locale = "en-US"\nsubscription_type = "PROMO"'), "is not a subscription type"),
    (("single_opt_in = false\n", ""), "single_opt_in"),
    (('consent_column = "sms_opt_in"', 'consent_column = " "'), "consent_column: is empty"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\nendpoint = "bulk"'), "not used by a subscriptions"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone" }\nattributes = { Tier = "tier" }'),
     "a subscription carries no attributes"),
    (('identifiers = { phone = "phone" }', 'identifiers = { phone = "phone", email = "email" }'),
     "primary identifier (phone) alone"),
])
def test_each_refusal_names_the_key_and_a_fix(change: tuple[str, str], words: str) -> None:
    found = problems(OPTINS.replace(*change))
    assert any(words in problem and "sandbox.toml" in problem for problem in found), found


def test_the_subscription_table_without_the_kind_and_the_kind_without_the_table_are_refused() -> None:
    attributes = OPTINS.replace('kind = "subscription"\n', 'attributes = { Tier = "tier" }\n')
    assert any("read only for subscriptions destinations" in p for p in problems(attributes))
    bare = OPTINS.split("[destinations.sms-optins.subscription]")[0]
    assert any("needs an [destinations.sms-optins.subscription] table" in p for p in problems(bare))


def test_the_store_writes_the_subscription_table_back_and_it_loads_the_same() -> None:
    handle = EnvironmentFile(PATH, "sandbox", HEAD + "# keep me\n")
    optins = load(OPTINS)["sms-optins"]
    assert optins.subscription is not None
    edited = dataclasses.replace(optins, subscription=dataclasses.replace(optins.subscription, check_eligibility=True))
    handle.upsert_destination(edited)
    assert "# keep me" in handle.text and "check_eligibility = true" in handle.text
    assert "endpoint" not in handle.text
    assert handle.environment.destinations["sms-optins"] == edited


def test_the_mapping_is_part_of_the_configuration_hash() -> None:
    optins = load(OPTINS)["sms-optins"]
    assert optins.subscription is not None
    other = dataclasses.replace(optins, subscription=dataclasses.replace(optins.subscription, single_opt_in=True))
    assert other.config_hash() != optins.config_hash()
