"""The unchanged rows' index (raw_index.RawIndex) on a real history file: held in memory it answers
as the SQLite look-up does (absent digests, rows without a key, two digests sharing their first
half, digests at the ends of the slices it is read in), and past its memory bound it looks up in
SQLite instead."""
from __future__ import annotations

import hashlib

import pytest

from tui.sync.history_schema import connect, upsert_diff_state
from tui.sync.raw_index import RawIndex


def digest(i: int) -> bytes:
    return hashlib.blake2b(str(i).encode(), digest_size=16).digest()


@pytest.fixture
def connection(tmp_path):
    connection = connect(tmp_path / "data")
    with connection:
        upsert_diff_state(connection, [(1, f"m{i}@example.com", b"p" * 16, digest(i), -i * 7919) for i in range(3000)])
        upsert_diff_state(connection, [
            (1, "twin-a@example.com", b"p" * 16, b"\x00" * 8 + b"A" * 8, 11),   # the same first half
            (1, "twin-b@example.com", b"p" * 16, b"\x00" * 8 + b"B" * 8, 22),
            (1, "unkeyed@example.com", b"p" * 16, digest(-1), None),           # written before version 8
            (1, "top@example.com", b"p" * 16, b"\xff" * 16, 44),                 # the last slice's last digest
            (1, "edge@example.com", b"p" * 16, b"\x10" * 16, 55),                # on a slice's lower bound
            (2, "other-scope@example.com", b"p" * 16, digest(-2), 33),
        ])
    yield connection
    connection.close()


def test_in_memory_and_in_sqlite_give_the_same_keys(connection):
    asked = [digest(i) for i in range(0, 3200, 3)] + [b"\x00" * 8 + b"B" * 8, b"\x00" * 8 + b"A" * 8,
                                                        b"\x00" * 8 + b"C" * 8, digest(-1), digest(-2),
                                                        b"\xff" * 16, b"\x10" * 16]
    held, looked_up = RawIndex(connection, 1), RawIndex(connection, 1, memory_entries=10)
    assert (held.in_memory, looked_up.in_memory) == (True, False)
    expected = [-i * 7919 if i < 3000 else None for i in range(0, 3200, 3)] + [22, 11, None, None, None, 44, 55]
    assert held.keys(asked) == expected
    assert looked_up.keys(asked) == expected


def test_a_scope_with_nothing_keyed_finds_nothing(connection):
    assert RawIndex(connection, 9).keys([digest(1)]) == [None]
    assert RawIndex(connection, 2).keys([digest(-2), digest(1), b"\xff" * 16]) == [33, None, None]  # above all


def test_an_identifier_key_finds_the_entry_its_raw_digest_finds(connection):
    """What the planner asks for a built row (planner.py): the entry by key is the entry by raw digest,
    and a key the diff state does not hold (or holds without a raw digest key) finds none."""
    held = RawIndex(connection, 1)
    raws = [digest(i) for i in range(0, 3000, 7)] + [b"\x00" * 8 + b"B" * 8, b"\xff" * 16]
    places = held.places(raws).tolist()
    keys = held.keys_at(held.places(raws))
    assert -1 not in places and None not in keys
    assert held.places_of_keys([key for key in keys if key is not None]).tolist() == places
    assert held.places_of_keys([33, 7919, 12345]).tolist() == [-1, -1, -1]  # another scope's, none, none
