"""The history database: where it lives, how it is opened, and its tables.

One SQLite file in the data directory, created 0600 (it holds identifiers), in WAL mode so the
console and `runs`/`rejections` can read while a send writes. SQLite creates the -wal and -shm files
with the database file's permissions.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from tui.settings.atomic import create_private_file
from tui.settings.history_head import refuse_lost_history, refuse_rolled_back_history
from tui.settings.paths import history_path
from tui.sync.rejection_index import TEXT_INDEX_DDL, catch_up_text_index
from tui.sync.sql_rows import insert_rows

SCHEMA_VERSION = 9

# Row outcome codes in row_outcomes.outcome (small integers keep a million-row run compact).
PENDING = 0        # handed to the sender; no answer recorded yet (resume sends it again)
ACCEPTED = 1
REJECTED = 2       # by Attentive
INVALID = 3        # rejected locally, never sent (includes duplicates)
SKIPPED = 4        # unchanged since the last accepted send
FAILED = 5         # still failing after every retry
NOT_SENT = 6       # dry run: would have been sent
SUBMITTED = 7      # in a bulk job Attentive accepted (202); its result is not known yet
UNCONFIRMED = 8    # its bulk job ended without a readable result for it (never counted failed)
SKIPPED_PENDING = 9  # unchanged since a submission whose job has not resolved yet
SKIPPED_SENT = 10  # an event the ledger holds as sent to this destination already (version 6)
UNKNOWN = 11       # an event handed to the network without a recorded answer: never re-sent on our own
OUTCOME_NAMES = {
    PENDING: "pending", ACCEPTED: "accepted", REJECTED: "rejected", INVALID: "invalid",
    SKIPPED: "skipped_unchanged", FAILED: "failed", NOT_SENT: "not_sent", SUBMITTED: "submitted",
    UNCONFIRMED: "unconfirmed", SKIPPED_PENDING: "skipped_pending", SKIPPED_SENT: "skipped_already_sent",
    UNKNOWN: "unknown",
}
# Bulk job states (bulk_jobs.state): ours, decided from Attentive's status word (kept verbatim in `status`).
JOB_PENDING, JOB_COMPLETED, JOB_FAILED, JOB_UNCONFIRMED, JOB_EXPIRED = (
    "pending", "completed", "failed", "unconfirmed", "expired")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    operator TEXT NOT NULL,
    environment TEXT NOT NULL,
    destination TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    mode TEXT NOT NULL,                 -- send | sample | dry-run | retry
    full_send INTEGER NOT NULL DEFAULT 0,
    sample_size INTEGER,
    parent_run_id INTEGER REFERENCES runs(id),
    verbose_logging INTEGER NOT NULL DEFAULT 1,
    source_path TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    source_format TEXT NOT NULL,
    rows_estimate INTEGER,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,               -- running | awaiting_results | finished | failed | cancelled
    message TEXT,
    rows_read INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    invalid INTEGER NOT NULL DEFAULT 0,
    skipped_unchanged INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    not_sent INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    throttled INTEGER NOT NULL DEFAULT 0,
    submitted INTEGER NOT NULL DEFAULT 0,
    unconfirmed INTEGER NOT NULL DEFAULT 0,
    skipped_pending INTEGER NOT NULL DEFAULT 0,
    source_parts TEXT,                  -- JSON list of the parts' paths when the source has several (version 5)
    send_constants TEXT,                -- JSON object of the send's --set values (version 5)
    audience_left INTEGER NOT NULL DEFAULT 0, -- leavers sent false on the audience attribute (version 5)
    source_query TEXT,                  -- send --query: the SQL whose result (spooled to Parquet) is the source (version 5)
    skipped_already_sent INTEGER NOT NULL DEFAULT 0,  -- events the ledger holds as sent (version 6)
    unknown INTEGER NOT NULL DEFAULT 0,               -- events sent without a recorded answer (version 6)
    stale_events INTEGER NOT NULL DEFAULT 0,          -- events over 12 hours old: recorded, no journeys (version 6)
    include_unknown INTEGER NOT NULL DEFAULT 0        -- retry --include-unknown: its unknown events go again (version 6)
);
CREATE INDEX IF NOT EXISTS runs_by_destination ON runs (destination, environment, id);

CREATE TABLE IF NOT EXISTS row_outcomes (
    run_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    key INTEGER,                        -- identifier key (profiles.identifier_key) for in-run duplicates
    outcome INTEGER NOT NULL,
    PRIMARY KEY (run_id, row)
) WITHOUT ROWID;
-- Its keys are indexed by span of rows, then key (row_outcomes_by_span, created with the added columns' indexes).

CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    reason TEXT NOT NULL,
    identifier TEXT,                    -- NULL when the destination's verbose logging is off
    status INTEGER,
    message TEXT
);
CREATE INDEX IF NOT EXISTS rejections_by_reason ON rejections (run_id, reason, id);
CREATE INDEX IF NOT EXISTS rejections_by_status ON rejections (run_id, status, id);
CREATE INDEX IF NOT EXISTS rejections_by_run ON rejections (run_id);  -- entries of a run in id order: pages need no sort
CREATE INDEX IF NOT EXISTS rejections_in_row_order ON rejections (run_id, row);  -- the log's default order (version 4)
-- A retry of only some of its parent's rejections (the console's filter, `retry --reason`): a resume
-- sends the same rows again (version 4).
CREATE TABLE IF NOT EXISTS retry_filters (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    reason TEXT,
    status INTEGER,
    text TEXT
);

CREATE TABLE IF NOT EXISTS diff_scopes (
    id INTEGER PRIMARY KEY,
    destination TEXT NOT NULL,
    environment TEXT NOT NULL,
    UNIQUE (destination, environment)
);
CREATE TABLE IF NOT EXISTS diff_state (
    scope INTEGER NOT NULL,
    identifier TEXT NOT NULL,
    digest BLOB NOT NULL,               -- hash of the payload Attentive last accepted
    raw BLOB,                           -- ProfileBuilder.raw_digests of the row it was built from (schema 7)
    key INTEGER,                        -- profiles.identifier_key of the identifier, set with raw (schema 8)
    PRIMARY KEY (scope, identifier)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS verifications (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    checked_at REAL NOT NULL,
    checked INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    mismatched INTEGER NOT NULL,
    missing INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    details TEXT NOT NULL,              -- JSON list of differences (identifiers as stored in rejections)
    state TEXT NOT NULL DEFAULT 'matched'  -- pending (differs, window open) | matched | mismatched
);
CREATE INDEX IF NOT EXISTS verifications_by_run ON verifications (run_id, id);

-- One row per bulk job Attentive accepted. Followed until resolved, by any process (see sync/jobs.py).
CREATE TABLE IF NOT EXISTS bulk_jobs (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    job_id TEXT NOT NULL,               -- Attentive's batchJobId
    scope INTEGER NOT NULL,             -- diff scope its confirmed profiles update
    rows INTEGER NOT NULL,
    submitted_at REAL NOT NULL,
    state TEXT NOT NULL,                -- pending | completed | failed | unconfirmed | expired
    status TEXT,                        -- the status word as Attentive last sent it, verbatim
    body TEXT,                          -- the whole last status body
    url TEXT,
    message TEXT,                       -- the job's own error, or why it is still pending
    checks INTEGER NOT NULL DEFAULT 0,
    last_checked_at REAL,
    next_check_at REAL NOT NULL,        -- also the lease: a follower moves it forward before it checks
    resolved_at REAL
);
CREATE INDEX IF NOT EXISTS bulk_jobs_due ON bulk_jobs (next_check_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS bulk_jobs_by_run ON bulk_jobs (run_id, id);
-- The profiles of each job: what its results are matched to, and what the diff holds as in flight.
CREATE TABLE IF NOT EXISTS job_rows (
    job INTEGER NOT NULL,               -- bulk_jobs.id
    row INTEGER NOT NULL,
    scope INTEGER NOT NULL,
    identifier TEXT NOT NULL,
    digest BLOB NOT NULL,               -- hash of the payload submitted
    open INTEGER NOT NULL DEFAULT 1,    -- 1 while the job is pending
    raw BLOB,                           -- its source row's raw digest, for diff_state once confirmed
    PRIMARY KEY (job, row)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_rows_in_flight ON job_rows (scope, identifier) WHERE open = 1;
-- Result lines that could not be read, or named no profile of the job: kept raw, shown, never guessed.
CREATE TABLE IF NOT EXISTS job_lines (
    job INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    problem TEXT NOT NULL,              -- unreadable | unmatched | duplicate
    text TEXT NOT NULL,
    PRIMARY KEY (job, line_no)
) WITHOUT ROWID;
-- Audience membership (version 5; sync/membership.py). Runs that carry a destination's audience
-- attribute, with the counts their start computed; a send's leaves are rows from LEAVE_ROW_BASE on.
CREATE TABLE IF NOT EXISTS audience_runs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    scope INTEGER NOT NULL,             -- diff scope (destination, environment)
    audience TEXT NOT NULL,             -- the attribute's name
    computed INTEGER NOT NULL,          -- 1 when leaves were computed (a send or dry run, not a sample or retry)
    members INTEGER NOT NULL DEFAULT 0, -- confirmed members at the start
    joins INTEGER NOT NULL DEFAULT 0,   -- valid profiles of the file that were not members
    stays INTEGER NOT NULL DEFAULT 0,   -- valid profiles of the file that were members
    leaves INTEGER NOT NULL DEFAULT 0   -- members absent from the file: sent false
);
CREATE INDEX IF NOT EXISTS audience_runs_by_scope ON audience_runs (scope, audience, run_id);
-- The leaves a send computed at its start, fixed so that a resume sends exactly these.
CREATE TABLE IF NOT EXISTS audience_leaves (
    run_id INTEGER NOT NULL,
    row INTEGER NOT NULL,               -- LEAVE_ROW_BASE + n: its row in row_outcomes, job_rows, rejections
    identifier TEXT NOT NULL,
    PRIMARY KEY (run_id, row)
) WITHOUT ROWID;
-- Who Attentive confirmed true (and no false since), per scope and audience.
CREATE TABLE IF NOT EXISTS audience_members (
    scope INTEGER NOT NULL,
    audience TEXT NOT NULL,
    key INTEGER NOT NULL,               -- profiles.identifier_key: matched as in-run duplicates are
    identifier TEXT NOT NULL,
    PRIMARY KEY (scope, audience, key)
) WITHOUT ROWID;
-- Every event sent to a scope (destination, environment), by its deterministic id (sync/event_ledger.py):
-- marked in flight and committed before its request leaves, so a kill at any moment leaves it known
-- or unknown, never forgotten (version 6).
CREATE TABLE IF NOT EXISTS event_ledger (
    scope INTEGER NOT NULL,
    event_id TEXT NOT NULL,             -- UUIDv5 of the destination and the event key (custom events' externalEventId)
    state INTEGER NOT NULL,             -- 1 in flight | 2 sent (accepted) | 3 unknown
    run_id INTEGER NOT NULL,            -- the run that last sent it
    rows TEXT NOT NULL,                 -- its rows in that run, comma-separated (a purchase has one per item)
    updated_at REAL NOT NULL,
    PRIMARY KEY (scope, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_ledger_in_flight ON event_ledger (scope) WHERE state = 1;
-- A test send's read-back, retried until it matches or its window ends (rows deleted when settled).
CREATE TABLE IF NOT EXISTS read_backs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    window_ends_at REAL NOT NULL,
    next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
"""

# Versions 1 and 2 lacked bulk job tracking: its tables are created above, these columns added.
_ADDED_COLUMNS = (
    ("runs", "submitted", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "unconfirmed", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "skipped_pending", "INTEGER NOT NULL DEFAULT 0"),
    ("verifications", "state", "TEXT NOT NULL DEFAULT 'matched'"),
    ("runs", "source_parts", "TEXT"),
    ("runs", "send_constants", "TEXT"),
    ("runs", "audience_left", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "source_query", "TEXT"),
    ("runs", "skipped_already_sent", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "unknown", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "stale_events", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "include_unknown", "INTEGER NOT NULL DEFAULT 0"),
    ("diff_state", "raw", "BLOB"),
    ("job_rows", "raw", "BLOB"),
    ("diff_state", "key", "INTEGER"),
)
# In-run duplicates' keys (RunRecorder.first_rows) are indexed by span of 2**18 rows, then key: a run
# writes into its last span's part of the index, which stays in the cache. Indexed by key alone (up to
# version 8) each row took a random page once the index outgrew the cache, and each commit wrote those
# pages to the WAL again (a 10,000,000-row first send wrote 60 GB). Look-ups ask each span the run wrote.
ROW_SPAN_SHIFT = 18
ROW_SPAN = f"row >> {ROW_SPAN_SHIFT}"
# After the added columns: the unchanged rows' index (raw_index.py) in raw digest order, covering the key.
# Version 7's index lacked the key; rows written before version 8 have none and are not in the index
# until a send finds them unchanged by payload and records their raw digest and key anew.
_INDEXES_OF_ADDED = f"""DROP INDEX IF EXISTS diff_state_by_raw;
CREATE INDEX IF NOT EXISTS diff_state_by_raw_key ON diff_state (scope, raw, key) WHERE key IS NOT NULL;
DROP INDEX IF EXISTS row_outcomes_by_key;
CREATE INDEX IF NOT EXISTS row_outcomes_by_span ON row_outcomes (run_id, {ROW_SPAN}, key) WHERE key IS NOT NULL;
"""
# A confirmed profile's diff state: its payload's digest, its row's raw digest and its identifier key,
# always written together.
def upsert_diff_state(connection: sqlite3.Connection,
                      rows: Sequence[tuple[int, str, bytes, bytes | None, int | None]]) -> None:
    """What Attentive confirmed for each (scope, identifier, digest, raw digest, identifier key)."""
    insert_rows(connection, "INSERT INTO diff_state (scope, identifier, digest, raw, key)", rows,
                "ON CONFLICT (scope, identifier) DO UPDATE SET digest = excluded.digest, raw = excluded.raw, "
                "key = excluded.key")
# Version 1 kept a positional trigram index fed by a per-row trigger; it is rebuilt lazily as above.
_DROP_VERSION_1 = """
DROP INDEX IF EXISTS rejections_by_row;
DROP TRIGGER IF EXISTS rejections_fts_insert;
DROP TRIGGER IF EXISTS rejections_fts_delete;
DROP TABLE IF EXISTS rejections_fts;
"""


def pacing_dir(data_dir: Path) -> Path:
    """Where every process using this data directory shares its API keys' send slots."""
    return Path(data_dir) / "pacing"


def connect(data_dir: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and on first use create) the history database. Read-only connections never create it.
    A history that is missing or empty although it once held audit entries is refused
    (HistoryDamaged), never taken for a fresh one."""
    path = history_path(data_dir)
    refuse_lost_history(path)
    if readonly:
        if path.exists():
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            _refuse_rolled_back(connection, path)
            # user_version 0: another writer (the audit ledger) created the file before any run did.
            if connection.execute("PRAGMA user_version").fetchone()[0] != 0:
                return connection
            connection.close()
        connection = sqlite3.connect(":memory:")
        _create(connection)
        return connection
    Path(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    create_private_file(path)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    _refuse_rolled_back(connection, path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses at most the last commits, never corrupts
    connection.execute("PRAGMA cache_size=-16000")
    connection.execute("PRAGMA temp_store=MEMORY")
    _create(connection)
    catch_up_text_index(connection)
    return connection


def _refuse_rolled_back(connection: sqlite3.Connection, path: Path) -> None:
    try:
        refuse_rolled_back_history(connection, path)
    except BaseException:
        connection.close()
        raise


def _create(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    upgrade = (_DROP_VERSION_1 if version == 1 else "") + _missing_columns(connection)
    tables = "BEGIN IMMEDIATE;" + _DDL + upgrade + _INDEXES_OF_ADDED
    finish = f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    try:
        connection.executescript(tables + TEXT_INDEX_DDL + finish)
    except sqlite3.OperationalError as error:
        if connection.in_transaction:
            connection.rollback()
        if "duplicate column" in str(error):  # another process upgraded it meanwhile
            return _create(connection)
        if "trigram" not in str(error) and "fts5" not in str(error):
            raise
        connection.executescript(tables + finish)  # no trigram tokenizer: text search uses LIKE


def _missing_columns(connection: sqlite3.Connection) -> str:
    statements = []
    for table, column, declaration in _ADDED_COLUMNS:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if present and column not in present:
            statements.append(f"ALTER TABLE {table} ADD COLUMN {column} {declaration};")
            if (table, column) == ("verifications", "state"):
                statements.append("UPDATE verifications SET state = 'mismatched' WHERE passed = 0;")
    return "\n".join(statements)
