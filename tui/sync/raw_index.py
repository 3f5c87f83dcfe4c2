"""Which raw digests are the ones a scope's diff state holds, and the identifier key each stands for:
the planner's test for an unchanged row before it is parsed (planner.py).

A look-up in SQLite costs about 5 us a row, more than the rest of an unchanged row together, so a send
reads the scope's diff state once, in raw digest order, into three arrays (24 bytes an entry: the
digest as two 64-bit halves and the key) and bisects them, within the bucket of the digest's top bits
(a fourth array of about 2 bytes an entry, so a bisection takes one or two steps, not twenty). A scope
past MEMORY_ENTRIES entries is looked up in SQLite chunk by chunk instead, so memory stays bounded
whatever the audience's size.

The arrays are the diff state as the send started. Only one send runs per destination at a time
(lock.py), so what can change it meanwhile is a job follower folding results: of this send's own jobs,
whose identifiers this send has planned already, or of an earlier send's jobs still in flight. With
any in flight the planner asks for no arrays (memory_entries=0) and every chunk is looked up as it
comes, against the diff state of that moment; so it does for a sample or a retry, whose few rows
would not repay reading the whole state.

Held in memory, the index also keeps, for each entry, the first row of this run that was skipped by it
(`used`, 8 bytes more an entry): the planner's record of those rows then needs no identifier key, and
the random index on keys no entry for them (planner.py).
"""
from __future__ import annotations

import operator
import sqlite3
import sys
from array import array
from bisect import bisect_left
from collections import Counter
from itertools import accumulate, repeat

from tui.sync.sql_rows import rows_in

MEMORY_ENTRIES = 2_500_000  # 80 MB of arrays at most
RAW_BYTES = 16
_FETCH = 65_536
# The digest space in sixteen slices by its first byte; the last bound is above every 16-byte digest.
_SLICE_BOUNDS = [bytes([first]) for first in range(0, 256, 16)] + [b"\xff" * (RAW_BYTES + 1)]


class RawIndex:
    def __init__(self, connection: sqlite3.Connection, scope: int, memory_entries: int = MEMORY_ENTRIES):
        self.connection = connection
        self.scope = scope
        self._high = array("Q")
        self._low = array("Q")
        self._keys = array("q")
        self._starts = array("Q", [0, 0])  # bucket b's entries are high[starts[b]:starts[b + 1]]
        self.used = array("q")  # entry -> the first row of this run skipped by it, -1 for none yet
        self._by_key: tuple[array, array] | None = None  # the keys in order, and the entry of each
        self._shift = 63
        entries = connection.execute(
            "SELECT count(*) FROM diff_state WHERE scope = ? AND key IS NOT NULL", (scope,)).fetchone()[0]
        self.in_memory = entries <= memory_entries
        if self.in_memory and entries:
            self._load()

    def _load(self) -> None:
        # SQLite concatenates each slice's digests and keys itself: a row object apiece cost more than
        # the look-ups it serves. Slices bound the text held at once. Should SQLite not keep a slice in
        # order, look-ups would miss and those rows be built and compared by payload: slower, not wrong.
        for first, last in zip(_SLICE_BOUNDS, _SLICE_BOUNDS[1:]):
            raws, keys = self.connection.execute(
                "SELECT CAST(group_concat(raw, '') AS BLOB), group_concat(printf('%016x', key), '') FROM (SELECT raw, "
                "key FROM diff_state WHERE scope = ? AND key IS NOT NULL AND length(raw) = ? AND raw >= ? AND raw < ? "
                "ORDER BY raw)", (self.scope, RAW_BYTES, first, last)).fetchone()
            if raws is None:
                continue
            halves = _big_endian(array("Q"), raws)
            self._high.extend(halves[0::2])
            self._low.extend(halves[1::2])
            self._keys.extend(_big_endian(array("q"), bytes.fromhex(keys)))
        self._shift = 64 - max(1, len(self._high).bit_length() - 1)
        counts = array("Q", bytes(8 << (64 - self._shift)))
        for start in range(0, len(self._high), _FETCH):
            for bucket, count in Counter(map(operator.rshift, self._high[start:start + _FETCH],
                                             repeat(self._shift))).items():
                counts[bucket] += count
        self._starts = array("Q", accumulate(counts, initial=0))
        self.used = array("q", [-1]) * len(self._high)

    def keys(self, raws: list[bytes]) -> list[int | None]:
        """The identifier key each raw digest stands for in the diff state, None where it is not there."""
        if not self.in_memory:
            return self._looked_up(raws)
        return self.keys_at(self.places(raws))

    def keys_at(self, places: list[int]) -> list[int | None]:
        """The identifier key of each entry (`places`), None for -1."""
        keys = self._keys
        if -1 not in places:
            return list(map(keys.__getitem__, places))
        return [keys[place] if place >= 0 else None for place in places]

    def places(self, raws: list[bytes]) -> list[int]:
        """Held in memory: each raw digest's entry, -1 where the diff state does not hold it."""
        high, low, starts = self._high, self._low, self._starts
        size = len(high)
        if not size:
            return [-1] * len(raws)
        halves = _halves(raws)
        firsts, seconds = halves[0::2], halves[1::2]
        buckets = list(map(operator.rshift, firsts, repeat(self._shift)))
        at = map(bisect_left, repeat(high), firsts, map(starts.__getitem__, buckets),
                 map(starts.__getitem__, map(operator.add, buckets, repeat(1))))
        return [place if place < size and high[place] == first and low[place] == second
                else self._beside(place, first, second) for place, first, second in zip(at, firsts, seconds)]

    def places_of_keys(self, keys: list[int]) -> list[int]:
        """Held in memory: each identifier key's entry, -1 where the diff state holds none. The first call
        sorts the entries by key (about a second a million; 16 bytes an entry): only a built row that may
        share its identifier with a row skipped unkeyed asks."""
        if self._by_key is None:
            order = array("q", sorted(range(len(self._keys)), key=self._keys.__getitem__))
            self._by_key = (array("q", map(self._keys.__getitem__, order)), order)
        in_order, order = self._by_key
        size = len(in_order)
        found = []
        for key in keys:
            at = bisect_left(in_order, key)
            found.append(order[at] if at < size and in_order[at] == key else -1)
        return found

    def _beside(self, place: int, first: int, second: int) -> int:
        """The entry of the digest (first, second) among the entries from `place` on that share its first
        half (more than one: a 2**-64 event), -1 when it is not there."""
        high, low = self._high, self._low
        while place < len(high) and high[place] == first:
            if low[place] == second:
                return place
            place += 1
        return -1

    def _looked_up(self, raws: list[bytes]) -> list[int | None]:
        found = dict(rows_in(self.connection, "SELECT raw, key FROM diff_state WHERE scope = ? AND key IS NOT NULL "
                             "AND raw IN ({marks})", (self.scope,), raws))
        return [found.get(raw) for raw in raws]


def _halves(raws: list[bytes]) -> array:
    """Each 16-byte digest as two unsigned 64-bit integers (first half, second half), so that integer
    order is the digests' byte order, the order SQLite sorts blobs in."""
    return _big_endian(array("Q"), b"".join(raws))


def _big_endian(numbers: array, data: bytes) -> array:
    numbers.frombytes(data)
    if sys.byteorder == "little":
        numbers.byteswap()
    return numbers
