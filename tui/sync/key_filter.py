"""Sets of identifier keys as filters of bits (one bit a key, picked by some of its bits): a key whose
bit is clear is certainly not in the set, so only the few others are looked up in the database. The
planners keep the keys a run has planned (in-run duplicates), by the keys' low bits; the run's
recorder keeps the keys it has written with their rows (history_writer.py), by higher ones
(`shift`): filters picking by the same bits share their false "seen", so the recorder's would pass
every one the planner's let through."""
from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported by the functions that use it: a console that sends nothing need not
    import numpy as np
    import numpy.typing as npt

    Keys = npt.NDArray[np.int64]

FILTER_BITS_PER_ROW = 16
MIN_FILTER_BITS, MAX_FILTER_BITS = 1 << 24, 1 << 27  # 2 MB, 16 MB


def key_filter(expected_rows: int, bits_per_row: int = FILTER_BITS_PER_ROW) -> bytearray:
    """An empty filter for the keys of a run of about `expected_rows` rows, `bits_per_row` a row at a whole
    power of two of bits between the bounds. 16 bits a row (a million rows: 2 MB; ten million: 16 MB) keep
    its false "seen" (each a look-up in the database) under one key in sixteen by the file's end."""
    wanted = max(1, expected_rows * bits_per_row)
    return bytearray(min(MAX_FILTER_BITS, max(MIN_FILTER_BITS, 1 << (wanted - 1).bit_length())) // 8)


def mark_in(bits: bytearray, key: int) -> None:
    bit = key & (len(bits) * 8 - 1)
    bits[bit >> 3] |= 1 << (bit & 7)


def maybe_in(bits: bytearray, key: int, shift: int = 0) -> bool:
    bit = (key >> shift) & (len(bits) * 8 - 1)
    return bool(bits[bit >> 3] & (1 << (bit & 7)))


def preload() -> None:
    """Import numpy (about 0.1 s) before a run starts sending: imported at its first flush it would hold
    the event loop, and the pacing, meanwhile. Not at start-up: a console that sends nothing need not
    pay it."""
    import numpy  # noqa: F401


def mark_all(bits: bytearray, keys: Collection[int] | Keys, shift: int = 0) -> None:
    """Marks every key: ints, or a numpy array of them (a whole chunk's at once)."""
    import numpy as np

    at, flags = _bits_of(bits, keys if isinstance(keys, np.ndarray) else np.fromiter(keys, np.int64, len(keys)), shift)
    np.bitwise_or.at(np.frombuffer(bits, np.uint8), at, flags)


def maybe_each(bits: bytearray, keys: Keys) -> npt.NDArray[np.bool_]:
    """For each key of the array, whether its bit is set."""
    import numpy as np

    at, flags = _bits_of(bits, keys)
    return (np.frombuffer(bits, np.uint8)[at] & flags) != 0


def _bits_of(bits: bytearray, keys: Keys, shift: int = 0) -> tuple[Keys, npt.NDArray[np.uint8]]:
    """Each key's byte in the filter and its bit in that byte, as mark_in and maybe_in take them."""
    import numpy as np

    bit = (keys >> shift) & (len(bits) * 8 - 1)
    return bit >> 3, (1 << (bit & 7)).astype(np.uint8)
