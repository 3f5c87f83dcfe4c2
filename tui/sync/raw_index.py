"""Which raw digests are the ones a scope's diff state holds, and the identifier key each stands for:
the planner's test for an unchanged row before it is parsed (planner.py).

A look-up in SQLite costs about 5 us a row, more than the rest of an unchanged row together, so a send
reads the scope's diff state once, in raw digest order, into numpy arrays (24 bytes an entry: the
digest as two 64-bit halves and the key) and looks a chunk's digests up in a few vectorised steps.
A binary search would be twenty dependent reads a digest, each a cache miss once the arrays are
larger than the cache (420 us a chunk at a million entries, against 14 us warm). Instead the entries
are bucketed by their digests' top bits (digests are uniform: one or two entries a bucket, 4 bytes a
bucket), so a digest's place is its bucket's start plus a step or two, reads independent of each
other that the processor overlaps across the chunk. A scope past MEMORY_ENTRIES entries is looked
up in SQLite chunk by chunk instead, so memory stays bounded whatever the audience's size.

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

import sqlite3

import numpy as np
import numpy.typing as npt

from tui.sync.sql_rows import rows_in

Entries = npt.NDArray[np.int64]  # entry numbers (-1: none), keys or rows, one per asked item

MEMORY_ENTRIES = 2_500_000  # 88 MB of arrays at most (32 bytes an entry, 4 a bucket)
RAW_BYTES = 16
_BIG_ENDIAN_HALVES = np.dtype(">u8")  # integer order of the halves is the digests' byte order, SQLite's
# The digest space in sixteen slices by its first byte; the last bound is above every 16-byte digest.
_SLICE_BOUNDS = [bytes([first]) for first in range(0, 256, 16)] + [b"\xff" * (RAW_BYTES + 1)]


class RawIndex:
    def __init__(self, connection: sqlite3.Connection, scope: int, memory_entries: int = MEMORY_ENTRIES):
        self.connection = connection
        self.scope = scope
        self._high = np.zeros(0, np.uint64)
        self._low = np.zeros(0, np.uint64)
        self._keys: Entries = np.zeros(0, np.int64)
        self.used: Entries = np.zeros(0, np.int64)  # entry -> the first row of this run skipped by it, -1 for none yet
        self._by_key: tuple[Entries, Entries] | None = None  # the keys in order, and the entry of each
        self._starts = np.zeros(2, np.uint32)  # bucket b's entries are high[starts[b]:starts[b + 1]]
        self._shift = np.uint64(63)
        entries = connection.execute(
            "SELECT count(*) FROM diff_state WHERE scope = ? AND key IS NOT NULL", (scope,)).fetchone()[0]
        self.in_memory = entries <= memory_entries
        if self.in_memory and entries:
            self._load()

    def _load(self) -> None:
        # SQLite concatenates each slice's digests and keys itself: a row object apiece cost more than
        # the look-ups it serves. Slices bound the text held at once. Should SQLite not keep a slice in
        # order, look-ups would miss and those rows be built and compared by payload: slower, not wrong.
        highs, lows, keys = [], [], []
        for first, last in zip(_SLICE_BOUNDS, _SLICE_BOUNDS[1:]):
            raws, keys_text = self.connection.execute(
                "SELECT CAST(group_concat(raw, '') AS BLOB), group_concat(key, ',') FROM (SELECT raw, key "
                "FROM diff_state WHERE scope = ? AND key IS NOT NULL AND length(raw) = ? AND raw >= ? AND raw < ? "
                "ORDER BY raw)", (self.scope, RAW_BYTES, first, last)).fetchone()
            if raws is None:
                continue
            halves = _halves(raws)
            highs.append(halves[:, 0])
            lows.append(halves[:, 1])
            keys.append(np.fromstring(keys_text, dtype=np.int64, sep=","))
        if highs:
            self._high, self._low, self._keys = np.concatenate(highs), np.concatenate(lows), np.concatenate(keys)
        size = self._high.size
        self._shift = np.uint64(64 - max(1, size.bit_length() - 1))
        counts = np.bincount((self._high >> self._shift).astype(np.intp), minlength=1 << (64 - int(self._shift)))
        self._starts = np.concatenate(([0], np.cumsum(counts))).astype(np.uint32)
        self.used = np.full(size, -1, np.int64)

    def keys(self, raws: list[bytes]) -> list[int | None]:
        """The identifier key each raw digest stands for in the diff state, None where it is not there."""
        if not self.in_memory:
            return self._looked_up(raws)
        return self.keys_at(self.places(raws))

    def keys_at(self, places: Entries) -> list[int | None]:
        """The identifier key of each entry (`places`), None for -1."""
        if not self._keys.size:
            return [None] * places.size
        keys: list[int | None] = self._keys[places].tolist()
        if places.size and places.min() < 0:
            return [key if place >= 0 else None for key, place in zip(keys, places.tolist())]
        return keys

    def key_array(self, places: Entries) -> Entries:
        """The identifier key of each entry (`places`, none of them -1)."""
        return self._keys[places]

    def places(self, raws: list[bytes]) -> Entries:
        """Held in memory: each raw digest's entry, -1 where the diff state does not hold it."""
        high, low = self._high, self._low
        places = np.full(len(raws), -1, np.int64)
        if not high.size or not raws:
            return places
        halves = _halves(b"".join(raws))
        firsts, seconds = halves[:, 0], halves[:, 1]
        buckets = (firsts >> self._shift).astype(np.intp)
        at, ends = self._starts[buckets].astype(np.int64), self._starts[buckets + 1].astype(np.int64)
        asked = np.arange(len(raws))  # the digests not placed yet whose bucket has entries left to try
        while True:
            inside = at[asked] < ends[asked]
            asked = asked[inside]
            if not asked.size:
                return places
            tried = at[asked]
            hit = (high[tried] == firsts[asked]) & (low[tried] == seconds[asked])
            places[asked[hit]] = tried[hit]
            asked = asked[~hit]
            at[asked] += 1

    def places_of_keys(self, keys: list[int]) -> Entries:
        """Held in memory: each identifier key's entry, -1 where the diff state holds none. The first call
        sorts the entries by key (16 bytes an entry): only a built row that may share its identifier
        with a row skipped unkeyed asks."""
        if self._by_key is None:
            order = np.argsort(self._keys, kind="stable")
            self._by_key = (self._keys[order], order)
        in_order, order = self._by_key
        if not in_order.size:
            return np.full(len(keys), -1, np.int64)
        asked = np.array(keys, np.int64)
        at = np.minimum(np.searchsorted(in_order, asked), in_order.size - 1)
        return np.where(in_order[at] == asked, order[at], -1)

    def _looked_up(self, raws: list[bytes]) -> list[int | None]:
        found = dict(rows_in(self.connection, "SELECT raw, key FROM diff_state WHERE scope = ? AND key IS NOT NULL "
                             "AND raw IN ({marks})", (self.scope,), raws))
        return [found.get(raw) for raw in raws]


def _halves(digests: bytes) -> npt.NDArray[np.uint64]:
    """Concatenated 16-byte digests as rows of two unsigned 64-bit integers (first half, second half)."""
    return np.frombuffer(digests, _BIG_ENDIAN_HALVES).astype(np.uint64).reshape(-1, 2)
