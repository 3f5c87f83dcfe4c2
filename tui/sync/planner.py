"""Decides what happens to each source row before anything is sent: which rows this run covers
(all, a sample, the rows a retry re-sends, what a resume has left), validation, in-run duplicates
and the diff against what Attentive last accepted, or holds in a bulk job still processing (those
are `skipped_pending`: never posted twice on our own; if the job fails or rejects them, they are
eligible again). Terminal decisions are recorded here; the rows left to send come back as profiles,
recorded as pending.

Unchanged rows are known before they are parsed: a row whose raw digest (ProfileBuilder.raw_digests:
the hash of its record's bytes, or of a Parquet row's mapped values, keyed by the definition, the
normalisers' versions and the file's header) is the one the diff state holds for an identifier
builds that identifier's confirmed payload, so it is skipped unbuilt (raw_index.py finds it). Any
other row is built and compared by payload as before; one found unchanged that way records its raw
digest and identifier key, so the next send skips it unbuilt too. A new definition keys every raw
digest anew.

With the diff state held in memory, a row skipped unbuilt is recorded without its identifier key: an
entry in the random index on keys cost more than the rest of the row. Its in-run duplicates are found
through the index entry it was skipped by instead (RawIndex.used); a resumed run, which does not read
those rows again, gives them their keys back (normalising the identifier only) before any later row
is planned."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.history_schema import INVALID, NOT_SENT, PENDING, SKIPPED, SKIPPED_PENDING
from tui.sync.history_writer import RunRecorder
from tui.sync.job_store import JobStore
from tui.sync.key_filter import key_filter, mark_all, mark_in, maybe_each, maybe_in
from tui.sync.profiles import Invalid, Profile, ProfileBuilder
from tui.sync.source_files import CHUNK_ROWS
from tui.sync.sources import SourceChunk

if TYPE_CHECKING:  # raw_index and numpy are imported by a send that diffs, not at every start-up (0.1 s)
    from tui.sync.raw_index import Entries, RawIndex

# Where the file runs (nearly) unchanged, chunks double up to this: the rows skipped unbuilt cost a few
# vectorised steps a chunk whatever its size, so larger chunks cost less a row. A chunk that built more
# than one row in sixteen (its first such chunk is planned whole, the event loop held meanwhile) brings
# them back to CHUNK_ROWS.
UNCHANGED_CHUNK_ROWS = 4096


def sample_ordinals(rows_estimate: int, size: int) -> frozenset[int]:
    """Record indexes of a sample spread evenly over the file (so it is representative of the
    whole audience, not of its first lines)."""
    if rows_estimate <= size:
        return frozenset(range(rows_estimate))
    return frozenset(i * rows_estimate // size for i in range(size))


def still_to_do(store: HistoryStore, recorder: RunRecorder, numbers: Sequence[int]) -> list[int]:
    """A resumed run's rows of the chunk (their numbers, ascending) that have no outcome yet, as indexes.
    Pending rows were handed to the sender when the run stopped: they go again (and were counted read
    already)."""
    if not numbers:
        return []
    done = store.outcomes_between(recorder.run_id, numbers[0], numbers[-1])
    kept = [index for index, row in enumerate(numbers) if done.get(row, PENDING) == PENDING]
    recorder.counts.rows_read -= sum(1 for index in kept if numbers[index] in done)
    return kept


class Planner:
    def __init__(
        self,
        builder: ProfileBuilder,
        recorder: RunRecorder,
        store: HistoryStore,
        *,
        full: bool,
        dry_run: bool,
        resuming: bool,
        only_rows: Collection[int] | None = None,
        only_ordinals: Collection[int] | None = None,
        expected_rows: int = 0,
    ):
        self.chunk_rows = CHUNK_ROWS
        self.builder = builder
        self.recorder = recorder
        self.store = store
        self.full = full
        self.dry_run = dry_run
        self.resuming = resuming
        self.only_rows = only_rows
        self.only_ordinals = only_ordinals
        self._ordinal = 0
        self._sample_owed = 0
        self._file_keys = key_filter(expected_rows) if only_ordinals is not None else bytearray()
        # Keys this run has planned, as a filter of bits: a key whose bit is clear is certainly new, so
        # only the few others are looked up in the database.
        self._seen = key_filter(expected_rows)
        if resuming:
            for key in store.planned_keys(recorder.run_id):
                self._mark(key)
        # With no diff state and nothing in flight for the destination (its first send) there is
        # nothing to compare. This run's own submissions never match: its identifiers are deduped.
        self._jobs = JobStore(store.connection)
        self._in_flight = not full and self._jobs.has_in_flight(recorder.scope)
        self._diffing = not full and (self._in_flight or store.has_diff_state(recorder.scope))
        # The diff state is held in memory for a run over the whole file only: a sample or a retry plans
        # a few rows and would read it all for them. With jobs of an earlier send in flight a follower
        # may change it meanwhile: it is then read chunk by chunk too (raw_index.py).
        whole_file = only_rows is None and only_ordinals is None and not self._in_flight
        self._raws: RawIndex | None = None
        if self._diffing:
            from tui.sync.raw_index import MEMORY_ENTRIES, RawIndex
            self._raws = RawIndex(store.connection, recorder.scope, MEMORY_ENTRIES if whole_file else 0)
        self._held = self._raws if self._raws is not None and self._raws.in_memory else None
        self._unkeyed_rows = 0  # rows this process recorded skipped without a key

    def plan(self, chunk: SourceChunk) -> list[Profile]:
        picked = self._covered(chunk)
        if not picked:
            return []
        recorder = self.recorder
        raws = self.builder.raw_digests(chunk, picked)
        recorder.counts.rows_read += len(picked)
        held = self._held
        if held is not None:
            planned = self._planned_by_index(held, chunk, picked, raws)
        else:
            known: list[int | None] = self._raws.keys(raws) if self._raws is not None else [None] * len(raws)
            planned = self._planned(chunk, picked, raws, known, [-1] * len(raws))
        profiles = self._first_of_each_identifier(chunk, planned)
        if self._diffing and profiles:
            accepted = self.store.accepted_digests(self.recorder.scope, [p.identifier for p in profiles])
            fresh = []
            for profile in profiles:
                if accepted.get(profile.identifier) == profile.digest:
                    recorder.unchanged(profile.row, profile.key, profile.identifier, profile.digest, profile.raw)
                else:
                    fresh.append(profile)
            profiles = self._not_in_flight(fresh) if self._in_flight and fresh else fresh
        if self.dry_run:
            for profile in profiles:
                recorder.plan(profile.row, profile.key, NOT_SENT)
            return []
        for profile in profiles:
            recorder.plan(profile.row, profile.key, PENDING)
        return profiles

    def _planned(self, chunk: SourceChunk, picked: list[int], raws: list[bytes], known: list[int | None],
                 places: list[int]) -> list[tuple[int, Profile | int, int]]:
        """(identifier key, the built profile or, for a row unchanged by its raw digest (`known`: its
        key), its index: not parsed, not normalised, and its entry in the index held in memory or -1),
        in file order. Invalid rows are rejected."""
        parsed, builder, recorder = chunk.parsed, self.builder, self.recorder
        planned: list[tuple[int, Profile | int, int]] = []
        for index, raw, key, place in zip(picked, raws, known, places):
            source = parsed[index]
            if key is not None and (source is None or source.problem is None):
                planned.append((key, index, place))
                continue
            built = builder.build(chunk.row(index))
            if isinstance(built, Invalid):
                recorder.reject(built.row, INVALID, built.reason, identifier=built.identifier, message=built.message)
            else:
                built.raw = raw
                planned.append((built.key, built, -1))
        return planned

    def _planned_by_index(self, held: RawIndex, chunk: SourceChunk, picked: list[int], raws: list[bytes],
                          ) -> list[tuple[int, Profile | int, int]]:
        """As _planned, with the index in memory: the rows unchanged by their raw digests are skipped
        together when they can be (_skip_unbuilt) and only the others built and planned; otherwise every
        row is planned one by one. The chunk size follows (UNCHANGED_CHUNK_ROWS)."""
        import numpy as np

        found = held.places(raws)
        parsed = chunk.parsed
        unbuilt = found >= 0
        if parsed.count(None) != len(parsed):  # rows the csv module read, or Parquet's: a problem is built
            unbuilt &= np.array([row is None or row.problem is None for row in map(parsed.__getitem__, picked)])
        items = np.flatnonzero(unbuilt)
        others = np.flatnonzero(~unbuilt).tolist()
        built = self._planned(chunk, [picked[item] for item in others], [raws[item] for item in others],
                              [None] * len(others), [-1] * len(others))
        skipped, places = [picked[item] for item in items.tolist()], found[items]
        if self._skip_unbuilt(chunk, skipped, held, places, {key for key, _, _ in built}):
            few = len(others) * 16 <= len(picked)  # a 4,096-row chunk builds no more than a 256-row one can
            self.chunk_rows = min(2 * self.chunk_rows, UNCHANGED_CHUNK_ROWS) if few else CHUNK_ROWS
            return built
        self.chunk_rows = CHUNK_ROWS
        numbers = chunk.numbers
        unbuilt_rows = list(zip(held.key_array(places).tolist(), skipped, places.tolist()))
        return sorted(unbuilt_rows + built, key=lambda entry: numbers[entry[1]] if isinstance(entry[1], int) else entry[1].row)

    def _skip_unbuilt(self, chunk: SourceChunk, indexes: list[int], held: RawIndex, places: Entries,
                      built_keys: set[int]) -> bool:
        """The chunk's rows at `indexes`, unchanged by their raw digests (`places`: their entries), when
        none of their keys was planned before in the run, occurs twice among them or is a key of the rows
        built from the chunk (a nightly re-send's common case): skipped unkeyed at once, as the rows one
        by one would be. False, with nothing done, otherwise."""
        import numpy as np

        if not indexes:
            return True
        keys = held.key_array(places)
        if np.unique(keys).size != keys.size or (built_keys and not built_keys.isdisjoint(keys.tolist())):
            return False
        # A suspect's earlier row was skipped by the same entry (used) or is keyed (first_rows).
        suspects = np.flatnonzero(maybe_each(self._seen, keys))
        if suspects.size and (held.used[places[suspects]].max() >= 0
                              or self.recorder.first_rows(keys[suspects].tolist())):
            return False
        numbers = chunk.numbers
        rows = numbers if len(indexes) == len(numbers) else [numbers[index] for index in indexes]
        mark_all(self._seen, keys)
        held.used[places] = rows
        self.recorder.skip_unkeyed(rows)
        self._unkeyed_rows += len(rows)
        return True

    def finish(self) -> list[Profile]:
        """Nothing is held for the file's end (a protocol shared with EventPlanner)."""
        return []

    def _not_in_flight(self, profiles: list[Profile]) -> list[Profile]:
        flying = self._jobs.in_flight_digests(self.recorder.scope, [p.identifier for p in profiles])
        fresh = []
        for profile in profiles:
            if profile.digest in flying.get(profile.identifier, ()):
                self.recorder.plan(profile.row, profile.key, SKIPPED_PENDING)
            else:
                fresh.append(profile)
        return fresh

    def _covered(self, chunk: SourceChunk) -> list[int]:
        """The indexes of the chunk's rows this run handles now."""
        picked = self._sampled(chunk) if self.only_ordinals is not None else list(range(len(chunk)))
        numbers = chunk.numbers
        if self.only_rows is not None:
            picked = [index for index in picked if numbers[index] in self.only_rows]
        if self.resuming and picked:
            kept = still_to_do(self.store, self.recorder, [numbers[index] for index in picked])
            self._key_unkeyed(chunk, picked)
            picked = [picked[index] for index in kept]
        return picked

    def _key_unkeyed(self, chunk: SourceChunk, picked: list[int]) -> None:
        """Give the rows of the chunk recorded skipped without a key (before the run stopped) their keys
        back, in the database and in this run's filter, so a later row of their identifier is known as a
        duplicate: the row that found it so (RawIndex.used) was in the process that stopped."""
        numbers = chunk.numbers
        unkeyed = self.store.unkeyed_skips_between(self.recorder.run_id, numbers[picked[0]], numbers[picked[-1]])
        for index in picked:
            if numbers[index] in unkeyed:
                key = self.builder.key_of(chunk.row(index))
                if key is not None:  # it was skipped by its key: it has one
                    self.recorder.key_row(numbers[index], key)
                    self._mark(key)

    def _sampled(self, chunk: SourceChunk) -> list[int]:
        """The sample's rows: one per sampled ordinal, except that a row whose identifier occurs
        earlier in the file would lose to that row in a full send, so the next row that would
        not stands in for it. A test send must send what the full send will. Every row's
        identifier is normalised for that (its attributes are not)."""
        assert self.only_ordinals is not None
        chosen = []
        for index, ordinal in enumerate(range(self._ordinal, self._ordinal + len(chunk))):
            if ordinal in self.only_ordinals:
                self._sample_owed += 1
            key = self.builder.key_of(chunk.row(index))
            # The filter's rare false "seen" only moves a sample row on; it never sends a loser.
            earlier = key is not None and maybe_in(self._file_keys, key)
            if self._sample_owed and not earlier:
                chosen.append(index)
                self._sample_owed -= 1
            if key is not None:
                mark_in(self._file_keys, key)
        self._ordinal += len(chunk)
        return chosen

    def _mark(self, key: int) -> None:
        mark_in(self._seen, key)

    def _first_of_each_identifier(self, chunk: SourceChunk, planned: list[tuple[int, Profile | int, int]],
                                  ) -> list[Profile]:
        """The built profiles that are the first of their identifier in the file; the unbuilt rows that
        are are recorded skipped, and every later row of an identifier rejected as its duplicate."""
        if not planned:
            return []
        recorder, seen, numbers, held = self.recorder, self._seen, chunk.numbers, self._held
        mask = len(seen) * 8 - 1
        bits = [entry[0] & mask for entry in planned]  # each key's bit: mark_in and maybe_in, inlined
        suspected = [entry for entry, bit in zip(planned, bits) if seen[bit >> 3] & (1 << (bit & 7))]
        first_rows = recorder.first_rows([key for key, _, _ in suspected]) if suspected else {}
        if held is not None and suspected:
            self._add_unkeyed_firsts(held, suspected, first_rows)
        used = held.used if held is not None else None  # places (>= 0) are only found in memory
        unique: list[Profile] = []
        skipped: list[tuple[int, int]] = []
        unkeyed: list[int] = []
        for (key, item, place), bit in zip(planned, bits):
            row = item.row if isinstance(item, Profile) else numbers[item]
            first = first_rows.setdefault(key, row)
            if first == row:
                seen[bit >> 3] |= 1 << (bit & 7)
                if isinstance(item, Profile):
                    unique.append(item)
                elif place >= 0 and used is not None:
                    used[place] = row
                    unkeyed.append(row)
                else:
                    skipped.append((row, key))
                continue
            identifier = item.identifier if isinstance(item, Profile) else self.builder.build(chunk.row(item)).identifier
            recorder.reject(row, INVALID, reasons.DUPLICATE_IDENTIFIER, identifier=identifier,
                            message=f"the same {self.builder.kind} as row {first}, which is the one sent")
        recorder.plan_all(skipped, SKIPPED)
        recorder.skip_unkeyed(unkeyed)
        self._unkeyed_rows += len(unkeyed)
        return unique

    def _add_unkeyed_firsts(self, held: RawIndex, suspected: list[tuple[int, Profile | int, int]],
                            first_rows: dict[int, int]) -> None:
        """Into first_rows (key -> first row), the rows skipped unkeyed by earlier chunks that some of
        `suspected` share an identifier key with: an unbuilt row's entry is its own, a built row's the
        entry of its key (case-variants of an identifier share a key, not a diff state row)."""
        entries = {key: place for key, _, place in suspected if place >= 0}
        built = [key for key, item, _ in suspected if isinstance(item, Profile)]
        if built and self._unkeyed_rows:
            entries.update((key, place) for key, place in zip(built, held.places_of_keys(built).tolist()) if place >= 0)
        used = held.used
        for key, place in entries.items():
            row = int(used[place])
            if row >= 0 and row < first_rows.get(key, row + 1):
                first_rows[key] = row
