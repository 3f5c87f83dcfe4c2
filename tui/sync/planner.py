"""Decides what happens to each source row before anything is sent: which rows this run covers
(all, a sample, the rows a retry re-sends, what a resume has left), validation, in-run duplicates
and the diff against what Attentive last accepted, or holds in a bulk job still processing (those
are `skipped_pending`: never posted twice on our own; if the job fails or rejects them, they are
eligible again). Terminal decisions are recorded here; the rows left to send come back as profiles,
recorded as pending.

Unchanged rows are known before normalisation: a row whose raw digest (ProfileBuilder.raw_digest:
its mapped values, keyed by the definition and the normalisers' versions) is the one the diff state
holds for an identifier builds that identifier's confirmed payload, so it is skipped unbuilt. Any
other row is built and compared by payload as before; one found unchanged that way records its raw
digest, so the next send skips it unbuilt too. A new definition keys every raw digest anew."""
from __future__ import annotations

from collections.abc import Collection

from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.history_schema import INVALID, NOT_SENT, PENDING, SKIPPED, SKIPPED_PENDING
from tui.sync.history_writer import RunRecorder
from tui.sync.job_store import JobStore
from tui.sync.profiles import Invalid, Profile, ProfileBuilder, identifier_key
from tui.sync.sources import SourceRow

FILTER_BITS = 1 << 24


def sample_ordinals(rows_estimate: int, size: int) -> frozenset[int]:
    """Record indexes of a sample spread evenly over the file (so it is representative of the
    whole audience, not of its first lines)."""
    if rows_estimate <= size:
        return frozenset(range(rows_estimate))
    return frozenset(i * rows_estimate // size for i in range(size))


def still_to_do(store: HistoryStore, recorder: RunRecorder, chunk: list[SourceRow]) -> list[SourceRow]:
    """A resumed run's rows of the chunk that have no outcome yet. Pending rows were handed to the
    sender when the run stopped: they go again (and were counted read already)."""
    if not chunk:
        return chunk
    done = store.outcomes_between(recorder.run_id, chunk[0].row, chunk[-1].row)
    if done:
        chunk = [row for row in chunk if done.get(row.row, PENDING) == PENDING]
        recorder.counts.rows_read -= sum(1 for row in chunk if row.row in done)
    return chunk


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
    ):
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
        self._file_keys = bytearray(FILTER_BITS // 8) if only_ordinals is not None else bytearray()
        # Keys this run has planned, as a 16-million-bit filter (2 MB): a key whose bit is clear is
        # certainly new, so only the few others are looked up in the database.
        self._seen = bytearray(FILTER_BITS // 8)
        if resuming:
            for key in store.planned_keys(recorder.run_id):
                self._mark(key)
        # With no diff state and nothing in flight for the destination (its first send) there is
        # nothing to compare. This run's own submissions never match: its identifiers are deduped.
        self._jobs = JobStore(store.connection)
        self._in_flight = not full and self._jobs.has_in_flight(recorder.scope)
        self._diffing = not full and (self._in_flight or store.has_diff_state(recorder.scope))

    def plan(self, chunk: list[SourceRow]) -> list[Profile]:
        chunk = self._covered(chunk)
        if not chunk:
            return []
        recorder = self.recorder
        counts = recorder.counts
        builder = self.builder
        raws = [builder.raw_digest(source) for source in chunk]
        known = self.store.unchanged_raws(recorder.scope, raws) if self._diffing else {}
        profiles: list[Profile] = []
        unbuilt: set[int] = set()  # rows known unchanged by their raw digest: not normalised at all
        for source, raw in zip(chunk, raws):
            counts.rows_read += 1
            identifier = known.get(raw)
            if identifier is not None and source.problem is None:
                profiles.append(Profile(source.row, identifier, {}, b"", identifier_key(identifier), raw=raw))
                unbuilt.add(source.row)
                continue
            built = builder.build(source)
            if isinstance(built, Invalid):
                recorder.reject(built.row, INVALID, built.reason, identifier=built.identifier, message=built.message)
            else:
                built.raw = raw
                profiles.append(built)
        profiles = self._first_of_each_identifier(profiles)  # in file order, unbuilt rows among them
        if unbuilt:
            for profile in profiles:
                if profile.row in unbuilt:
                    recorder.plan(profile.row, profile.key, SKIPPED)
            profiles = [profile for profile in profiles if profile.row not in unbuilt]
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

    def _covered(self, chunk: list[SourceRow]) -> list[SourceRow]:
        """The rows of the chunk this run handles now."""
        if self.only_ordinals is not None:
            chunk = self._sampled(chunk)
        if self.only_rows is not None:
            chunk = [row for row in chunk if row.row in self.only_rows]
        if self.resuming:
            chunk = still_to_do(self.store, self.recorder, chunk)
        return chunk

    def _sampled(self, chunk: list[SourceRow]) -> list[SourceRow]:
        """The sample's rows: one per sampled ordinal, except that a row whose identifier occurs
        earlier in the file would lose to that row in a full send, so the next row that would
        not stands in for it. A test send must send what the full send will. Every row's
        identifier is normalised for that (its attributes are not)."""
        assert self.only_ordinals is not None
        chosen = []
        for ordinal, source in enumerate(chunk, self._ordinal):
            if ordinal in self.only_ordinals:
                self._sample_owed += 1
            key = self.builder.key_of(source)
            # The filter's rare false "seen" only moves a sample row on; it never sends a loser.
            earlier = key is not None and maybe_in(self._file_keys, key)
            if self._sample_owed and not earlier:
                chosen.append(source)
                self._sample_owed -= 1
            if key is not None:
                mark_in(self._file_keys, key)
        self._ordinal += len(chunk)
        return chosen

    def _mark(self, key: int) -> None:
        mark_in(self._seen, key)

    def _maybe_seen(self, key: int) -> bool:
        return maybe_in(self._seen, key)

    def _first_of_each_identifier(self, profiles: list[Profile]) -> list[Profile]:
        if not profiles:
            return profiles
        first_rows = self.recorder.first_rows([p.key for p in profiles if self._maybe_seen(p.key)])
        unique = []
        for profile in profiles:
            first = first_rows.setdefault(profile.key, profile.row)
            if first == profile.row:
                self._mark(profile.key)
                unique.append(profile)
            else:
                self.recorder.reject(
                    profile.row, INVALID, reasons.DUPLICATE_IDENTIFIER, identifier=profile.identifier,
                    message=f"the same {self.builder.kind} as row {first}, which is the one sent",
                )
        return unique


def mark_in(bits: bytearray, key: int) -> None:
    bit = key & (FILTER_BITS - 1)
    bits[bit >> 3] |= 1 << (bit & 7)


def maybe_in(bits: bytearray, key: int) -> bool:
    bit = key & (FILTER_BITS - 1)
    return bool(bits[bit >> 3] & (1 << (bit & 7)))
