// SPDX-License-Identifier: GPL-3.0-or-later
// Generic row copying between two run store files (see store_rows.h).
#include "core/store/store_rows.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/store/sqlite_handle.h"

namespace apportion {

const std::vector<std::string>& run_child_tables() {
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

std::string joined(const std::vector<std::string>& cols, const std::string& each) {
  std::string s;
  for (const auto& c : cols) s += (s.empty() ? "" : ", ") + (each.empty() ? c : each);
  return s;
}

int64_t count_rows(const SqliteDb& db, const std::string& table, const std::string& run_id) {
  Statement q(db, "SELECT COUNT(*) FROM " + table + " WHERE run_id = ?");
  q.bind_text(1, run_id);
  return q.step() ? q.column_int(0) : 0;
}

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

int64_t copy_rows(const SqliteDb& src,
                  const SqliteDb& dst,
                  const std::string& table,
                  const std::string& run_id,
                  const std::string& verb,
                  const std::string& where) {
  const auto cols = shared_columns(src, dst, table);
  Statement read(src, "SELECT " + joined(cols) + " FROM " + table + " WHERE run_id = ?" +
                          (where.empty() ? "" : " AND (" + where + ")"));
  read.bind_text(1, run_id);
  Statement write(
      dst, verb + " INTO " + table + " (" + joined(cols) + ") VALUES (" + joined(cols, "?") + ")");
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

void copy_run_row(const SqliteDb& src,
                  const SqliteDb& dst,
                  const std::string& run_id,
                  bool upsert) {
  const auto cols = shared_columns(src, dst, "runs");
  Statement read(src, "SELECT " + joined(cols) + " FROM runs WHERE run_id = ?");
  read.bind_text(1, run_id);
  if (!read.step()) throw StoreError("the run row cannot be read");
  const auto exp_col = std::find(cols.begin(), cols.end(), "experiment_id") - cols.begin();
  const int64_t experiment =
      target_experiment(src, dst, read.column_int(static_cast<int>(exp_col)));
  std::string sql = "INSERT INTO runs (" + joined(cols) + ") VALUES (" + joined(cols, "?") + ")";
  if (upsert) {
    std::string set;
    for (const auto& c : cols) {
      if (c != "run_id") set += (set.empty() ? "" : ", ") + c + " = excluded." + c;
    }
    sql += " ON CONFLICT (run_id) DO UPDATE SET " + set;
  }
  Statement write(dst, sql);
  for (size_t c = 0; c < cols.size(); ++c) {
    if (static_cast<long>(c) == exp_col) {
      write.bind_int(static_cast<int>(c) + 1, experiment);
    } else {
      write.bind_column(static_cast<int>(c) + 1, read, static_cast<int>(c));
    }
  }
  write.run();
}

}  // namespace apportion
