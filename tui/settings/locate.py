"""Where each key and value sits in a TOML text, so a problem can name its line and column.

tomllib gives values without positions and tomlkit keeps none either, so this scans the text once.
It runs only on text tomllib has accepted, so it can stay small: it understands table headers,
dotted keys, quoted keys, inline tables, arrays and every string form, which is all that decides
where a key is.
"""
from __future__ import annotations

import bisect
import tomllib
from dataclasses import dataclass

KeyPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}\n#")


@dataclass(frozen=True)
class Position:
    line: int     # 1-based
    column: int   # 1-based


START = Position(1, 1)


class KeyLocator:
    """Positions of keys (where the key is written) and of values, by key path.

    Array elements are addressed by index: ("access", "admins", 1)."""

    def __init__(self, text: str):
        self._text = text
        self._line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self._keys: dict[KeyPath, int] = {}
        self._values: dict[KeyPath, int] = {}
        self._array_tables: dict[KeyPath, int] = {}
        try:
            self._scan()
        except IndexError:
            # Only reachable through a scanner bug (tomllib accepted the text): positions found so
            # far stay, the rest fall back to their table or 1:1 rather than hiding the problems.
            pass

    def key(self, path: KeyPath) -> Position:
        """Where `path` is written; for a path that is not in the file (a missing field), where its
        nearest enclosing table is."""
        for end in range(len(path), 0, -1):
            offset = self._keys.get(path[:end])
            if offset is not None:
                return self._position(offset)
        return START

    def value(self, path: KeyPath) -> Position:
        offset = self._values.get(path)
        return self._position(offset) if offset is not None else self.key(path)

    def _position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line + 1, offset - self._line_starts[line] + 1)

    # -- scanning -----------------------------------------------------------------------------
    def _scan(self) -> None:
        text, i = self._text, 0
        table: KeyPath = ()
        while True:
            i = self._skip_blank(i, newlines=True)
            if i >= len(text):
                return
            if text[i] == "[":
                is_array = text.startswith("[[", i)
                i += 2 if is_array else 1
                table, i = self._key_path(i, ())
                i = self._skip_blank(i, newlines=False)
                i += 2 if is_array else 1
                if is_array:
                    index = self._array_tables.get(table, 0)
                    self._array_tables[table] = index + 1
                    table = table + (index,)
                    self._keys.setdefault(table, self._keys[table[:-1]])
            else:
                i = self._key_value(i, table)

    def _key_value(self, i: int, table: KeyPath) -> int:
        path, i = self._key_path(i, table)
        i = self._skip_blank(i, newlines=False) + 1   # the "="
        i = self._skip_blank(i, newlines=False)
        return self._value(i, path)

    def _key_path(self, i: int, prefix: KeyPath) -> tuple[KeyPath, int]:
        """Reads a (dotted) key, records each part where it is written."""
        path = prefix
        while True:
            i = self._skip_blank(i, newlines=False)
            start = i
            if self._text[i] in "\"'":
                end = self._string_end(i)
                part = tomllib.loads(f"k = {self._text[i:end]}")["k"]
                i = end
            else:
                while i < len(self._text) and self._text[i] in _BARE:
                    i += 1
                part = self._text[start:i]
            path = path + (part,)
            self._keys.setdefault(path, start)
            i = self._skip_blank(i, newlines=False)
            if i < len(self._text) and self._text[i] == ".":
                i += 1
                continue
            return path, i

    def _value(self, i: int, path: KeyPath) -> int:
        self._values.setdefault(path, i)
        text = self._text
        char = text[i]
        if char in "\"'":
            return self._string_end(i)
        if char == "{":
            i += 1
            while True:
                i = self._skip_blank(i, newlines=True)
                if text[i] == "}":
                    return i + 1
                if text[i] == ",":
                    i += 1
                    continue
                i = self._key_value(i, path)
        if char == "[":
            i, index = i + 1, 0
            while True:
                i = self._skip_blank(i, newlines=True)
                if text[i] == "]":
                    return i + 1
                if text[i] == ",":
                    i += 1
                    continue
                i = self._value(i, path + (index,))
                index += 1
        while i < len(text) and text[i] not in _SCALAR_END:
            i += 1
        return i

    def _string_end(self, i: int) -> int:
        """Offset just past the string starting at i (basic, literal, or either multi-line form)."""
        text = self._text
        quote = text[i]
        if text.startswith(quote * 3, i):
            j = i + 3
            while True:
                if quote == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote * 3, j):
                    j += 3
                    # Up to two quotes may sit right before the closing delimiter.
                    while j < len(text) and text[j] == quote:
                        j += 1
                    return j
                j += 1
        j = i + 1
        while text[j] != quote:
            j += 2 if quote == '"' and text[j] == "\\" else 1
        return j + 1

    def _skip_blank(self, i: int, *, newlines: bool) -> int:
        text = self._text
        while i < len(text):
            char = text[i]
            if char in " \t\r" or (newlines and char == "\n"):
                i += 1
            elif char == "#":
                while i < len(text) and text[i] != "\n":
                    i += 1
            else:
                break
        return i
