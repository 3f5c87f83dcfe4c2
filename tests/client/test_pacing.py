"""Token buckets: spacing, sharing by key, live rate changes, and corrections from the server."""
from __future__ import annotations

import math

import pytest
from virtual_clock import VirtualClock

from tui.attentive.client import AttentiveClient
from tui.attentive.pacing import PacingRegistry, SendStamp, TokenBucket, key_fingerprint
from tui.attentive.secret import ApiKey


def bucket_at(rate: float, clock: VirtualClock) -> tuple[TokenBucket, object]:
    bucket = TokenBucket(clock=clock)
    owner = object()
    bucket.claim(owner, rate)
    return bucket, owner


def most_in_any_second(slots: list[float]) -> int:
    # (less a nanosecond: 150 float gaps of 1/150 add up to a hair under one second)
    return max(sum(1 for s in slots if start <= s < start + 1.0 - 1e-9) for start in slots)


def test_slots_are_spaced_at_the_rate_and_never_exceed_it_in_any_second():
    clock = VirtualClock()
    bucket, _ = bucket_at(150, clock)
    slots = [bucket.reserve()[0] for _ in range(450)]
    gaps = {round(b - a, 9) for a, b in zip(slots, slots[1:])}
    assert gaps == {round(1 / 150, 9)}
    assert slots[0] == clock.now
    assert most_in_any_second(slots) == 150


def test_idle_time_does_not_save_up_a_burst():
    clock = VirtualClock()
    bucket, _ = bucket_at(10, clock)
    bucket.reserve()
    clock.advance(60)
    first, _ = bucket.reserve()
    second, _ = bucket.reserve()
    assert first == clock.now
    assert second == pytest.approx(clock.now + 0.1)


def test_the_lowest_claim_sets_the_pace_until_it_is_released():
    clock = VirtualClock()
    bucket, sender = bucket_at(150, clock)
    careful = object()
    bucket.claim(careful, 50)
    assert bucket.rate == 50
    bucket.release(careful)
    assert bucket.rate == 150
    bucket.claim(sender, 20)  # a live change by the same owner replaces its claim
    assert bucket.rate == 20


def test_a_lower_server_limit_lowers_the_pace_and_a_higher_one_does_not_raise_it():
    clock = VirtualClock()
    bucket, _ = bucket_at(150, clock)
    stamp = SendStamp(clock.monotonic(), clock.wall())
    bucket.observe(remaining=10, limit=40, sent=stamp)
    assert bucket.rate == 40
    bucket.observe(remaining=10, limit=1000, sent=stamp)
    assert bucket.rate == 150


def test_remaining_zero_holds_every_sender_until_the_next_second_window():
    clock = VirtualClock(wall_start=1_700_000_000.25)  # a quarter into a wall-clock second
    bucket, _ = bucket_at(150, clock)
    stamp = SendStamp(clock.monotonic(), clock.wall())
    bucket.observe(remaining=0, limit=150, sent=stamp)
    slot, _ = bucket.reserve()
    assert slot == pytest.approx(stamp.monotonic + 0.75)


def test_remaining_zero_reported_after_the_window_ended_holds_nothing():
    clock = VirtualClock(wall_start=1_700_000_000.9)
    bucket, _ = bucket_at(150, clock)
    stamp = SendStamp(clock.monotonic(), clock.wall())
    clock.advance(0.2)  # the answer arrives in the next window
    bucket.observe(remaining=0, limit=150, sent=stamp)
    slot, _ = bucket.reserve()
    assert slot == clock.now


async def test_a_hold_reaches_a_sender_already_waiting():
    clock = VirtualClock()
    bucket, _ = bucket_at(1, clock)
    await bucket.acquire()
    clock.at(clock.now + 0.3, lambda: bucket.hold_for(5))  # Retry-After arrives while it waits
    stamp = await bucket.acquire()
    assert stamp.monotonic >= 1000.3 + 5


async def test_speeding_up_reaches_a_sender_already_waiting():
    clock = VirtualClock()
    bucket, owner = bucket_at(0.1, clock)  # one request every 10 s
    await bucket.acquire()
    clock.at(clock.now + 0.2, lambda: bucket.claim(owner, 100))
    stamp = await bucket.acquire()
    assert stamp.monotonic - 1000.0 < 0.5  # not the 10 s the old rate asked for
    assert all(s <= 0.2 + 1e-9 for s in clock.sleeps)  # waits in short steps, never one long sleep


async def test_unpaced_bucket_never_sleeps():
    clock = VirtualClock()
    bucket, _ = bucket_at(math.inf, clock)
    for _ in range(1000):
        await bucket.acquire()
    assert clock.sleeps == []


@pytest.mark.parametrize("rate", [0, -1, float("nan")])
def test_a_rate_must_be_positive(rate):
    bucket = TokenBucket(clock=VirtualClock())
    with pytest.raises(ValueError, match="positive"):
        bucket.claim(object(), rate)


def test_registry_shares_buckets_by_key_and_holds_only_a_fingerprint():
    registry = PacingRegistry(clock=VirtualClock())
    key = ApiKey("sk_live_0123456789abcdef")
    same_key = ApiKey("sk_live_0123456789abcdef")
    other = ApiKey("sk_live_fedcba9876543210")
    fingerprint = key_fingerprint(key)
    assert key.value not in fingerprint and "0123" not in fingerprint
    assert fingerprint == key_fingerprint(same_key)
    shared = registry.bucket(fingerprint, "custom-attributes")
    assert registry.bucket(key_fingerprint(same_key), "custom-attributes") is shared
    assert registry.bucket(key_fingerprint(other), "custom-attributes") is not shared
    assert registry.bucket(fingerprint, "bulk") is not shared


async def test_clients_of_one_key_share_a_bucket_and_the_slowest_sets_the_pace():
    registry = PacingRegistry(clock=VirtualClock())
    send = AttentiveClient("http://127.0.0.1:9", ApiKey("key-one-aaaa"), pacing=registry)
    verify = AttentiveClient("http://127.0.0.1:9", ApiKey("key-one-aaaa"), pacing=registry, rate_limits={"custom-attributes": 40})
    stranger = AttentiveClient("http://127.0.0.1:9", ApiKey("key-two-bbbb"), pacing=registry)
    assert send.rate("custom-attributes") == 150
    assert verify.rate("custom-attributes") == 40 and send.rate("custom-attributes") == 40
    send.set_rate("custom-attributes", 10)  # the console's "slow down", live
    assert verify.rate("custom-attributes") == 10
    assert stranger.rate("custom-attributes") == 150
    await send.aclose()
    assert verify.rate("custom-attributes") == 40
    await verify.aclose()
    await stranger.aclose()


def test_unknown_endpoint_names_and_bad_rates_are_refused():
    attentive = AttentiveClient("http://127.0.0.1:9", ApiKey("key-one-aaaa"), pacing=PacingRegistry())
    with pytest.raises(ValueError, match="unknown endpoint 'custom'"):
        attentive.set_rate("custom", 10)
    with pytest.raises(ValueError, match="positive"):
        attentive.set_rate("bulk", 0)
    with pytest.raises(ValueError, match="unknown endpoint"):
        AttentiveClient("http://127.0.0.1:9", ApiKey("k"), rate_limits={"nope": 1})
    with pytest.raises(ValueError, match="http"):
        AttentiveClient("api.attentivemobile.com", ApiKey("k"))
