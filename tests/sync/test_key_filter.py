"""The in-run duplicate filter (key_filter.key_filter) grows with the file: a key whose bit is set is
looked up in the history, so a filter sized for a million rows would send a ten-million-row run to
SQLite for one key in two by its end."""
from __future__ import annotations

from tui.sync.key_filter import key_filter, mark_in, maybe_in


def test_the_filter_is_sixteen_bits_a_row_within_its_bounds():
    assert len(key_filter(0)) == 2 << 20             # a sample, an empty file: the floor
    assert len(key_filter(1_000_000)) == 2 << 20     # 16 million bits
    assert len(key_filter(1_100_000)) == 4 << 20     # the next power of two
    assert len(key_filter(3_000_000)) == 8 << 20
    assert len(key_filter(100_000_000)) == 16 << 20  # the ceiling


def test_keys_that_share_the_small_filters_bit_are_apart_in_a_large_one():
    key, twin = 12345, 12345 + (1 << 24)   # the same bit in 2**24 bits
    small, large = key_filter(1), key_filter(10_000_000)
    mark_in(small, key)
    mark_in(large, key)
    assert maybe_in(small, twin)
    assert maybe_in(large, key) and not maybe_in(large, twin)
    assert not maybe_in(key_filter(10_000_000), key)
