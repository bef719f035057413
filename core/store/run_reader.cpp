// SPDX-License-Identifier: GPL-3.0-or-later
// RunReader: read-only queries on a separate connection. Each call is one short read
// transaction, so WAL checkpoints are never held back for long.
#include "core/store/run_reader.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "core/common/error.h"
#include "core/store/matrix_codec.h"
#include "core/store/schema.h"
#include "core/store/sqlite_handle.h"

namespace apportion {
namespace {

/// Schema version that added the artifacts table.
constexpr int64_t kArtifactsVersion = 2;

/// Schema version that added run owners and heartbeats.
constexpr int64_t kOwnersVersion = 3;

/// The runs query; stores before version 3 give empty owners.
std::string run_columns(int64_t schema_version) {
  return std::string(
             "SELECT r.run_id, e.name, r.name, r.status, r.start_ms, r.end_ms, r.config_json, "
             "r.config_sha, r.allocation_method, r.seed, r.device, r.host, r.torch_version, ") +
         (schema_version >= kOwnersVersion
              ? "r.owner_host, r.owner_pid, r.owner_start, r.heartbeat_ms "
              : "'', 0, '', 0 ") +
         "FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id ";
}

Run run_from_row(const Statement& row) {
  Run run;
  run.run_id = row.column_text(0);
  run.experiment_name = row.column_text(1);
  run.name = row.column_text(2);
  run.status = run_status_from_string(row.column_text(3));
  run.start_ms = row.column_int(4);
  if (!row.column_is_null(5)) run.end_ms = row.column_int(5);
  run.config_json = row.column_text(6);
  run.config_sha = row.column_text(7);
  run.allocation_method = row.column_text(8);
  run.seed = static_cast<uint64_t>(row.column_int(9));
  run.device = row.column_text(10);
  run.host = row.column_text(11);
  run.torch_version = row.column_text(12);
  run.owner_host = row.column_text(13);
  run.owner_pid = row.column_int(14);
  run.owner_start = row.column_text(15);
  run.heartbeat_ms = row.column_int(16);
  return run;
}

double value_of(const Statement& row, int value_column, int is_nan_column) {
  if (row.column_int(is_nan_column) != 0 || row.column_is_null(value_column)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return row.column_double(value_column);
}

MatrixRecord matrix_from_row(const Statement& row) {
  MatrixRecord record;
  record.key = row.column_text(0);
  record.step = row.column_int(1);
  record.shape = shape_from_json(row.column_text(2));
  record.axes = row.column_text(3);
  record.wall_ms = row.column_int(6);
  decode_matrix(row.column_text(4), row.column_blob(5), record);
  return record;
}

constexpr const char* kMatrixColumns =
    "SELECT key, step, shape, axes, dtype, blob, wall_ms FROM matrices ";

}  // namespace

struct RunReader::Impl {
  explicit Impl(const std::string& db_path) : path(db_path), db(db_path, SQLITE_OPEN_READONLY) {
    prepare_reader_connection(db);
  }

  /// Adds params, tags and latest metrics to the runs (one query per table).
  void fill_details(std::vector<Run>& runs) const;

  std::string path;
  SqliteDb db;
  mutable std::mutex mutex;  ///< one query at a time on the connection
};

void RunReader::Impl::fill_details(std::vector<Run>& runs) const {
  if (runs.empty()) return;
  std::map<std::string, Run*> by_id;
  for (Run& run : runs) by_id[run.run_id] = &run;
  const bool one = runs.size() == 1;
  const std::string where = one ? " WHERE run_id = ?1" : "";
  Statement params(db, "SELECT run_id, key, value FROM params" + where);
  Statement tags(db, "SELECT run_id, key, value FROM tags" + where);
  for (Statement* stmt : {&params, &tags}) {
    if (one) stmt->bind_text(1, runs.front().run_id);
    while (stmt->step()) {
      auto it = by_id.find(stmt->column_text(0));
      if (it == by_id.end()) continue;
      auto& target = stmt == &params ? it->second->params : it->second->tags;
      target[stmt->column_text(1)] = stmt->column_text(2);
    }
  }
  Statement latest(db, "SELECT run_id, key, step, value, is_nan FROM latest_metrics" + where);
  if (one) latest.bind_text(1, runs.front().run_id);
  while (latest.step()) {
    auto it = by_id.find(latest.column_text(0));
    if (it == by_id.end()) continue;
    const std::string key = latest.column_text(1);
    it->second->latest_steps[key] = latest.column_int(2);
    it->second->latest_metrics[key] = value_of(latest, 3, 4);
  }
}

RunReader::RunReader(const std::string& db_path) : impl_(std::make_unique<Impl>(db_path)) {}

RunReader::~RunReader() = default;

std::vector<Run> RunReader::list_runs() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Transaction txn(impl_->db, "BEGIN");
  std::vector<Run> runs;
  Statement stmt(impl_->db, run_columns(impl_->db.pragma_int("user_version")) +
                                "ORDER BY r.start_ms DESC, r.run_id");
  while (stmt.step()) runs.push_back(run_from_row(stmt));
  impl_->fill_details(runs);
  txn.commit();
  return runs;
}

std::optional<Run> RunReader::find_run(const std::string& id_or_prefix) const {
  if (id_or_prefix.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Transaction txn(impl_->db, "BEGIN");
  Statement stmt(impl_->db, run_columns(impl_->db.pragma_int("user_version")) +
                                "WHERE substr(r.run_id, 1, length(?1)) = ?1 "
                                "ORDER BY r.run_id = ?1 DESC LIMIT 2");
  stmt.bind_text(1, id_or_prefix);
  std::vector<Run> runs;
  while (stmt.step()) runs.push_back(run_from_row(stmt));
  if (runs.empty()) return std::nullopt;
  if (runs.size() > 1 && runs.front().run_id != id_or_prefix) {
    throw StoreError(detail::concat("run id prefix '", id_or_prefix, "' matches several runs in '",
                                    impl_->path, "'; give more digits"));
  }
  runs.resize(1);
  impl_->fill_details(runs);
  txn.commit();
  return runs.front();
}

std::vector<std::string> RunReader::metric_keys(const std::string& run_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db, "SELECT key FROM latest_metrics WHERE run_id = ?1 ORDER BY key");
  stmt.bind_text(1, run_id);
  std::vector<std::string> keys;
  while (stmt.step()) keys.push_back(stmt.column_text(0));
  return keys;
}

MetricSeries RunReader::metric_series(const std::string& run_id,
                                      const std::string& key,
                                      int64_t after_step) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db,
                 "SELECT step, value, is_nan, wall_ms FROM metrics "
                 "WHERE run_id = ?1 AND key = ?2 AND step > ?3 ORDER BY step");
  stmt.bind_text(1, run_id).bind_text(2, key).bind_int(3, after_step);
  MetricSeries series;
  series.key = key;
  while (stmt.step()) {
    series.steps.push_back(stmt.column_int(0));
    series.values.push_back(value_of(stmt, 1, 2));
    series.wall_ms.push_back(stmt.column_int(3));
  }
  return series;
}

BucketedSeries RunReader::metric_buckets(const std::string& run_id,
                                         const std::string& key,
                                         int64_t lo,
                                         int64_t hi,
                                         int64_t columns) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  // Finite rows only in first/last/min/max/sum (value is NULL for NaN; ±inf fail the bound).
  // Column formula: bucket_column() in core/series/series_buckets.cpp.
  Statement stmt(
      impl_->db,
      "WITH rows AS ("
      "  SELECT step, value, (step - ?3) * ?5 / (?4 - ?3 + 1) AS col,"
      "         (value IS NOT NULL AND abs(value) <= 1.7976931348623157e308) AS ok"
      "  FROM metrics WHERE run_id = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4),"
      " cols AS ("
      "  SELECT col, MIN(step) AS s0, MAX(step) AS s1,"
      "         MIN(CASE WHEN ok THEN step END) AS f0, MAX(CASE WHEN ok THEN step END) AS f1,"
      "         MIN(CASE WHEN ok THEN value END) AS lo, MAX(CASE WHEN ok THEN value END) AS hi,"
      "         TOTAL(CASE WHEN ok THEN value END) AS total, SUM(ok) AS n, SUM(NOT ok) AS gaps"
      "  FROM rows GROUP BY col)"
      " SELECT s0, s1, f0, f1, lo, hi, total, n, gaps,"
      "  (SELECT value FROM metrics WHERE run_id = ?1 AND key = ?2 AND step = f0),"
      "  (SELECT value FROM metrics WHERE run_id = ?1 AND key = ?2 AND step = f1)"
      " FROM cols ORDER BY col");
  const int64_t span_hi = std::max(hi, lo);
  stmt.bind_text(1, run_id)
      .bind_text(2, key)
      .bind_int(3, lo)
      .bind_int(4, span_hi)
      .bind_int(5, std::max<int64_t>(1, columns));
  BucketedSeries out;
  while (stmt.step()) {
    SeriesBucket b;
    b.count = stmt.column_int(7);
    b.gaps = stmt.column_int(8);
    if (b.count > 0) {
      b.first_step = stmt.column_int(2);
      b.last_step = stmt.column_int(3);
      b.min = stmt.column_double(4);
      b.max = stmt.column_double(5);
      b.sum = stmt.column_double(6);
      b.first = stmt.column_double(9);
      b.last = stmt.column_double(10);
    } else {
      b.first_step = stmt.column_int(0);
      b.last_step = stmt.column_int(1);
    }
    out.push_back(b);
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> RunReader::metric_step_range(
    const std::string& run_id, const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db,
                 "SELECT MIN(step), MAX(step) FROM metrics WHERE run_id = ?1 AND key = ?2");
  stmt.bind_text(1, run_id).bind_text(2, key);
  if (!stmt.step() || stmt.column_is_null(0)) return std::nullopt;
  return std::make_pair(stmt.column_int(0), stmt.column_int(1));
}

std::vector<std::string> RunReader::matrix_keys(const std::string& run_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db, "SELECT DISTINCT key FROM matrices WHERE run_id = ?1 ORDER BY key");
  stmt.bind_text(1, run_id);
  std::vector<std::string> keys;
  while (stmt.step()) keys.push_back(stmt.column_text(0));
  return keys;
}

std::vector<int64_t> RunReader::matrix_steps(const std::string& run_id,
                                             const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db,
                 "SELECT step FROM matrices WHERE run_id = ?1 AND key = ?2 ORDER BY step");
  stmt.bind_text(1, run_id).bind_text(2, key);
  std::vector<int64_t> steps;
  while (stmt.step()) steps.push_back(stmt.column_int(0));
  return steps;
}

std::optional<MatrixRecord> RunReader::matrix(const std::string& run_id,
                                              const std::string& key,
                                              int64_t step) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db,
                 std::string(kMatrixColumns) + "WHERE run_id = ?1 AND key = ?2 AND step = ?3");
  stmt.bind_text(1, run_id).bind_text(2, key).bind_int(3, step);
  if (!stmt.step()) return std::nullopt;
  return matrix_from_row(stmt);
}

std::optional<MatrixRecord> RunReader::matrix_at_or_before(const std::string& run_id,
                                                           const std::string& key,
                                                           int64_t step) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement stmt(impl_->db, std::string(kMatrixColumns) +
                                "WHERE run_id = ?1 AND key = ?2 AND step <= ?3 "
                                "ORDER BY step DESC LIMIT 1");
  stmt.bind_text(1, run_id).bind_text(2, key);
  stmt.bind_int(3, step < 0 ? std::numeric_limits<int64_t>::max() : step);
  if (!stmt.step()) return std::nullopt;
  return matrix_from_row(stmt);
}

std::vector<Artifact> RunReader::artifacts(const std::string& run_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<Artifact> result;
  if (impl_->db.pragma_int("user_version") < kArtifactsVersion) return result;  // older store
  Statement stmt(impl_->db,
                 "SELECT kind, path, step, bytes FROM artifacts WHERE run_id = ?1 "
                 "ORDER BY step, path");
  stmt.bind_text(1, run_id);
  while (stmt.step()) {
    result.push_back(
        {stmt.column_text(0), stmt.column_text(1), stmt.column_int(2), stmt.column_int(3)});
  }
  return result;
}

int64_t RunReader::data_version() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->db.pragma_int("data_version");
}

const std::string& RunReader::path() const { return impl_->path; }

}  // namespace apportion
