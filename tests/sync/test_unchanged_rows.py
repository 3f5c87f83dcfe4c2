"""Unchanged rows are known before normalisation (issue 15): after a confirmed send, a row whose
mapped values, definition and normalisers are the same is skipped without being built; a row whose
values changed but whose payload did not is built, skipped, and known unbuilt the next time; a new
definition builds every row again; in-run duplicates stay exact. Against the simulator, counting the
rows ProfileBuilder builds."""
from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from sync_kit import loyalty, send, valid_row, write_csv, write_jsonl

from tui.settings.paths import history_path
from tui.sync import planner, reasons
from tui.sync.history import HistoryStore
from tui.sync.profiles import ProfileBuilder
from tui.sync.rejections import RejectionFilter, RejectionLog
from tui.sync.source_files import CHUNK_ROWS

ROWS = 12


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """The rows ProfileBuilder built (normalised and validated), across every send of the test."""
    rows: list[int] = []
    original = ProfileBuilder._build

    def counting(self, source):
        rows.append(source.row)
        return original(self, source)

    monkeypatch.setattr(ProfileBuilder, "_build", counting)
    return rows


def people(tmp_path, rows: list[dict], name: str = "a.csv"):
    return write_csv(tmp_path / name, rows)


@pytest.mark.parametrize("endpoint", ["bulk", "custom-attributes"])
async def test_a_confirmed_row_is_skipped_unbuilt_and_a_changed_one_is_sent(simulator, tmp_path, built, endpoint):
    destination, data = loyalty(endpoint), tmp_path / "data"
    rows = [valid_row(i) for i in range(ROWS)]
    first = await send(simulator, data, destination, people(tmp_path, rows))
    assert first.run.accepted == ROWS and len(built) == ROWS
    built.clear()
    again = await send(simulator, data, destination, people(tmp_path, rows))
    assert (again.run.skipped_unchanged, again.run.accepted, built) == (ROWS, 0, [])

    rows[4] = {**rows[4], "points": "777"}                      # a new payload: built and sent
    rows[7] = {**rows[7], "email": rows[7]["email"].replace("example.com", "EXAMPLE.com")}  # the same payload
    changed = await send(simulator, data, destination, people(tmp_path, rows))
    assert (changed.run.accepted, changed.run.skipped_unchanged) == (1, ROWS - 1)
    assert sorted(built) == [6, 9]                              # file rows 6 and 9 hold rows[4] and rows[7]
    built.clear()
    third = await send(simulator, data, destination, people(tmp_path, rows))
    assert (third.run.skipped_unchanged, built) == (ROWS, [])   # the re-cased row's raw digest was recorded


async def test_a_new_definition_builds_every_row_again(simulator, tmp_path, built):
    destination, data = loyalty(), tmp_path / "data"
    source = people(tmp_path, [valid_row(i) for i in range(ROWS)])
    await send(simulator, data, destination, source)
    built.clear()
    regional = dataclasses.replace(destination, phone_region="GB")  # same payloads for these E.164 phones
    moved = await send(simulator, data, regional, source)
    assert (moved.run.skipped_unchanged, len(built)) == (ROWS, ROWS)
    built.clear()
    typed = dataclasses.replace(regional, types={"Points": "number"})  # new payloads: every row sent
    retyped = await send(simulator, data, typed, source)
    assert (retyped.run.accepted, len(built)) == (ROWS, ROWS)


async def test_a_duplicate_of_an_unbuilt_row_is_still_a_duplicate(simulator, tmp_path, built):
    destination, data = loyalty(), tmp_path / "data"
    rows = [valid_row(i) for i in range(ROWS)]
    await send(simulator, data, destination, people(tmp_path, rows))
    twice = [*rows, rows[2], {**rows[3], "points": "5"}]
    sent = await send(simulator, data, destination, people(tmp_path, twice, "b.csv"))
    assert (sent.run.skipped_unchanged, sent.run.invalid, sent.run.accepted) == (ROWS, 2, 0)
    with HistoryStore(data, readonly=True) as store:
        duplicates = RejectionLog(store.connection, sent.run.id).rows(RejectionFilter(reason=reasons.DUPLICATE_IDENTIFIER))
    assert duplicates == {ROWS + 2, ROWS + 3}  # file rows: the header is row 1


async def test_duplicates_chunks_after_a_row_skipped_unbuilt_are_found_without_its_key(simulator, tmp_path, built):
    """A row skipped unbuilt is recorded without its identifier key; a later row of its identifier, chunks
    on, is still its duplicate: the same line (found by the index entry) or a changed one (built, found
    by its identifier's entry). Neither is sent."""
    many = 700  # past two chunks (source_files.CHUNK_ROWS)
    destination, data = loyalty(), tmp_path / "data"
    rows = [valid_row(i) for i in range(many)]
    await send(simulator, data, destination, people(tmp_path, rows))
    built.clear()
    later = [*rows, rows[1], {**rows[2], "points": "5"}, {**rows[3], "email": rows[3]["email"].upper()}]
    sent = await send(simulator, data, destination, people(tmp_path, later, "b.csv"))
    assert (sent.run.skipped_unchanged, sent.run.invalid, sent.run.accepted, sent.run.submitted) == (many, 3, 0, 0)
    with HistoryStore(data, readonly=True) as store:
        duplicates = RejectionLog(store.connection, sent.run.id).rows(RejectionFilter(reason=reasons.DUPLICATE_IDENTIFIER))
        keyed = store.connection.execute("SELECT count(key) FROM row_outcomes WHERE run_id = ?", (sent.run.id,)).fetchone()
    assert duplicates == {many + 2, many + 3, many + 4}
    assert keyed == (0,)  # every row was skipped unbuilt: no entry in the index on keys
    assert sorted(built) == [many + 2, many + 3, many + 4]  # only the duplicates, to name their identifier


async def test_a_history_without_raw_digests_builds_once_then_skips_unbuilt(simulator, tmp_path, built):
    destination, data = loyalty(), tmp_path / "data"
    source = people(tmp_path, [valid_row(i) for i in range(ROWS)])
    await send(simulator, data, destination, source)
    with sqlite3.connect(history_path(data)) as db:  # as a history written before schema 7 holds it
        db.execute("UPDATE diff_state SET raw = NULL")
    built.clear()
    upgraded = await send(simulator, data, destination, source)
    assert (upgraded.run.skipped_unchanged, len(built)) == (ROWS, ROWS)
    built.clear()
    after = await send(simulator, data, destination, source)
    assert (after.run.skipped_unchanged, built) == (ROWS, [])


@pytest.mark.parametrize("kind", ["quoted CSV", "JSON Lines"])
async def test_quoted_records_and_parsed_rows_are_skipped_unbuilt_too(simulator, tmp_path, built, kind):
    """A record the csv module reads (a field over two lines) is digested by its bytes as a plain one
    is; JSON Lines rows come parsed and are digested by their mapped values."""
    destination, data = loyalty(), tmp_path / "data"
    rows = [valid_row(i) for i in range(ROWS)]
    rows[3] = {**rows[3], "first_name": "Over\ntwo lines"}
    source = people(tmp_path, rows) if kind == "quoted CSV" else write_jsonl(tmp_path / "a.jsonl", rows)
    await send(simulator, data, destination, source)
    built.clear()
    again = await send(simulator, data, destination, source)
    assert (again.run.skipped_unchanged, built) == (ROWS, [])


async def test_a_version_7_history_gains_identifier_keys_then_skips_unbuilt(simulator, tmp_path, built):
    """Version 7 kept raw digests without identifier keys, under an index without them: the upgrade
    replaces the index, the first send builds every row once and records its key, the next skips."""
    destination, data = loyalty(), tmp_path / "data"
    source = people(tmp_path, [valid_row(i) for i in range(ROWS)])
    await send(simulator, data, destination, source)
    with sqlite3.connect(history_path(data)) as db:  # as version 7 left it
        db.executescript("DROP INDEX diff_state_by_raw_key; ALTER TABLE diff_state DROP COLUMN key; "
                         "CREATE INDEX diff_state_by_raw ON diff_state (scope, raw) WHERE raw IS NOT NULL; "
                         "PRAGMA user_version = 7;")
    built.clear()
    upgraded = await send(simulator, data, destination, source)
    assert (upgraded.run.skipped_unchanged, len(built)) == (ROWS, ROWS)
    with sqlite3.connect(history_path(data)) as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'diff_state' "
                                                   "AND type = 'index' AND name NOT LIKE 'sqlite_%'")}
        assert indexes == {"diff_state_by_raw_key"}
        assert db.execute("SELECT count(*) FROM diff_state WHERE key IS NOT NULL").fetchone()[0] == ROWS
    built.clear()
    after = await send(simulator, data, destination, source)
    assert (after.run.skipped_unchanged, built) == (ROWS, [])


async def test_chunks_grow_over_unchanged_rows_and_shrink_where_many_changed(simulator, tmp_path, built, monkeypatch):
    """Chunks whose rows are skipped unbuilt but for one in sixteen or fewer double the next chunk, up to
    UNCHANGED_CHUNK_ROWS (here 1,024); a chunk that built more brings it back to CHUNK_ROWS. Either way
    the changed rows are sent and the duplicates found."""
    many, top = 4000, 4 * CHUNK_ROWS
    monkeypatch.setattr(planner, "UNCHANGED_CHUNK_ROWS", top)
    destination, data = loyalty(), tmp_path / "data"
    rows = [valid_row(i) for i in range(many)]
    await send(simulator, data, destination, people(tmp_path, rows))
    built.clear()
    sizes: list[tuple[int, int]] = []  # (rows of the chunk, rows asked for the next)
    original = planner.Planner.plan

    def recording(self, chunk):
        planned = original(self, chunk)
        sizes.append((len(chunk), self.chunk_rows))
        return planned

    monkeypatch.setattr(planner.Planner, "plan", recording)
    changed = [*range(2000, 2100), 3300, 3301, 3302]  # 100 of the fourth chunk's 1,024; 3 of the sixth's 512
    later = [{**row, "points": "5"} if i in changed else row for i, row in enumerate(rows)] + [rows[0], rows[3301]]
    sent = await send(simulator, data, destination, people(tmp_path, later, "b.csv"))
    assert (sent.run.accepted, sent.run.invalid, sent.run.skipped_unchanged) == (len(changed), 2, many - len(changed))
    with HistoryStore(data, readonly=True) as store:
        duplicates = RejectionLog(store.connection, sent.run.id).rows(RejectionFilter(reason=reasons.DUPLICATE_IDENTIFIER))
    assert duplicates == {many + 2, many + 3}  # file rows: the header is row 1
    assert sorted(built) == [i + 2 for i in changed] + [many + 2, many + 3]
    assert sizes == [(CHUNK_ROWS, 2 * CHUNK_ROWS), (2 * CHUNK_ROWS, top), (top, top), (top, CHUNK_ROWS),
                     (CHUNK_ROWS, 2 * CHUNK_ROWS), (2 * CHUNK_ROWS, top), (len(later) - 3584, CHUNK_ROWS)]
