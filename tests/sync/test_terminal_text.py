"""Control characters in data become visible text before they reach a terminal."""
from __future__ import annotations

import pytest

from tui.sync.terminal_text import escape_controls, escape_lines

CRAFTED = [
    ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),                     # clear the screen, cursor home
    ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),               # set the window title (OSC ... BEL)
    ("\x9b31m", "\\x9b31m"),                                  # C1 CSI, one byte
    ("a\x00b\x7fc\x08", "a\\x00b\\x7fc\\x08"),                # NUL, DEL, backspace
    ("user@\u202eexample.com", "user@\\u202eexample.com"),    # right-to-left override
    ("\u2066x\u2069\u200e\u200f\u061c", "\\u2066x\\u2069\\u200e\\u200f\\u061c"),
    ("one\ntwo\r\tthree\u2028four\x85", "one\\ntwo\\r\\tthree\\u2028four\\x85"),
]


@pytest.mark.parametrize(("raw", "shown"), CRAFTED)
def test_every_control_is_escaped_and_nothing_else_changes(raw, shown):
    assert escape_controls(raw) == shown
    assert escape_controls(shown) == shown  # escaping twice changes nothing: the result is plain text
    assert all(c.isprintable() for c in shown)


def test_ordinary_text_is_left_alone():
    text = "Zoë O'Brien <zoë@example.com> 東京 🙂 \\x1b 50% +1 (212) 555-0101"
    assert escape_controls(text) == text


def test_lines_keep_their_breaks_and_lose_their_controls():
    assert escape_lines("first \x1b[31m\nsecond\t\u202e") == "first \\x1b[31m\nsecond\\t\\u202e"
