"""The connection test's event permission probes, against the simulator on loopback: a body the API
must refuse is posted for each event kind a credential sends; 400 means the key may send that kind,
403 fails naming the missing permission (never the key), a 2xx fails as a server that does not
behave like Attentive's, and no probe ever records an event."""
from __future__ import annotations

from pathlib import Path

import pytest
from config_kit import orders_toml, visits_toml

from tui.attentive.endpoints import Permission
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.config import ALL_PERMISSIONS, KeySpec
from tui.settings.connection import EVENT_PROBES, ConnectionTarget, Failure, probe
from tui.settings.connection import test_connection as run_connection_test
from tui.settings.loader import parse_environment

pytestmark = pytest.mark.asyncio

EVERYTHING = "probe-key-everything-0101"
NO_EVENTS = "probe-key-no-events-0102"
NO_ECOMMERCE = "probe-key-no-ecommerce-0103"
KEYS = {
    EVERYTHING: KeySpec("Test Company", "every permission", ALL_PERMISSIONS),
    NO_EVENTS: KeySpec("Test Company", "no custom events", ALL_PERMISSIONS - {Permission.EVENTS}),
    NO_ECOMMERCE: KeySpec("Test Company", "no ecommerce", ALL_PERMISSIONS - {Permission.ECOMMERCE}),
}
BOTH = ["custom-event", "purchase"]


@pytest.fixture
async def sim(start_simulator):
    return await start_simulator(keys=KEYS)


def target(sim, key: str) -> ConnectionTarget:
    return ConnectionTarget("main", sim.url, ApiKey(key))


async def test_a_key_with_every_permission_passes_both_probes_and_records_nothing(sim):
    result = await probe(target(sim, EVERYTHING), kinds=BOTH)
    assert result.ok and result.failure is None, result.reason
    assert result.company_name == "Test Company" and result.application_name == "every permission"
    assert len(sim.sim.state.events) == 0


async def test_a_key_without_custom_events_fails_the_custom_event_probe_naming_the_permission(sim):
    result = await probe(target(sim, NO_EVENTS), kinds=BOTH)
    assert result.failure is Failure.PERMISSION and not result.ok
    assert "Custom Events permission" in result.reason and "HTTP 403" in result.reason
    assert "eCommerce" not in result.reason  # the first refused probe is the one named
    assert NO_EVENTS not in result.reason and NO_EVENTS not in result.summary
    assert len(sim.sim.state.events) == 0


async def test_a_key_without_ecommerce_fails_for_purchases_but_passes_for_custom_events(sim):
    refused = await probe(target(sim, NO_ECOMMERCE), kinds=["purchase"])
    assert refused.failure is Failure.PERMISSION
    assert "eCommerce permission" in refused.reason and NO_ECOMMERCE not in refused.reason
    both = await probe(target(sim, NO_ECOMMERCE), kinds=BOTH)
    assert both.failure is Failure.PERMISSION and "eCommerce permission" in both.reason
    allowed = await probe(target(sim, NO_ECOMMERCE), kinds=["custom-event"])
    assert allowed.ok, allowed.reason
    assert len(sim.sim.state.events) == 0


async def test_without_event_kinds_a_key_lacking_both_event_permissions_passes(start_simulator):
    key = "probe-key-attributes-0104"
    sim = await start_simulator(keys={key: KeySpec("Test Company", "attributes", frozenset({Permission.ATTRIBUTES}))})
    assert (await probe(target(sim, key))).ok
    assert (await probe(target(sim, key), kinds=["custom-event"])).failure is Failure.PERMISSION
    assert (await probe(target(sim, key), kinds=["purchase"])).failure is Failure.PERMISSION


async def test_an_api_that_accepts_the_probe_fails_as_a_server_problem(sim, monkeypatch):
    # A body the simulator accepts stands in for an API that does not validate what it is sent.
    monkeypatch.setitem(EVENT_PROBES, "custom-event",
                        {"type": "attentive-console connection test", "user": {"email": "probe@example.com"}})
    result = await probe(target(sim, EVERYTHING), kinds=["custom-event"])
    assert result.failure is Failure.SERVER
    assert "custom-event permission probe" in result.reason and "HTTP 200" in result.reason
    assert EVERYTHING not in result.reason


# -- through test_connection, from an environment file ---------------------------------------------
def environment(url: str, *, events: bool):
    text = f'''api_url = "{url}"
[credentials.main]
api_key = "env:PROBE_TEST_KEY"

[credentials.other]
api_key = "env:PROBE_OTHER_KEY"

[destinations.loyalty]
credential = "main"
primary_identifier = "email"
identifiers = {{ email = "email" }}
attributes = {{ "Loyalty Tier" = "tier" }}
'''
    # An event destination on another credential must not make "main" probe events.
    text += orders_toml("other")
    if events:
        text += visits_toml("main")
    return parse_environment(text, path=Path("sandbox.toml"), name="sandbox")


async def test_only_a_credential_with_an_event_destination_gets_the_probe(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_TEST_KEY", NO_EVENTS)
    monkeypatch.setenv("PROBE_OTHER_KEY", NO_ECOMMERCE)
    options = dict(secrets_file=tmp_path / "secrets.toml", data_dir=tmp_path / "data")

    with_events = environment(sim.url, events=True)
    assert with_events.destinations["store-visits"].sends_events
    failed = await run_connection_test(with_events, "main", **options)
    assert failed.failure is Failure.PERMISSION and "Custom Events permission" in failed.reason
    assert NO_EVENTS not in failed.reason and NO_EVENTS not in failed.summary
    assert "credentials test main --env sandbox" in failed.reason

    passed = await run_connection_test(environment(sim.url, events=False), "main", **options)
    assert passed.ok, passed.reason
    assert passed.application_name == "no custom events"

    # "other" sends purchases and its key lacks eCommerce: it fails in both environments.
    other = await run_connection_test(environment(sim.url, events=False), "other", **options)
    assert other.failure is Failure.PERMISSION and "eCommerce permission" in other.reason
    assert len(sim.sim.state.events) == 0
    assert not (tmp_path / "secrets.toml").exists()  # env: keys never need the secrets file


async def test_a_segment_destination_probes_the_segments_permission_with_a_list(start_simulator):
    allowed, refused = "probe-key-segments-0105", "probe-key-no-segments-0106"
    sim = await start_simulator(keys={allowed: KeySpec("Test Company", "segments", ALL_PERMISSIONS),
                                      refused: KeySpec("Test Company", "no segments",
                                                       ALL_PERMISSIONS - {Permission.SEGMENTS})})
    assert (await probe(target(sim, allowed), kinds=["segment"])).ok
    result = await probe(target(sim, refused), kinds=["segment"])
    assert result.failure is Failure.PERMISSION and "Segments permission" in result.reason
    assert refused not in result.reason
    assert sim.sim.state.segments.live(KEYS[EVERYTHING].resolved_company_id) == []  # a read: nothing was made
