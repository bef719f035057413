// SPDX-License-Identifier: GPL-3.0-or-later
// Console output of `apportion train`: StdoutJsonSink writes the progress-line protocol (for the
// GUI and scripts), TerminalSink draws a progress bar with ETA on a terminal; both send
// human-readable logs to stderr. Thread-safe: the store's commit listener prints from its thread.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "core/events/event_sink.h"

namespace apportion::cli {

/// One JSON object per line on stdout (protocol in core/events/progress_line.h).
class StdoutJsonSink : public EventSink {
 public:
  StdoutJsonSink(std::string run_id, std::string db_path);
  void on_run_started(const RunStarted& e) override;
  void on_progress(const ProgressPoint& e) override;
  void on_log(const LogLine& e) override;
  void on_metric(const MetricPoint& e) override;
  /// Printed by the store's commit listener (any thread).
  void committed(int64_t step);
  /// The final line before exit.
  void status(RunStatus status, const std::string& message, int exit_code);

 private:
  void print(const std::string& line);
  std::mutex mutex_;
  std::string run_id_, db_path_;
  std::chrono::steady_clock::time_point last_progress_{};
  std::chrono::steady_clock::time_point last_committed_{};
  int64_t last_committed_step_ = -1;
};

/// A progress bar with loss and ETA on stdout (a terminal), logs on stderr.
class TerminalSink : public EventSink {
 public:
  void on_run_started(const RunStarted& e) override;
  void on_progress(const ProgressPoint& e) override;
  void on_log(const LogLine& e) override;
  void on_metric(const MetricPoint& e) override;
  void on_run_finished(const RunFinished& e) override;

 private:
  std::mutex mutex_;
  std::string last_eval_;
  bool bar_drawn_ = false;
};

/// Formats seconds as H:MM:SS or M:SS.
std::string format_duration(double seconds);

}  // namespace apportion::cli
