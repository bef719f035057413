// SPDX-License-Identifier: GPL-3.0-or-later
// Row copying between two open run store files, generic over each table's columns (so a store
// of an older schema version copies into the current one): the building blocks of
// store_copy.cpp (salvage, import) and run_sync.cpp (pulling a remote run's rows home).
//
// Intended usage (inside a transaction on `dst`):
//   const int64_t exp = target_experiment(src, dst, source_experiment_id);
//   copy_rows(src, dst, "metrics", run_id, "INSERT OR REPLACE", "wall_ms >= 1700000000000");
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

class SqliteDb;

/// Tables holding a run's rows, keyed by run_id, besides `runs` itself.
const std::vector<std::string>& run_child_tables();

/// Column names of `table` in `db`, in declaration order.
std::vector<std::string> table_columns(const SqliteDb& db, const std::string& table);

/// Columns present in both stores' version of `table`, in the target's order.
std::vector<std::string> shared_columns(const SqliteDb& src,
                                        const SqliteDb& dst,
                                        const std::string& table);

/// "a, b, c" (or "?, ?, ?" when `each` is "?").
std::string joined(const std::vector<std::string>& cols, const std::string& each = "");

/// Rows of `table` for one run.
int64_t count_rows(const SqliteDb& db, const std::string& table, const std::string& run_id);

/// The target's experiment_id for the source's experiment `source_id` (matched by name;
/// created in the target when missing). Throws StoreError.
int64_t target_experiment(const SqliteDb& src, const SqliteDb& dst, int64_t source_id);

/// Copies the rows of `table` for one run with `verb` ("INSERT", "INSERT OR REPLACE"), only
/// those matching `where` (an SQL condition on the source's columns) when given; returns how
/// many were written.
int64_t copy_rows(const SqliteDb& src,
                  const SqliteDb& dst,
                  const std::string& table,
                  const std::string& run_id,
                  const std::string& verb = "INSERT",
                  const std::string& where = "");

/// Writes the `runs` row of `run_id` from src into dst (its experiment matched by name):
/// a new row, or with `upsert` every column of an existing row updated in place (never
/// deleted, so its child rows stay). Throws StoreError when the row cannot be read.
void copy_run_row(const SqliteDb& src, const SqliteDb& dst, const std::string& run_id, bool upsert);

}  // namespace apportion
