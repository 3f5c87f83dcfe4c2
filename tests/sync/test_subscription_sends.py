"""A subscriptions destination end to end against the simulator: a consent file subscribes the true
rows once and unsubscribes the false ones without a text; the same file again posts nothing; a person
who unsubscribed can subscribe again; with check_eligibility, someone Attentive already counts as
subscribed is not posted (nor texted "already subscribed")."""
from __future__ import annotations

import dataclasses

from event_kit import optins, phone, write_consents
from sync_kit import send

from tui.sync import reasons


def posts(sim, endpoint: str) -> dict[tuple[str, str], int]:
    return dict(sim.sim.state.subscriptions.counts(endpoint))


async def test_a_consent_file_subscribes_the_true_rows_once_and_unsubscribes_the_false_ones_quietly(simulator, tmp_path):
    data = tmp_path / "data"
    # A person must exist to be unsubscribed: the first file subscribes everyone.
    everyone = write_consents(tmp_path / "all.csv", ["true"] * 8)
    first = await send(simulator, data, optins(), everyone, follow=False)
    assert (first.run.status, first.run.accepted) == ("finished", 8), first.run.message
    consents = ["yes", "no", "", "1", "false", "maybe", "TRUE", "0"]
    source = write_consents(tmp_path / "consents.csv", consents)
    second = await send(simulator, data, optins(), source, follow=False)
    run = second.run
    # yes, 1, TRUE: subscribed by the first file already; no, false, 0: unsubscribed; "": nothing; maybe: refused
    assert (run.skipped_already_sent, run.accepted, run.skipped_unchanged, run.invalid) == (3, 3, 1, 1)
    assert posts(simulator, "subscriptions") == {("phone", phone(i)): 1 for i in range(8)}
    assert posts(simulator, "unsubscribe") == {("phone", phone(i)): 1 for i in (1, 4, 7)}
    log = simulator.sim.state.subscriptions
    assert all(log.texts_sent(("phone", phone(i))) == 0 for i in range(8))  # no "you are unsubscribed" text
    for unsubscribe in log.posts("unsubscribe"):
        assert unsubscribe.results  # answered per subscription

    again = await send(simulator, data, optins(), source, follow=False)
    assert (again.run.accepted, again.run.skipped_already_sent) == (0, 6)
    assert posts(simulator, "subscriptions") == {("phone", phone(i)): 1 for i in range(8)}
    assert posts(simulator, "unsubscribe") == {("phone", phone(i)): 1 for i in (1, 4, 7)}

    back = await send(simulator, data, optins(), write_consents(tmp_path / "back.csv", ["true", "true"]), follow=False)
    assert (back.run.accepted, back.run.skipped_already_sent) == (1, 1)   # person 1 unsubscribed, and is back
    assert posts(simulator, "subscriptions")[("phone", phone(1))] == 2
    assert all(log.texts_sent(("phone", phone(i))) == 0 for i in range(8))


async def test_eligibility_is_checked_before_subscribing_someone_attentive_already_has(simulator, tmp_path):
    # Person 0 subscribed through another tool: this tool has no record of it.
    elsewhere = await simulator.call("POST", "/v1/subscriptions", key=simulator.full_key, json={
        "user": {"phone": phone(0)}, "locale": {"language": "en", "country": "US"}, "subscriptionType": "MARKETING"})
    assert elsewhere.status == 202
    checked = dataclasses.replace(optins(), subscription=dataclasses.replace(optins().subscription, check_eligibility=True))
    source = write_consents(tmp_path / "consents.csv", ["true", "true"])
    sent = await send(simulator, tmp_path / "data", checked, source, follow=False)
    assert (sent.run.accepted, sent.run.skipped_already_sent) == (1, 1)
    assert posts(simulator, "subscriptions") == {("phone", phone(0)): 1, ("phone", phone(1)): 1}  # 0 not re-posted
    assert simulator.sim.state.subscriptions.texts_sent(("phone", phone(0))) == 0


async def test_a_bad_consent_names_the_column_and_the_row(simulator, tmp_path):
    source = write_consents(tmp_path / "consents.csv", ["maybe"])
    sent = await send(simulator, tmp_path / "data", optins(), source, follow=False)
    assert sent.run.invalid == 1
    from tui.sync.history import HistoryStore
    from tui.sync.rejections import RejectionLog
    with HistoryStore(tmp_path / "data", readonly=True) as store:
        [rejection] = list(RejectionLog(store.connection, sent.run.id).iter_all())
    assert rejection.reason == reasons.CONSENT_INVALID and rejection.row == 2
    assert "'sms_opt_in' (consent) is 'maybe'" in (rejection.message or "")


def test_the_cli_says_how_long_before_a_subscriptions_send_and_dry_runs_without_posting(tmp_path, cli_on, monkeypatch,
                                                                                       thread_simulator):
    from config_kit import environment_toml, optins_toml, write_config_folder
    from simulator_fixtures import FULL_KEY

    monkeypatch.setenv("SYNC_TEST_KEY", FULL_KEY)
    cli = cli_on(write_config_folder(tmp_path / "config", environment_toml(
        thread_simulator.url, admins=("tester",), credential="test", key="env:SYNC_TEST_KEY",
        destinations=[optins_toml()])), operator="tester")
    source = write_consents(tmp_path / "consents.csv", ["true", "false", ""])
    dry = cli("send", "sms-optins", str(source), "--dry-run")
    assert dry.code == 0 and "would send 2" in dry.out and "note:" not in dry.err
    sent = cli("send", "sms-optins", str(source))
    assert "note: at Attentive's 10 subscribes a second (5 for unsubscribes), 3 rows take at least 1 second;" in sent.err
    assert sent.code == 1  # the unsubscribe of someone Attentive has no profile of is refused (404): a rejection
    listed = cli("rejections", "2")
    assert "attentive_rejected" in listed.out and "404" in listed.out
