"""Fault injection: the --faults spec, and faults that replay from the same seed."""
from __future__ import annotations

import aiohttp
import pytest

from tui.attentive.simulator.faults import FaultInjector, FaultKind, FaultSpec, FaultSpecError, parse_fault_spec


def test_full_spec_is_read():
    spec = parse_fault_spec("500=0.05, 503=0.02,429burst=0.01:20,latency=5-50ms,drop=0.01,slow=0.01:2s,me")
    assert spec == FaultSpec(
        rate_500=0.05, rate_503=0.02, burst_429_rate=0.01, burst_429_length=20, latency_ms=(5.0, 50.0),
        drop_rate=0.01, slow_rate=0.01, slow_duration_s=2.0, include_me=True,
    )
    assert parse_fault_spec("latency=0.1-1s").latency_ms == (100.0, 1000.0)
    assert parse_fault_spec("latency=20ms").latency_ms == (20.0, 20.0)
    assert not parse_fault_spec("").active


def test_job_faults_are_read_and_do_not_make_requests_draw():
    spec = parse_fault_spec("jobfail=0.1,nourl=0.05,job404=30s,jobstatus=THROTTLED:0.2,results=foreign,u2028=0.1")
    assert spec == FaultSpec(
        job_fail_rate=0.1, job_no_url_rate=0.05, job_hidden_s=(30.0, 30.0), job_status_word="THROTTLED",
        job_status_rate=0.2, foreign_results=True, raw_separator_rate=0.1,
    )
    assert spec.jobs_active and not spec.active  # requests keep their fault stream untouched
    assert parse_fault_spec("job404=10s-2m").job_hidden_s == (10.0, 120.0)
    assert parse_fault_spec("jobstatus=QUEUED").job_status_rate == 1.0


@pytest.mark.parametrize(
    "spec, message",
    [
        ("500=5%", "'500=5%': '5%' is not a share"),
        ("503=1.5", "'503=1.5': 1.5 is outside 0..1"),
        ("404=0.1", "'404=0.1': unknown fault '404'"),
        ("drop", "'drop': expected NAME=VALUE"),
        ("latency=5-50", "'latency=5-50': '50' is not a duration"),
        ("latency=50-5ms", "the range runs backwards"),
        ("429burst=0.1:0", "the burst length '0' must be a whole number >= 1"),
        ("500=0.6,503=0.6", "add up to 1.2"),
        ("jobfail=0.7,nourl=0.4", "the shares of jobfail and nourl add up to 1.1"),
        ("job404=soon", "'job404=soon': 'soon' is not a duration; write it like 90s, 15m, 2h or 30s-2m"),
        ("job404=1m-10s", "runs backwards"),
        ("jobstatus=throttled:0.1", "write an unknown upper-case status word and a share, like THROTTLED:0.1"),
        ("jobstatus=COMPLETED:0.1", "write an unknown upper-case status word"),
        ("jobstatus=THROTTLED:2", "2.0 is outside 0..1"),
        ("results=csv", "the only other results format is 'foreign'"),
        ("u2028=lots", "'lots' is not a share"),
    ],
)
def test_bad_spec_names_the_item(spec, message):
    with pytest.raises(FaultSpecError) as caught:
        parse_fault_spec(spec)
    assert message in str(caught.value)


def _decisions(seed, spec="500=0.1,503=0.1,429burst=0.05:4,drop=0.05,slow=0.05,latency=5-50ms", n=300):
    injector = FaultInjector(parse_fault_spec(spec), seed)
    return [injector.decide() for _ in range(n)]


def test_same_seed_same_faults_and_another_seed_others():
    first, again, other = _decisions(7), _decisions(7), _decisions(8)
    assert first == again
    assert first != other
    kinds = {d.kind for d in first}
    assert kinds == set(FaultKind)
    assert all(0.005 <= d.latency_s <= 0.050 for d in first)


def test_a_429_burst_lasts_its_length():
    kinds = [d.kind for d in _decisions(3, "429burst=0.1:4", n=400)]
    start = kinds.index(FaultKind.BURST_429)
    assert kinds[start:start + 4] == [FaultKind.BURST_429] * 4


async def _statuses(sim, n):
    return [(await sim.call("GET", "/v1/attributes/custom?email=a@example.com")).status for _ in range(n)]


async def test_faults_replay_over_http_from_the_seed(start_simulator):
    faults = parse_fault_spec("500=0.3,503=0.2")
    first = await start_simulator(faults=faults, seed=42)
    second = await start_simulator(faults=faults, seed=42)
    statuses = await _statuses(first, 30)
    assert statuses == await _statuses(second, 30)
    assert {500, 503, 404} <= set(statuses)  # 404: no such profile, i.e. the request got through


async def test_injected_errors_carry_rate_headers(start_simulator):
    sim = await start_simulator(faults=parse_fault_spec("503=1"), seed=1)
    reply = await sim.call("POST", "/v1/attributes/custom", json={"user": {"email": "a@example.com"}, "properties": {}})
    assert reply.status == 503
    assert reply.headers["x-ratelimit-limit"] == "150"


async def test_burst_429_has_no_retry_after(start_simulator):
    sim = await start_simulator(faults=parse_fault_spec("429burst=1:2"), seed=1)
    reply = await sim.call("GET", "/v1/attributes/custom?email=a@example.com")
    assert reply.status == 429
    assert reply.headers["x-ratelimit-remaining"] == "0"
    assert "Retry-After" not in reply.headers


async def test_dropped_connection_gets_no_answer_and_me_is_spared(start_simulator):
    sim = await start_simulator(faults=parse_fault_spec("drop=1"), seed=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await sim.call("GET", "/v1/attributes/custom?email=a@example.com")
    assert (await sim.call("GET", "/v1/me")).status == 200
    with_me = await start_simulator(faults=parse_fault_spec("drop=1,me"), seed=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await with_me.call("GET", "/v1/me")


async def test_slow_body_arrives_whole(start_simulator):
    sim = await start_simulator(faults=parse_fault_spec("slow=1:0.05s"), seed=1)
    reply = await sim.call("POST", "/v2/bulk/user/attributes", json={"users": [{"identifiers": {"email": "a@example.com"}}]})
    assert reply.status == 202
    assert set(reply.json()) == {"message", "batchJobId"}
    assert reply.headers["x-ratelimit-limit"] == "100"
    empty = await sim.call("POST", "/v1/attributes/custom", json={"user": {"email": "a@example.com"}, "properties": {}})
    assert (empty.status, empty.text) == (200, "")
