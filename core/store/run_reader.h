// SPDX-License-Identifier: GPL-3.0-or-later
// RunReader: read-only queries over a workspace database on its own connection (the GUI,
// `apportion runs/show/export`, tests). Short read transactions; increments by step.
//
// Intended usage:
//   RunReader reader("ws/workspace.sqlite");
//   for (const Run& r : reader.list_runs()) ...
//   MetricSeries s = reader.metric_series(run_id, "train/loss", /*after_step=*/last_seen);
//   if (reader.data_version() != last_version) ...   // another connection committed
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/series/series_buckets.h"
#include "core/store/run_types.h"

namespace apportion {

class RunReader {
 public:
  /// Opens an existing database read-only. Throws StoreError naming the file if it does not
  /// exist, is not SQLite, or has a schema newer than this build knows.
  explicit RunReader(const std::string& db_path);
  ~RunReader();
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  /// All runs, newest first, with params, tags and latest metrics.
  std::vector<Run> list_runs() const;
  /// One run by id or unique id prefix; std::nullopt when none matches.
  std::optional<Run> find_run(const std::string& id_or_prefix) const;
  /// Distinct scalar metric keys of a run, sorted.
  std::vector<std::string> metric_keys(const std::string& run_id) const;
  /// Scalar rows with step > after_step, ascending.
  MetricSeries metric_series(const std::string& run_id,
                             const std::string& key,
                             int64_t after_step = -1) const;
  /// Min/max column buckets of the rows lo ≤ step ≤ hi, computed in SQL (one GROUP BY over
  /// the range plus primary-key lookups of each column's first and last row): a plot reads
  /// ≤ `columns` buckets however long the run. Equal to bucket_minmax() over metric_series().
  BucketedSeries metric_buckets(const std::string& run_id,
                                const std::string& key,
                                int64_t lo,
                                int64_t hi,
                                int64_t columns) const;
  /// First and last step of a series; std::nullopt when it has no row.
  std::optional<std::pair<int64_t, int64_t>> metric_step_range(const std::string& run_id,
                                                               const std::string& key) const;
  /// Distinct matrix keys of a run, sorted.
  std::vector<std::string> matrix_keys(const std::string& run_id) const;
  /// Steps at which a matrix key was recorded, ascending.
  std::vector<int64_t> matrix_steps(const std::string& run_id, const std::string& key) const;
  /// One matrix record (exact step); std::nullopt when absent. Throws StoreError on a blob whose
  /// length does not match its shape and dtype.
  std::optional<MatrixRecord> matrix(const std::string& run_id,
                                     const std::string& key,
                                     int64_t step) const;
  /// The latest matrix record of a key at or before `step` (or the newest if step < 0).
  std::optional<MatrixRecord> matrix_at_or_before(const std::string& run_id,
                                                  const std::string& key,
                                                  int64_t step) const;
  /// Artifacts of a run.
  std::vector<Artifact> artifacts(const std::string& run_id) const;
  /// PRAGMA data_version: changes when another connection commits.
  int64_t data_version() const;
  /// The database path.
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace apportion
