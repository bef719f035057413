// SPDX-License-Identifier: GPL-3.0-or-later
// Value types the run store hands out at its boundary (rows → entities): Run, MetricSeries,
// MatrixSeries. Plain structs; no SQLite, Qt or torch here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/events/training_events.h"

namespace apportion {

/// One row of `runs` plus its tags, params and latest metrics.
struct Run {
  std::string run_id;
  std::string experiment_name;
  std::string name;
  RunStatus status = RunStatus::Running;
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  std::string config_json;
  std::string config_sha;
  std::string allocation_method;
  uint64_t seed = 0;
  std::string device;
  std::string host;
  std::string torch_version;
  /// The process that trains (or last trained) the run and its last heartbeat (schema ≥ 3;
  /// empty/0 for older runs): core/store/liveness.h.
  std::string owner_host;
  int64_t owner_pid = 0;
  std::string owner_start;
  int64_t heartbeat_ms = 0;
  std::map<std::string, std::string> params;  ///< dotted config path → JSON text
  std::map<std::string, std::string> tags;
  std::map<std::string, double> latest_metrics;  ///< key → value (NaN when stored as NaN)
  std::map<std::string, int64_t> latest_steps;   ///< key → step of that latest value
};

/// A scalar series (steps ascending).
struct MetricSeries {
  std::string key;
  std::vector<int64_t> steps;
  std::vector<double> values;  ///< NaN where stored as NaN
  std::vector<int64_t> wall_ms;
};

/// One stored matrix record (decoded). Values are always returned as float (i32 converted;
/// -1 padding of i32 records becomes NaN in `values`, and stays -1 in `i32`).
struct MatrixRecord {
  std::string key;
  int64_t step = 0;
  std::vector<int64_t> shape;
  std::string axes;
  MatrixDType dtype = MatrixDType::F32;
  std::vector<float> values;
  std::vector<int32_t> i32;  ///< raw ints when dtype == I32
  int64_t wall_ms = 0;
};

/// A file recorded in `artifacts` (path relative to the run directory).
struct Artifact {
  std::string kind;
  std::string path;
  int64_t step = 0;
  int64_t bytes = 0;
};

}  // namespace apportion
