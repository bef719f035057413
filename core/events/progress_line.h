// SPDX-License-Identifier: GPL-3.0-or-later
// The stdout protocol between `apportion train` and the GUI: one JSON object per line,
// {"v":1,"event":...}. The child writes it, the GUI's RunLauncher parses it with this code.
//
// Events: started {run_id, db, pid}; committed {run_id, step}; progress {run_id, step, total,
// elapsed_s}; status {run_id, status, message, exit_code} (last line before exit).
// Readers ignore unknown events and fields; malformed lines parse to std::nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace apportion {

/// Protocol version written in every line's "v".
inline constexpr int kProgressProtocolVersion = 1;

/// One parsed protocol line. Fields not used by an event keep their defaults.
struct ProgressLine {
  std::string event;  ///< "started", "committed", "progress", "status", or unknown
  std::string run_id;
  std::string db;          ///< started: database path
  int64_t pid = 0;         ///< started
  int64_t step = 0;        ///< committed, progress
  int64_t total = 0;       ///< progress: total steps
  double elapsed_s = 0.0;  ///< progress
  std::string status;      ///< status: FINISHED, FAILED, KILLED
  std::string message;     ///< status
  int exit_code = 0;       ///< status
  int version = kProgressProtocolVersion;
};

/// Serialises a line (no trailing newline).
std::string format_progress_line(const ProgressLine& line);
/// Parses one line; std::nullopt when it is not a JSON object with "v" and "event".
std::optional<ProgressLine> parse_progress_line(const std::string& text);

}  // namespace apportion
