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

namespace apportion {
namespace {

/// Tables holding a run's rows, keyed by run_id, besides `runs` itself.
const std::vector<std::string>& child_tables() {
  static const std::vector<std::string> t = {"params",         "tags",     "metrics",
                                             "latest_metrics", "matrices", "artifacts"};
  return t;
}

std::vector<std::string> table_columns(const SqliteDb& db, const std::string& table) {
  std::vector<std::string> cols;
  Statement info(db, "PRAGMA table_info(" + table + ")");
  while (info.step()) cols.push_back(info.column_text(1));
  return cols;
}

/// Columns present in both stores' version of `table`, in the target's order.
std::vector<std::string> shared_columns(const SqliteDb& src,
                                        const SqliteDb& dst,
                                        const std::string& table) {
  const auto from = table_columns(src, table);
  std::vector<std::string> out;
  for (const auto& c : table_columns(dst, table)) {
    if (std::find(from.begin(), from.end(), c) != from.end()) out.push_back(c);
  }
  return out;
}

std::string joined(const std::vector<std::string>& cols, const std::string& each = "") {
  std::string s;
  for (const auto& c : cols) s += (s.empty() ? "" : ", ") + (each.empty() ? c : each);
  return s;
}

int64_t count_rows(const SqliteDb& db, const std::string& table, const std::string& run_id) {
  Statement q(db, "SELECT COUNT(*) FROM " + table + " WHERE run_id = ?");
  q.bind_text(1, run_id);
  return q.step() ? q.column_int(0) : 0;
}

/// The target's experiment_id for the source's experiment of a run (matched by name).
int64_t target_experiment(const SqliteDb& src, const SqliteDb& dst, int64_t source_id) {
  Statement get(src, "SELECT name, created_ms FROM experiments WHERE experiment_id = ?");
  get.bind_int(1, source_id);
  if (!get.step()) throw StoreError("the run's experiment row is missing");
  const std::string name = get.column_text(0);
  Statement add(dst, "INSERT OR IGNORE INTO experiments (name, created_ms) VALUES (?, ?)");
  add.bind_text(1, name).bind_int(2, get.column_int(1)).run();
  Statement id(dst, "SELECT experiment_id FROM experiments WHERE name = ?");
  id.bind_text(1, name);
  if (!id.step()) throw StoreError("cannot create experiment '" + name + "' in the target");
  return id.column_int(0);
}

/// Copies the rows of `table` for one run; returns how many.
int64_t copy_rows(const SqliteDb& src,
                  const SqliteDb& dst,
                  const std::string& table,
                  const std::string& run_id) {
  const auto cols = shared_columns(src, dst, table);
  Statement read(src, "SELECT " + joined(cols) + " FROM " + table + " WHERE run_id = ?");
  read.bind_text(1, run_id);
  Statement write(
      dst, "INSERT INTO " + table + " (" + joined(cols) + ") VALUES (" + joined(cols, "?") + ")");
  int64_t n = 0;
  while (read.step()) {
    for (size_t c = 0; c < cols.size(); ++c) {
      write.bind_column(static_cast<int>(c) + 1, read, static_cast<int>(c));
    }
    write.run();
    ++n;
  }
  return n;
}

/// Copies one run whole, or nothing (the caller's transaction is rolled back on a throw).
int64_t copy_run(const SqliteDb& src, const SqliteDb& dst, const std::string& run_id) {
  auto cols = shared_columns(src, dst, "runs");
  Statement read(src, "SELECT " + joined(cols) + " FROM runs WHERE run_id = ?");
  read.bind_text(1, run_id);
  if (!read.step()) throw StoreError("the run row cannot be read");
  const auto exp_col = std::find(cols.begin(), cols.end(), "experiment_id") - cols.begin();
  const int64_t experiment =
      target_experiment(src, dst, read.column_int(static_cast<int>(exp_col)));
  Statement write(dst,
                  "INSERT INTO runs (" + joined(cols) + ") VALUES (" + joined(cols, "?") + ")");
  for (size_t c = 0; c < cols.size(); ++c) {
    if (static_cast<long>(c) == exp_col) {
      write.bind_int(static_cast<int>(c) + 1, experiment);
    } else {
      write.bind_column(static_cast<int>(c) + 1, read, static_cast<int>(c));
    }
  }
  write.run();
  int64_t rows = 1;
  for (const auto& table : child_tables()) rows += copy_rows(src, dst, table, run_id);
  return rows;
}

/// For a run id present in both: the same rows (an earlier copy), or what differs.
RunCopyResult compare_present(const SqliteDb& src, const SqliteDb& dst, const std::string& run_id) {
  RunCopyResult r;
  r.run_id = run_id;
  std::string differs;
  for (const auto& table : child_tables()) {
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
