// SPDX-License-Identifier: GPL-3.0-or-later
// Plain event structs the trainer emits: run start, scalar metrics, matrix records, log lines
// and the run's end. Sinks (run store, stdout JSON lines, tests) consume them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace apportion {

/// Lifecycle status of a run, as stored and printed ("FINISHED" …) at the boundaries.
enum class RunStatus {
  Scheduled,
  Running,
  Finished,
  Failed,
  Killed,
};

/// "SCHEDULED", "RUNNING", … for the store and the protocol.
const char* to_string(RunStatus status);
/// Parses the string form; throws apportion::Error on an unknown value.
RunStatus run_status_from_string(const std::string& text);

/// A run is about to start (the store creates or reopens its row).
struct RunStarted {
  std::string run_id;  ///< 32-hex UUID, fixed by the caller
  std::string experiment_name;
  std::string run_name;
  std::string config_json;        ///< the full config, verbatim
  std::string allocation_method;  ///< "lora", "uniform", "mola", "pretrain", …
  uint64_t seed = 0;
  std::string device;
  std::string torch_version;
  std::map<std::string, std::string> params;  ///< flattened config (dotted keys)
  std::map<std::string, std::string> tags;    ///< initial tags (e.g. "kind": "finetune")
  bool resumed = false;                       ///< true when continuing an existing run row
};

/// One scalar value of one series at one step (train/loss, eval/acc/lookup, …).
struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0.0;  ///< may be NaN or ±inf
  int64_t wall_ms = 0;
};

/// Element type of a matrix record.
enum class MatrixDType {
  F32,
  I32,
};

/// A whole per-layer/per-expert matrix at one step (routing load, expert counts, ranks).
struct MatrixPoint {
  std::string key;  ///< e.g. "moe/load_fraction"
  int64_t step = 0;
  std::vector<int64_t> shape;  ///< e.g. {layers, modules, experts}
  std::string axes;            ///< e.g. "layer,module,expert"
  MatrixDType dtype = MatrixDType::F32;
  std::vector<float> f32;    ///< row-major data when dtype == F32 (NaN = padding)
  std::vector<int32_t> i32;  ///< row-major data when dtype == I32 (-1 = padding)
  int64_t wall_ms = 0;
};

/// A human-readable log line (goes to stderr and the GUI's log panel).
struct LogLine {
  std::string level;  ///< "info", "warning", "error"
  std::string text;
};

/// A tag set or changed while the run goes on (e.g. a search's found allocation).
struct TagSet {
  std::string key;
  std::string value;
};

/// A file the run wrote (checkpoint, adapter export), path relative to the run directory.
struct ArtifactWritten {
  std::string kind;  ///< "checkpoint", "adapter", "backbone"
  std::string path;
  int64_t step = 0;
  int64_t bytes = 0;
};

/// Progress of the training loop (for progress bars; not stored as a metric).
struct ProgressPoint {
  int64_t step = 0;
  int64_t total_steps = 0;
  double elapsed_s = 0.0;          ///< since this process started training
  int64_t steps_this_session = 0;  ///< steps done by this process (for the ETA after a resume)
  double loss = 0.0;               ///< training loss of this step
};

/// The run ended.
struct RunFinished {
  RunStatus status = RunStatus::Finished;
  std::string message;  ///< error text for FAILED, reason for KILLED
  int64_t last_step = 0;
};

}  // namespace apportion
