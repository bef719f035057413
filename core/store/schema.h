// SPDX-License-Identifier: GPL-3.0-or-later
// Schema of the run store: the DDL of each version as ordered migrations keyed by
// PRAGMA user_version, the checks that a file is an Apportion store this build can read, and
// the connection setup shared by writers and readers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

class SqliteDb;

/// PRAGMA application_id of every Apportion run store ('APRT').
constexpr int64_t kStoreApplicationId = 0x41505254;

/// One schema step: running `sql` on version `version - 1` yields `version`.
struct Migration {
  int version;
  const char* sql;
};

/// Every migration, ascending by version; the last one is latest_schema_version().
const std::vector<Migration>& schema_migrations();

/// What inspect_store() found in a file.
struct StoreInfo {
  int64_t user_version = 0;
  bool empty = false;  ///< no tables and version 0: a fresh file the writer may initialise
};

/// Reads the header of an open database without writing anything. Throws StoreError naming the
/// file (and saying what to do) when it is not SQLite, not an Apportion store, or newer than
/// this build.
StoreInfo inspect_store(const SqliteDb& db);

/// Writer setup: checks the file, sets WAL on a fresh file, synchronous=NORMAL,
/// foreign_keys=ON, then applies pending migrations in one BEGIN EXCLUSIVE transaction.
void prepare_writer_connection(const SqliteDb& db);

/// Reader setup: checks the file (must hold a schema), foreign_keys=ON, query_only.
/// Returns the schema version found (older versions are read with fewer features).
int64_t prepare_reader_connection(const SqliteDb& db);

/// Applies the migrations above `from_version` up to `to_version` inside the caller's
/// transaction (tests use this to build old fixtures).
void apply_migrations(const SqliteDb& db, int64_t from_version, int64_t to_version);

}  // namespace apportion
