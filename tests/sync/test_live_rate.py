"""The live run's figures: the rates `+`/`-` step through (the core's), and the meter's requests/s
window (honest counts of the send's endpoint, started again at a change of rate, capped only where
it is shown), the ETA gone once a run stopped or while it is paused, and the console's per-second series."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tui.app.run_text import SERIES_S, Series
from tui.attentive.responses import ClientStats
from tui.core.sends import rate_steps, stepped_rate
from tui.sync import meter as meter_module
from tui.sync.control import SendControl
from tui.sync.history_writer import RunCounts
from tui.sync.meter import ProgressMeter
from tui.sync.progress import Progress
from tui.sync.progress_text import progress_line


@pytest.mark.parametrize(("limit", "steps"), [
    (150, (1, 2, 5, 10, 25, 50, 100, 150)),
    (100, (1, 2, 5, 10, 25, 50, 100)),
    (10, (1, 2, 5, 10)),
    (7, (1, 2, 5, 7)),
    (0.5, (0.5,)),
])
def test_the_steps_are_the_round_rates_up_to_the_limit_and_never_above(limit, steps):
    assert rate_steps(limit) == steps


def test_plus_walks_up_from_1_and_stops_at_the_limit_minus_walks_down_and_stops_at_1():
    rate, seen = 1.0, []
    for _ in range(9):
        rate = stepped_rate(rate, True, 150)
        seen.append(rate)
    assert seen == [2, 5, 10, 25, 50, 100, 150, 150, 150]
    seen = []
    for _ in range(9):
        rate = stepped_rate(rate, False, 150)
        seen.append(rate)
    assert seen == [100, 50, 25, 10, 5, 2, 1, 1, 1]


def test_a_rate_between_steps_moves_to_the_next_step_in_the_direction_pressed():
    assert stepped_rate(60, True, 100) == 100
    assert stepped_rate(60, False, 100) == 50
    assert stepped_rate(6.25, True, 150) == 10 and stepped_rate(7.81, False, 150) == 5
    assert stepped_rate(200, True, 150) == 150   # a server that lowered the limit: + never goes above


@dataclass
class FakeTally:
    in_flight: int = 0
    retrying: int = 0


class FakeClient:
    """What the meter reads of an AttentiveClient: its counters and the rate in force."""

    def __init__(self, rate: float) -> None:
        self.stats = ClientStats()
        self.rate_in_force = rate

    def rate(self, endpoint: str) -> float:
        return self.rate_in_force


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(meter_module.time, "monotonic", clock)
    return clock


def metered(clock: Clock, rate: float = 100.0, endpoint: str = "bulk") -> tuple[ProgressMeter, FakeClient, SendControl]:
    control = SendControl()
    control.attach(lambda _: None, 100)
    meter = ProgressMeter(1, RunCounts(), FakeTally(), control, 3000, endpoint)  # type: ignore[arg-type]
    client = FakeClient(rate)
    meter.client = client  # type: ignore[assignment]
    return meter, client, control


def test_the_short_burst_that_read_125_per_second_is_measured_honestly_and_shown_at_the_limit(clock):
    meter, client, _ = metered(clock)
    meter.snapshot()
    clock.now += 0.1
    client.stats.of("bulk").requests = 13   # a window of 0.1 s holding 13 slots (the first is free)
    progress = meter.snapshot()
    assert progress.requests_per_s == pytest.approx(130)        # the measurement, as it is
    assert progress.shown_requests_per_s == 100                  # what is shown: never above the rate
    assert "100 req/s" in progress_line(progress)


def test_requests_to_other_endpoints_do_not_count_against_the_sends_limit(clock):
    meter, client, _ = metered(clock)
    meter.snapshot()
    clock.now += 1.0
    client.stats.of("me").requests = 1
    client.stats.of("bulk").requests = 50
    progress = meter.snapshot()
    assert progress.requests_per_s == pytest.approx(50) and progress.requests == 50


def test_the_window_starts_again_when_the_rate_changes(clock):
    meter, client, _ = metered(clock)
    bulk = client.stats.of("bulk")
    for _ in range(3):             # three seconds at 100/s
        meter.snapshot()
        clock.now += 1.0
        bulk.requests += 100
    assert meter.snapshot().requests_per_s == pytest.approx(100)
    client.rate_in_force = 10      # the operator pressed -
    meter.snapshot()
    for _ in range(2):
        clock.now += 1.0
        bulk.requests += 10
        progress = meter.snapshot()
    assert progress.requests_per_s == pytest.approx(10)     # not a blend of 100 and 10
    assert progress.rate_limit == 10 and progress.endpoint_limit == 100


def test_no_eta_once_a_run_stopped_or_while_it_is_paused_or_cancelling(clock):
    meter, client, control = metered(clock)
    meter.snapshot()
    clock.now += 1.0
    meter.counts.accepted = 500
    assert meter.snapshot().eta_s is not None
    control.pause()
    assert meter.snapshot().eta_s is None
    control.resume()
    control.cancel()
    assert meter.snapshot().eta_s is None
    for state in ("cancelled", "failed", "finished", "awaiting_results"):
        progress = meter.snapshot(state)
        assert progress.eta_s is None and progress.stopped and "ETA" not in progress_line(progress)
    assert "ETA" in progress_line(Progress(run_id=1, eta_s=10.0))


def test_the_series_keeps_one_value_a_second_for_the_last_minute():
    series = Series()
    for tick in range(0, 10):          # five ticks a second for two seconds
        series.add(tick * 0.2, float(tick))
    assert series.values == [4.0, 9.0]                 # the latest of each second
    lowest = Series(min)
    for elapsed, value in ((0.1, 9), (0.5, 3), (0.9, 7), (1.2, 8)):
        lowest.add(elapsed, value)
    assert lowest.values == [3, 8]
    series.add(5.0, 1.0)                                # seconds without progress take the next value
    assert series.values == [4.0, 9.0, 1.0, 1.0, 1.0, 1.0]   # seconds 2 to 5
    for second in range(6, 200):
        series.add(float(second), float(second))
    assert len(series.values) == SERIES_S and series.latest == 199.0
