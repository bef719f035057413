// SPDX-License-Identifier: GPL-3.0-or-later
// Run-by-run copy between two run store files (see store_copy.h): generic over each table's
// columns, so a source of an older schema version copies into the current one.
#include "core/store/store_copy.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "core/common/error.h"
#include "core/store/schema.h"
#include "core/store/sqlite_handle.h"
#include "core/store/store_rows.h"

namespace apportion {
namespace {

/// Copies one run whole, or nothing (the caller's transaction is rolled back on a throw).
int64_t copy_run(const SqliteDb& src, const SqliteDb& dst, const std::string& run_id) {
  copy_run_row(src, dst, run_id, /*upsert=*/false);
  int64_t rows = 1;
  for (const auto& table : run_child_tables()) rows += copy_rows(src, dst, table, run_id);
  return rows;
}

/// For a run id present in both: the same rows (an earlier copy), or what differs.
RunCopyResult compare_present(const SqliteDb& src, const SqliteDb& dst, const std::string& run_id) {
  RunCopyResult r;
  r.run_id = run_id;
  std::string differs;
  for (const auto& table : run_child_tables()) {
    const int64_t a = count_rows(src, table, run_id), b = count_rows(dst, table, run_id);
    r.rows += a;
    if (a != b) {
      differs += (differs.empty() ? "" : ", ") + table + ": " + std::to_string(a) + " rows here, " +
                 std::to_string(b) + " in the target";
    }
  }
  const auto status = [&](const SqliteDb& db) {
    Statement q(db, "SELECT status, config_json FROM runs WHERE run_id = ?");
    q.bind_text(1, run_id);
    return q.step() ? q.column_text(0) + "\n" + q.column_text(1) : std::string();
  };
  if (status(src) != status(dst)) {
    differs += std::string(differs.empty() ? "" : ", ") + "status or config differ";
  }
  r.outcome =
      differs.empty() ? RunCopyResult::Outcome::AlreadyPresent : RunCopyResult::Outcome::Conflict;
  r.detail = differs.empty()
                 ? "already in the target with the same rows"
                 : "the target has another run with this id (" + differs + "); left as it is";
  return r;
}

}  // namespace

int StoreCopyReport::count(RunCopyResult::Outcome o) const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(),
                                        [o](const RunCopyResult& r) { return r.outcome == o; }));
}

const char* to_string(RunCopyResult::Outcome o) {
  switch (o) {
    case RunCopyResult::Outcome::Copied:
      return "copied";
    case RunCopyResult::Outcome::AlreadyPresent:
      return "already present";
    case RunCopyResult::Outcome::Conflict:
      return "CONFLICT";
    case RunCopyResult::Outcome::Unreadable:
      return "UNREADABLE";
  }
  return "?";
}

StoreCopyReport copy_store_runs(const std::string& source_path, const std::string& target_path) {
  SqliteDb src(source_path, SQLITE_OPEN_READONLY);
  inspect_store(src);  // an Apportion store (its header page is readable)
  src.exec("PRAGMA query_only = 1");
  SqliteDb dst(target_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  prepare_writer_connection(dst);

  StoreCopyReport report;
  std::vector<std::string> ids;
  try {
    Statement list(src, "SELECT run_id FROM runs ORDER BY start_ms, run_id");
    while (list.step()) ids.push_back(list.column_text(0));
  } catch (const StoreError& e) {
    report.list_error = e.what();
  }
  for (const auto& id : ids) {
    bool present = false;
    {
      Statement q(dst, "SELECT 1 FROM runs WHERE run_id = ?");
      q.bind_text(1, id);
      present = q.step();
    }
    if (present) {
      try {
        report.runs.push_back(compare_present(src, dst, id));
      } catch (const StoreError& e) {
        report.runs.push_back({id, RunCopyResult::Outcome::Unreadable, 0, e.what()});
      }
      continue;
    }
    dst.exec("BEGIN IMMEDIATE");
    try {
      const int64_t rows = copy_run(src, dst, id);
      dst.exec("COMMIT");
      report.runs.push_back({id, RunCopyResult::Outcome::Copied, rows, ""});
    } catch (const StoreError& e) {
      dst.exec("ROLLBACK");
      report.runs.push_back({id, RunCopyResult::Outcome::Unreadable, 0, e.what()});
    }
  }
  return report;
}

}  // namespace apportion
