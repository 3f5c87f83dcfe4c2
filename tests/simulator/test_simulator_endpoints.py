"""Each endpoint's success path, answers checked against the response schemas in the shipped spec."""
from __future__ import annotations

import json
from pathlib import Path

import fastjsonschema
import pytest
from simulator_fixtures import JobClock
from yarl import URL

from tui.attentive.simulator.validation import resolve_refs

SPEC_DIR = Path(__file__).resolve().parents[2] / "tui" / "attentive" / "spec"


def response_validator(spec_file: str, path: str, method: str, status: str):
    spec = json.loads((SPEC_DIR / spec_file).read_text(encoding="utf-8"))
    response = resolve_refs(spec["paths"][path][method]["responses"][status], spec)
    return fastjsonschema.compile(response["content"]["application/json"]["schema"])


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


async def test_me_answers_the_five_documented_fields_per_key(simulator):
    validate = response_validator("attentive-v1.json", "/me", "get", "200")
    mine = await simulator.call("GET", "/v1/me", key=simulator.full_key)
    other = await simulator.call("GET", "/v1/me", key=simulator.other_company_key)
    for reply in (mine, other):
        assert reply.status == 200
        validate(reply.json())
        assert set(reply.json()) == {"applicationName", "attentiveDomainName", "companyName", "contactEmail", "companyId"}
    assert mine.json()["companyName"] == "Test Company"
    assert other.json()["companyName"] == "Other Test Company"
    assert mine.json()["companyId"] != other.json()["companyId"]


async def test_custom_attributes_are_read_back_by_email_and_phone(simulator):
    validate = response_validator("attentive-v1.json", "/attributes/custom", "get", "200")
    sent = await simulator.call(
        "POST", "/v1/attributes/custom",
        json={"user": {"email": "ada@example.com", "phone": "+14155550100"},
              "properties": {"age": "24", "VIP": "TRUE", "favorite team": "Minnesota Vikings", "points": 12.5}},
    )
    assert (sent.status, sent.text) == (200, "")
    by_email = await simulator.call("GET", "/v1/attributes/custom", params={"email": "ada@example.com"})
    by_phone = await simulator.call("GET", "/v1/attributes/custom", params={"phone": "+14155550100"})
    assert by_email.status == by_phone.status == 200
    validate(by_email.json())
    values = {item["name"]: item["value"] for item in by_email.json()}
    # Typed by their first value: "TRUE" is held as the Boolean true, and reads back so.
    assert values == {"age": "24", "VIP": "true", "favorite team": "Minnesota Vikings", "points": "12.5"}
    assert by_phone.json() == by_email.json()


async def test_companies_do_not_see_each_others_profiles(simulator):
    await simulator.call("POST", "/v1/attributes/custom",
                         json={"user": {"email": "ada@example.com"}, "properties": {"tier": "gold"}})
    reply = await simulator.call("GET", "/v1/attributes/custom", key=simulator.other_company_key,
                                 params={"email": "ada@example.com"})
    assert reply.status == 404


async def test_bulk_job_completes_and_its_results_have_one_line_per_profile(start_simulator):
    accepted_schema = response_validator("attentive-v2.json", "/v2/bulk/user/attributes", "post", "202")
    status_schema = response_validator("attentive-v2.json", "/v2/bulk/job/{bulkJobId}", "get", "200")
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=20)
    users = [
        {"identifiers": {"email": f"user{i}@example.com"}, "attributes": {"firstName": "Ada", "custom": {"score": i}}}
        for i in range(3)
    ]
    accepted = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": users})
    assert accepted.status == 202
    accepted_schema(accepted.json())
    job_id = accepted.json()["batchJobId"]

    seen = []
    for _ in range(3):
        reply = await sim.call("GET", f"/v2/bulk/job/{job_id}")
        status_schema(reply.json())
        seen.append(reply.json())
        clock.advance(10)
    pending, running, done = seen
    assert pending == {"bulkJobId": job_id, "status": "PENDING", "totalRecords": 3}
    assert running == {"bulkJobId": job_id, "status": "IN_PROGRESS", "totalRecords": 3}
    assert {k: v for k, v in done.items() if k != "url"} == {"bulkJobId": job_id, "status": "COMPLETED", "totalRecords": 3}

    results = await sim.call("GET", URL(done["url"]).path, key=None)  # signed-URL style: no key
    assert results.status == 200
    lines = jsonl(results.text)
    assert [line["request"] for line in lines] == users
    assert [line["response"] for line in lines] == [{"status": 200, "message": "OK"}] * 3
    read_back = await sim.call("GET", "/v1/attributes/custom", params={"email": "user2@example.com"})
    assert read_back.json() == [{"name": "score", "attribute": "score", "value": "2"}]


async def test_results_need_the_token_of_their_url_and_a_completed_job(start_simulator):
    clock = JobClock()
    sim = await start_simulator(clock=clock)
    accepted = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": [{"identifiers": {"email": "a@example.com"}}]})
    job = sim.sim.jobs.get(accepted.json()["batchJobId"])
    assert (await sim.call("GET", job.results_path, key=None)).status == 404  # still PENDING
    clock.advance(1)
    assert (await sim.call("GET", job.results_path, key=None)).status == 200
    wrong = job.results_path.replace(job.token, "x" * len(job.token))
    assert (await sim.call("GET", wrong, key=None)).status == 404


async def test_bulk_job_of_another_company_is_not_found(simulator):
    accepted = await simulator.call("POST", "/v2/bulk/user/attributes",
                                    json={"users": [{"identifiers": {"email": "a@example.com"}}]})
    job_id = accepted.json()["batchJobId"]
    assert (await simulator.call("GET", f"/v2/bulk/job/{job_id}", key=simulator.other_company_key)).status == 404
    assert (await simulator.call("GET", "/v2/bulk/job/no-such-job")).status == 404


@pytest.mark.parametrize(
    "body, channels",
    [
        ({"user": {"phone": "+14155550100"}, "signUpSourceId": "123456"}, ["TEXT"]),
        ({"user": {"email": "ada@example.com"}, "locale": {"language": "en", "country": "US"},
          "subscriptionType": "TRANSACTIONAL"}, ["EMAIL"]),
        ({"user": {"phone": "+14155550100", "email": "ada@example.com"}, "signUpSourceId": "1",
          "externalIdentifiers": {"clientUserId": "c-1"}}, ["TEXT", "EMAIL"]),
    ],
)
async def test_subscription_is_created_then_reported_as_existing(simulator, body, channels):
    validate = response_validator("attentive-v1.json", "/subscriptions", "post", "202")
    first = await simulator.call("POST", "/v1/subscriptions", key=simulator.subscriptions_key, json=body)
    again = await simulator.call("POST", "/v1/subscriptions", key=simulator.subscriptions_key, json=body)
    assert first.status == again.status == 202
    validate(first.json())
    assert first.json()["user"] == body["user"]
    assert [r["subscription"]["channel"] for r in first.json()["subscriptionResponses"]] == channels
    assert {r["subscriptionCreationStatus"] for r in first.json()["subscriptionResponses"]} == {"NEWLY_CREATED"}
    assert {r["subscriptionCreationStatus"] for r in again.json()["subscriptionResponses"]} == {"PREVIOUSLY_CREATED"}


async def test_bridging_two_identifiers_merges_profiles(simulator):
    await simulator.call("POST", "/v1/attributes/custom",
                         json={"user": {"email": "ada@example.com"}, "properties": {"a": "1"}})
    await simulator.call("POST", "/v1/attributes/custom",
                         json={"user": {"phone": "+14155550100"}, "properties": {"b": "x"}})
    await simulator.call("POST", "/v1/attributes/custom",
                         json={"user": {"email": "ada@example.com", "phone": "+14155550100"}, "properties": {}})
    reply = await simulator.call("GET", "/v1/attributes/custom", params={"phone": "+14155550100"})
    assert {item["name"]: item["value"] for item in reply.json()} == {"a": "1", "b": "x"}


async def test_client_user_id_finds_a_profile_it_was_tied_to(simulator):
    await simulator.call("POST", "/v1/attributes/custom",
                         json={"user": {"email": "ada@example.com", "externalIdentifiers": {"clientUserId": "c-1"}},
                               "properties": {"a": "1"}})
    tied = await simulator.call("POST", "/v1/attributes/custom",
                                json={"user": {"externalIdentifiers": {"clientUserId": "c-1"}}, "properties": {"b": "2"}})
    assert tied.status == 200
    reply = await simulator.call("GET", "/v1/attributes/custom", params={"email": "ADA@example.com"})
    assert {item["name"] for item in reply.json()} == {"a", "b"}
