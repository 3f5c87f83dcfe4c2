"""tui.attentive.durations: durations and ranges as people write them, and compact display."""
from __future__ import annotations

import pytest

from tui.attentive.durations import DurationError, format_duration, parse_duration, parse_duration_range


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("2h", 7200), ("1.5m", 90), ("500ms", 0.5), ("2d", 172_800), ("1h30m", 5400),
     ("1h 30m", 5400), ("90 s", 90), ("12", 12), ("0.2", 0.2), (".5s", 0.5), ("0", 0), (" 2H ", 7200),
     ("1d2h3m4s5ms", 93_784.005)],
)
def test_durations_are_read(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5x", "-5s", "1h30", "30m1h", "1m1m", "1 2", "1e3s", "inf", "nan", "s"])
def test_a_bad_duration_is_refused_quoting_it_and_how_to_write_one(text):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == f"{text!r} is not a duration; write it like 90s, 15m, 2h or 30s-2m"


@pytest.mark.parametrize(
    "text, expected",
    [("30s-2m", (30, 120)), ("30s..2m", (30, 120)), ("10s - 40s", (10, 40)), ("1.5..2", (1.5, 2)),
     ("1-2", (1, 2)), ("90s", (90, 90)), ("5s-5s", (5, 5))],
)
def test_ranges_are_read(text, expected):
    assert parse_duration_range(text) == expected


@pytest.mark.parametrize(
    "text, why",
    [("2m-30s", "runs backwards: put the shorter duration first"), ("1s-", "is not a duration or a range"),
     ("-5s", "is not a duration or a range"), ("1-2-3", "is not a duration or a range"),
     ("1s..x", "is not a duration or a range"), ("fast", "is not a duration")],
)
def test_a_bad_range_is_refused_saying_why(text, why):
    with pytest.raises(DurationError) as caught:
        parse_duration_range(text)
    assert str(caught.value) == f"{text!r} {why}; write it like 90s, 15m, 2h or 30s-2m"


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (0.25, "250ms"), (1, "1s"), (2.5, "2.5s"), (45, "45s"), (59.6, "1m"), (90, "1m30s"), (300, "5m"),
     (720, "12m"), (749, "12m"), (3600, "1h"), (3 * 3600 + 5 * 60, "3h05m"), (86_400, "1d"),
     (2 * 86_400 + 4 * 3600, "2d4h")],
)
def test_durations_are_shown_compact(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["45s", "2h", "3h05m", "2d4h", "1m30s", "250ms"])
def test_what_is_shown_reads_back(text):
    assert format_duration(parse_duration(text)) == text


def test_a_negative_duration_cannot_be_shown():
    with pytest.raises(ValueError):
        format_duration(-1)
