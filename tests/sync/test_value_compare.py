"""Read-back comparison is exact on canonical text, and names Attentive's first-value typing when that
is what changed a value."""
from __future__ import annotations

import pytest

from tui.sync.compare import Difference, canonical_text, compare_value


@pytest.mark.parametrize(("sent", "got"), [
    ("24", "24"), (24, "24"), (24, 24), (True, "true"), (False, "false"), (True, True),
    ("true", True), (2.5, "2.5"), (3.0, "3"), (-0.0, "0"), ("02134", "02134"), ("+12125550001", "+12125550001"),
    ("", ""), ("a\u2028b", "a\u2028b"),
])
def test_the_same_value_matches(sent, got):
    assert compare_value(sent, got) is None


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (False, "false"), (0, "0"), (-17, "-17"), (10**20, "100000000000000000000"),
    (3.0, "3"), (2.5, "2.5"), (1e-07, "1e-07"), (1e16, "10000000000000000"), (" x ", " x "),
])
def test_canonical_text(value, text):
    assert canonical_text(value) == text


def test_no_value_read_back_is_missing():
    difference = compare_value("Gold", None)
    assert difference is not None
    assert (difference.sent, difference.got, difference.problem) == ("Gold", None, "missing")


@pytest.mark.parametrize(("sent", "got"), [
    ("02134", "2134"), ("02134", 2134), ("+12125550001", "12125550001"), ("1.50", "1.5"), ("1.50", 1.5),
    ("1e3", "1000"), ("007.0", "7"),
])
def test_text_that_attentive_typed_as_a_number_says_so(sent, got):
    difference = compare_value(sent, got)
    assert difference == Difference(sent, got, "typed_as_number", difference.explanation)
    assert "number" in difference.explanation and "first value" in difference.explanation
    assert "text" in difference.explanation  # what to do: declare it as text, or send a non-numeric form


@pytest.mark.parametrize(("sent", "got"), [(3.0, "3.0"), (2134, "02134"), (2.5, "2.50")])
def test_a_number_read_back_in_another_form_is_a_difference_but_not_a_loss(sent, got):
    difference = compare_value(sent, got)
    assert difference is not None and difference.problem == "number_form"


@pytest.mark.parametrize(("sent", "got"), [
    ("yes", "true"), ("yes", True), ("TRUE", "true"), ("True", True), ("no", False), ("NO", "false"),
])
def test_text_that_attentive_typed_as_a_boolean_says_so(sent, got):
    difference = compare_value(sent, got)
    assert difference is not None and difference.problem == "typed_as_boolean"
    assert "boolean" in difference.explanation and "first value" in difference.explanation


@pytest.mark.parametrize(("sent", "got"), [
    ("Gold", "gold"), ("Gold", "Gold "), (" Gold", "Gold"), ("Gold", "Silver"), ("24", "25"),
    ("0.1", "0.10000000000000001"),                  # equal as floats, not as numbers
    ("12345678901234567890", "12345678901234567891"),  # likewise
    ("1_000", "1000"), (" 24", "24"),                # not numbers as written, so not typing
    ("yes", "false"), ("maybe", "true"), (True, "TRUE"), (True, "1"), (True, False),
    ("Gold", 24), ("", "0"),
])
def test_any_other_change_differs(sent, got):
    difference = compare_value(sent, got)
    assert difference is not None and difference.problem == "differs"
    assert (difference.sent, difference.got) == (sent, got)


def test_explanations_never_repeat_the_values():
    for sent, got in [("02134-secret", None), ("02134", "2134"), ("Yes", True), (2.5, "2.50"), ("Gold", "Silver")]:
        difference = compare_value(sent, got)
        assert difference is not None
        assert str(sent) not in difference.explanation and str(got) not in difference.explanation
