// SPDX-License-Identifier: GPL-3.0-or-later
// DDL of the run store (DESIGN §7.1) as ordered migrations, plus the file checks and pragmas
// every connection needs. Version 1: experiments, runs, params, tags, metrics, latest_metrics,
// matrices. Version 2: artifacts, and an index for listing runs newest first. Version 3: run
// owners and heartbeats.
#include "core/store/schema.h"

#include <sqlite3.h>

#include "core/common/error.h"
#include "core/store/run_store.h"
#include "core/store/sqlite_handle.h"

namespace apportion {
namespace {

constexpr const char* kSchemaV1 = R"sql(
PRAGMA application_id = 1095782996;
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  created_ms    INTEGER NOT NULL,
  lifecycle     TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'deleted'))
);
CREATE TABLE runs (
  run_id            TEXT PRIMARY KEY NOT NULL,  -- 32 lowercase hex digits (UUID v4)
  experiment_id     INTEGER NOT NULL REFERENCES experiments (experiment_id),
  name              TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL
                    CHECK (status IN ('SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
  start_ms          INTEGER NOT NULL,
  end_ms            INTEGER,
  config_json       TEXT NOT NULL,
  config_sha        TEXT NOT NULL DEFAULT '',  -- FNV-1a 64-bit of config_json, 16 hex digits
  allocation_method TEXT NOT NULL DEFAULT '',
  seed              INTEGER NOT NULL DEFAULT 0,  -- uint64 stored as its int64 bit pattern
  device            TEXT NOT NULL DEFAULT '',
  host              TEXT NOT NULL DEFAULT '',
  git_sha           TEXT NOT NULL DEFAULT '',
  torch_version     TEXT NOT NULL DEFAULT ''
);
CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  step    INTEGER NOT NULL,
  value   REAL,                           -- NULL when the value is NaN (see is_nan)
  is_nan  INTEGER NOT NULL DEFAULT 0,
  wall_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  step    INTEGER NOT NULL,
  value   REAL,
  is_nan  INTEGER NOT NULL DEFAULT 0,
  wall_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE matrices (
  run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  step    INTEGER NOT NULL,
  shape   TEXT NOT NULL,                  -- JSON array, e.g. [32,7,8]
  axes    TEXT NOT NULL DEFAULT '',       -- e.g. layer,module,expert
  dtype   TEXT NOT NULL CHECK (dtype IN ('f32', 'f16', 'i32')),
  blob    BLOB NOT NULL,                  -- row-major, little-endian
  wall_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, key, step)
);
)sql";

constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  kind   TEXT NOT NULL,                   -- checkpoint, adapter, export, ...
  path   TEXT NOT NULL,                   -- relative to runs/<run_id>/ beside the database
  step   INTEGER NOT NULL DEFAULT 0,
  bytes  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, path)
);
CREATE INDEX runs_by_start ON runs (start_ms DESC);
)sql";

// Version 3: who trains a run (host, pid, process start token) and its heartbeat, so readers
// can tell a run whose process is gone (core/store/liveness.h).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE runs ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN owner_start TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_ms INTEGER NOT NULL DEFAULT 0;
)sql";

std::string not_a_store_message(const SqliteDb& db, const std::string& why) {
  return detail::concat("'", db.path(), "' ", why,
                        ". Choose an Apportion run store (.sqlite) or a new file name to "
                        "create one; this file was left unchanged.");
}

}  // namespace

const std::vector<Migration>& schema_migrations() {
  static const std::vector<Migration> migrations = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}};
  return migrations;
}

int latest_schema_version() { return schema_migrations().back().version; }

StoreInfo inspect_store(const SqliteDb& db) {
  StoreInfo info;
  int64_t table_count = 0;
  int64_t application_id = 0;
  try {
    Statement tables(db, "SELECT count(*) FROM sqlite_master");
    tables.step();
    table_count = tables.column_int(0);
    application_id = db.pragma_int("application_id");
    info.user_version = db.pragma_int("user_version");
  } catch (const StoreError&) {
    const int code = sqlite3_errcode(db.get()) & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      throw StoreError(not_a_store_message(db, "is not an SQLite database (or it is damaged)"));
    }
    throw;
  }
  info.empty = table_count == 0 && info.user_version == 0 && application_id == 0;
  if (info.empty) return info;
  if (application_id != kStoreApplicationId) {
    throw StoreError(not_a_store_message(
        db, "is an SQLite database but not an Apportion run store (application_id " +
                std::to_string(application_id) + ")"));
  }
  if (info.user_version > latest_schema_version()) {
    throw StoreError(detail::concat(
        "'", db.path(), "' has run store schema version ", info.user_version,
        ", newer than version ", latest_schema_version(),
        " that this build knows; install an Apportion release that supports schema version ",
        info.user_version, " (or newer) to open it."));
  }
  return info;
}

void apply_migrations(const SqliteDb& db, int64_t from_version, int64_t to_version) {
  for (const Migration& m : schema_migrations()) {
    if (m.version <= from_version || m.version > to_version) continue;
    db.exec(m.sql);
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
  }
}

void prepare_writer_connection(const SqliteDb& db) {
  const StoreInfo info = inspect_store(db);
  db.exec("PRAGMA foreign_keys = ON");
  if (info.empty) {
    // WAL is chosen once, when the file is created (DESIGN §7.3); it persists in the file.
    const std::string mode = db.pragma_text("journal_mode = WAL");
    if (mode != "wal") {
      throw StoreError(detail::concat("run store '", db.path(), "': cannot enable WAL (got '", mode,
                                      "'); keep live stores on a local disk."));
    }
  }
  db.exec("PRAGMA synchronous = NORMAL");
  if (info.user_version == latest_schema_version()) return;
  Transaction txn(db, "BEGIN EXCLUSIVE");
  // Another process may have migrated between the check above and the lock.
  const int64_t current = db.pragma_int("user_version");
  if (current > latest_schema_version()) inspect_store(db);
  apply_migrations(db, current, latest_schema_version());
  txn.commit();
}

int64_t prepare_reader_connection(const SqliteDb& db) {
  const StoreInfo info = inspect_store(db);
  if (info.empty) {
    throw StoreError(not_a_store_message(db, "holds no run store yet (empty database)"));
  }
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA query_only = 1");
  return info.user_version;
}

}  // namespace apportion
