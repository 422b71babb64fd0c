#include "storage/sqlite_schema.h"

namespace sherpa::storage {

// The event log is the truth; `trials` and `observations` are derived from it
// in the same transaction and exist so that readers (`sherpa results`, the
// dashboard, export) need not replay the log. `seq` is shared: an
// observation's seq is the seq of its event, and trials.updated_seq is the seq
// of the last event that changed the row, so a reader can poll "what changed
// after seq N" with one cursor through two indexed range scans.
const char* const kCreateSchemaSql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE events (
  seq      INTEGER PRIMARY KEY,
  kind     TEXT    NOT NULL,
  trial_id INTEGER NOT NULL,
  attempt  INTEGER NOT NULL,
  at       REAL    NOT NULL,
  payload  TEXT             -- JSON of the kind's fields; NULL when it has none
);

CREATE TABLE trials (
  id          INTEGER PRIMARY KEY,
  parameters  TEXT    NOT NULL,  -- JSON object, types preserved
  state       TEXT    NOT NULL,  -- QUEUED, RUNNING, COMPLETED, FAILED, STOPPED
  attempt     INTEGER NOT NULL,
  job_id      TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  generation  INTEGER,           -- parameters.generation (PBT), else NULL
  load_from   TEXT,              -- parameters.load_from (PBT), else NULL
  created_at  REAL    NOT NULL,
  started_at  REAL,
  ended_at    REAL,
  updated_seq INTEGER NOT NULL
);
CREATE INDEX trials_by_updated_seq ON trials (updated_seq);

CREATE TABLE observations (
  seq       INTEGER PRIMARY KEY,
  trial_id  INTEGER NOT NULL,
  attempt   INTEGER NOT NULL,
  iteration INTEGER NOT NULL,
  objective REAL,              -- NULL when the objective was NaN
  context   TEXT    NOT NULL,  -- JSON object, types preserved
  at        REAL    NOT NULL
);
CREATE INDEX observations_by_trial ON observations (trial_id, attempt, iteration);
)sql";

}  // namespace sherpa::storage
