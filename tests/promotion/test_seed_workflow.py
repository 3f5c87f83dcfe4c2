"""The seed's workflow end to end, through the CLI against the embedded simulator: credential and
destination in sandbox, test connection, a sample send, verify, promote, a production send, and
the production company holds the profiles. The audit ledger records every step."""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from cli_kit import Cli, CliOn
from config_kit import write_config_folder

from tui.attentive.client import AttentiveClient
from tui.attentive.secret import ApiKey
from tui.attentive.simulator.demo import DEMO_KEYS
from tui.attentive.simulator.embedded import embedded_simulator
from tui.sync.job_schedule import SCALE_VARIABLE

# Literal, with its comments: the promotion must leave them in production.toml, and the test looks.
ENVIRONMENT = """\
# {name}: the seed workflow's {name}.
api_url = "embedded"

[access]
admins = ["alice"]   # the only admin
restricted_pii = []
"""


@pytest.fixture
def cli(tmp_path: Path, cli_on: CliOn) -> Cli:
    config = write_config_folder(tmp_path / "config", ENVIRONMENT.format(name="sandbox"),
                                 ENVIRONMENT.format(name="production"))
    return cli_on(config, secrets=tmp_path / "secrets.toml")


def write_audience(path: Path, count: int) -> list[dict[str, str]]:
    run = uuid.uuid4().hex[:8]  # the embedded simulator lives for the whole test process: keep our profiles apart
    tiers = ("Bronze", "Silver", "Gold", "Platinum")
    rows = [{"email": f"seed-{run}-{i}@example.com", "tier": tiers[i % 4], "points": str(100 + i)} for i in range(count)]
    path.write_text("email,tier,points\n" + "".join(f"{r['email']},{r['tier']},{r['points']}\n" for r in rows))
    return rows


async def read_back(url: str, key: str, emails: list[str]) -> dict[str, dict]:
    async with AttentiveClient(url, ApiKey(key)) as client:
        found = {}
        for email in emails:
            outcome = await client.get_custom_attributes(email=email)
            assert outcome.ok, outcome.text
            found[email] = outcome.data
        return found


def test_seed_workflow_from_sandbox_to_production(tmp_path, cli, monkeypatch):
    monkeypatch.setenv(SCALE_VARIABLE, "0.001")  # `--wait` checks the jobs after 60 ms, not a minute
    audience = write_audience(tmp_path / "audience.csv", 30)
    source = str(tmp_path / "audience.csv")

    # credentials: the same name in both environments, each with its own company's key
    assert cli("credentials", "add", "attentive", "--env", "sandbox", stdin=DEMO_KEYS["sandbox"] + "\n").code == 0
    assert cli("credentials", "add", "attentive", "--env", "production", stdin=DEMO_KEYS["production"] + "\n").code == 0
    assert cli("destinations", "add", "loyalty", "--env", "sandbox", "--primary-identifier", "email",
               "--identifier", "email=email", "--attribute", "Loyalty Tier=tier", "--attribute", "Points=points").code == 0
    assert cli("credentials", "test", "attentive", "--env", "sandbox").code == 0

    # promotion is refused before a test send
    code, out, _ = cli("promote", "loyalty", "--yes")
    assert code == 1 and "no finished sandbox test send of loyalty" in out

    code, out, _ = cli("send", "loyalty", source, "--env", "sandbox", "--sample", "20", "--wait", "--json")
    sample = json.loads(out)
    assert code == 0 and sample["status"] == "finished" and sample["accepted"] == 20
    assert sample["verification"]["state"] == "matched"
    assert cli("verify", str(sample["run_id"])).code == 0
    export = tmp_path / "rejections.csv"
    assert cli("rejections", str(sample["run_id"]), "--export", str(export)).code == 0
    assert export.is_file()

    code, out, _ = cli("promote", "loyalty", "--yes", "--json")
    promoted = json.loads(out)
    assert code == 0 and promoted["promoted"] is True and promoted["test_send_run"] == sample["run_id"]
    production_toml = (cli.config / "production.toml").read_text()
    assert production_toml.startswith(ENVIRONMENT.format(name="production").rstrip("\n"))
    assert "[destinations.loyalty]" in production_toml and "# the only admin" in production_toml

    code, out, _ = cli("send", "loyalty", source, "--env", "production", "--yes", "--wait", "--json")
    sent = json.loads(out)
    assert code == 0 and sent["environment"] == "production" and sent["accepted"] == len(audience)

    url = embedded_simulator(cli.data).url
    held = asyncio.run(read_back(url, DEMO_KEYS["production"], [row["email"] for row in audience]))
    for row in audience:
        assert held[row["email"]] == {"Loyalty Tier": row["tier"], "Points": row["points"]}

    # the ledger holds every step, and its chain is intact
    code, out, _ = cli("ledger", "--json")
    assert code == 0
    entries = json.loads(out)
    steps = [(e["action"], e["environment"], e["subject"]) for e in entries]
    assert steps == [
        ("credential.added", "sandbox", "attentive"),
        ("credential.added", "production", "attentive"),
        ("destination.added", "sandbox", "loyalty"),
        ("send.started", "sandbox", "loyalty"),
        ("send.finished", "sandbox", "loyalty"),
        ("rejections.exported", "sandbox", "loyalty"),
        ("promotion.pending", "production", "loyalty"),
        ("promotion", "production", "loyalty"),
        ("send.started", "production", "loyalty"),
        ("send.finished", "production", "loyalty"),
    ]
    assert all(e["operator"] == "alice" for e in entries)
    finished_sample, promotion, finished_production = entries[4]["details"], entries[7]["details"], entries[9]["details"]
    assert finished_sample["run_id"] == sample["run_id"] and finished_sample["accepted"] == 20
    assert promotion["test_send_run"] == sample["run_id"] and promotion["diff_sha256"] == promoted["diff"]["sha256"]
    assert finished_production["run_id"] == sent["run_id"] and finished_production["accepted"] == len(audience)
    ledger_text = json.dumps(entries)
    assert DEMO_KEYS["sandbox"] not in ledger_text and DEMO_KEYS["production"] not in ledger_text
    assert cli("ledger", "verify").code == 0
