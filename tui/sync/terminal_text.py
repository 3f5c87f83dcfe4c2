"""Data made safe to show on a terminal (or in the console's log).

Identifiers, messages, file contents and Attentive's answers are data: an ESC in them would be a
command to the terminal (clear the screen, move the cursor, retitle the window), a bidi override
would show text in another order than it is stored. So every control character becomes visible
text instead: `\\x1b` for C0, DEL and C1 controls, `\\t` `\\n` `\\r` for those three, `\\u202e` for
the bidi controls and the line and paragraph separators. Everything else, backslashes included, is
shown as it is (so the text `\\x1b` and an escaped ESC look alike; what matters is that neither
reaches the terminal as a control).
"""
from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
# Bidi embeddings, overrides, isolates and marks (Unicode's Bidi_Control), and the two separators
# some terminals treat as a line break.
_FORMAT = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]

_ESCAPES = str.maketrans({
    **{code: _NAMED.get(chr(code), f"\\x{code:02x}") for code in _CONTROLS},
    **{code: f"\\u{code:04x}" for code in _FORMAT},
})


def escape_controls(text: str) -> str:
    """One line of data as visible text: every control character escaped, newlines too."""
    return text.translate(_ESCAPES)


def escape_lines(text: str) -> str:
    """Several lines (a message of ours that holds data): each line escaped, the newlines kept."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))
