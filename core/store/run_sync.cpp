// SPDX-License-Identifier: GPL-3.0-or-later
// Incremental, idempotent transfer of a launch's runs between two stores (see run_sync.h).
#include "core/store/run_sync.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "core/common/error.h"
#include "core/store/schema.h"
#include "core/store/sqlite_handle.h"
#include "core/store/store_rows.h"

namespace apportion {
namespace {

/// Run ids of `db` tagged remote/launch = launch (all runs when launch is empty).
std::vector<std::string> launch_runs(const SqliteDb& db, const std::string& launch) {
  std::vector<std::string> ids;
  if (launch.empty()) {
    Statement q(db, "SELECT run_id FROM runs ORDER BY start_ms, run_id");
    while (q.step()) ids.push_back(q.column_text(0));
    return ids;
  }
  Statement q(db,
              "SELECT r.run_id FROM runs r JOIN tags t ON t.run_id = r.run_id "
              "WHERE t.key = ? AND t.value = ? ORDER BY r.start_ms, r.run_id");
  q.bind_text(1, kTagRemoteLaunch).bind_text(2, launch);
  while (q.step()) ids.push_back(q.column_text(0));
  return ids;
}

/// The remote/launch tag of a run in `db` ("" when it has none).
std::string launch_of(const SqliteDb& db, const std::string& run_id) {
  Statement q(db, "SELECT value FROM tags WHERE run_id = ? AND key = ?");
  q.bind_text(1, run_id).bind_text(2, kTagRemoteLaunch);
  return q.step() ? q.column_text(0) : std::string();
}

bool has_run(const SqliteDb& db, const std::string& run_id) {
  Statement q(db, "SELECT 1 FROM runs WHERE run_id = ?");
  q.bind_text(1, run_id);
  return q.step();
}

int64_t keyed_rows(const SqliteDb& db, const std::string& run_id) {
  return count_rows(db, "metrics", run_id) + count_rows(db, "matrices", run_id);
}

/// Fills status and newest train/loss step of r.run_id from `db`.
void read_state(const SqliteDb& db, PulledRun& r) {
  Statement st(db, "SELECT status FROM runs WHERE run_id = ?");
  st.bind_text(1, r.run_id);
  if (st.step()) r.status = st.column_text(0);
  Statement last(db, "SELECT MAX(step) FROM metrics WHERE run_id = ? AND key = 'train/loss'");
  last.bind_text(1, r.run_id);
  if (last.step() && !last.column_is_null(0)) r.step = last.column_int(0);
}

}  // namespace

int64_t PullReport::new_rows() const {
  int64_t n = 0;
  for (const auto& r : runs) n += r.new_rows;
  return n;
}

int PullReport::conflicts() const {
  return static_cast<int>(
      std::count_if(runs.begin(), runs.end(), [](const PulledRun& r) { return r.conflict; }));
}

int extract_launch_rows(const std::string& source_path,
                        const std::string& launch,
                        int64_t since_ms,
                        const std::string& out_path) {
  SqliteDb src(source_path, SQLITE_OPEN_READONLY);
  prepare_reader_connection(src);
  std::error_code ec;
  std::filesystem::remove(out_path, ec);
  SqliteDb out(out_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  prepare_writer_connection(out);
  // One read transaction: the extract is a consistent snapshot of a store being written.
  Transaction read(src, "BEGIN");
  Transaction write(out, "BEGIN IMMEDIATE");
  const std::string since = "wall_ms >= " + std::to_string(since_ms);
  const auto ids = launch_runs(src, launch);
  for (const auto& id : ids) {
    copy_run_row(src, out, id, /*upsert=*/false);
    for (const auto& table : run_child_tables()) {
      const bool timed = table == "metrics" || table == "matrices";
      copy_rows(src, out, table, id, "INSERT", timed ? since : "");
    }
  }
  write.commit();
  out.exec("PRAGMA journal_mode = DELETE");  // one self-contained file to send
  return static_cast<int>(ids.size());
}

PullReport merge_launch_rows(const std::string& extract_path,
                             const std::string& home_path,
                             const std::string& launch) {
  SqliteDb src(extract_path, SQLITE_OPEN_READONLY);
  prepare_reader_connection(src);
  SqliteDb dst(home_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  prepare_writer_connection(dst);
  PullReport report;
  Transaction tx(dst, "BEGIN IMMEDIATE");
  for (const auto& id : launch_runs(src, launch)) {
    PulledRun r;
    r.run_id = id;
    if (has_run(dst, id) && launch_of(dst, id) != launch) {
      r.conflict = true;
      r.detail = "the home store has another run with this id (not of launch " + launch +
                 "); left as it is";
      report.runs.push_back(r);
      continue;
    }
    const int64_t before = keyed_rows(dst, id);
    copy_run_row(src, dst, id, /*upsert=*/true);
    for (const auto& table : run_child_tables()) {
      copy_rows(src, dst, table, id, "INSERT OR REPLACE");
    }
    r.new_rows = keyed_rows(dst, id) - before;
    read_state(dst, r);
    report.runs.push_back(r);
  }
  tx.commit();
  return report;
}

PullReport launch_status(const std::string& home_path, const std::string& launch) {
  PullReport report;
  if (!std::filesystem::exists(home_path)) return report;
  SqliteDb db(home_path, SQLITE_OPEN_READONLY);
  prepare_reader_connection(db);
  for (const auto& id : launch_runs(db, launch)) {
    PulledRun r;
    r.run_id = id;
    read_state(db, r);
    report.runs.push_back(r);
  }
  return report;
}

int64_t pull_cursor_ms(const std::string& home_path, const std::string& launch) {
  if (!std::filesystem::exists(home_path)) return 0;
  SqliteDb db(home_path, SQLITE_OPEN_READONLY);
  prepare_reader_connection(db);
  const auto ids = launch_runs(db, launch);
  if (ids.empty()) return 0;
  int64_t cursor = std::numeric_limits<int64_t>::max();
  for (const auto& id : ids) {
    Statement q(db,
                "SELECT MAX(m) FROM (SELECT MAX(wall_ms) AS m FROM metrics WHERE run_id = ?1 "
                "UNION ALL SELECT MAX(wall_ms) FROM matrices WHERE run_id = ?1)");
    q.bind_text(1, id);
    const int64_t newest = q.step() && !q.column_is_null(0) ? q.column_int(0) : 0;
    cursor = std::min(cursor, newest);
  }
  return std::max<int64_t>(0, cursor - kPullMarginMs);
}

}  // namespace apportion
