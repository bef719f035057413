// SPDX-License-Identifier: GPL-3.0-or-later
// JSON-lines and terminal progress output of `apportion train`.
#include "app/cli/console_sinks.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/events/progress_line.h"
#include "core/store/store_keys.h"

namespace apportion::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

StdoutJsonSink::StdoutJsonSink(std::string run_id, std::string db_path)
    : run_id_(std::move(run_id)), db_path_(std::move(db_path)) {}

void StdoutJsonSink::print(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void StdoutJsonSink::on_run_started(const RunStarted&) {
  ProgressLine l;
  l.event = "started";
  l.run_id = run_id_;
  l.db = db_path_;
  l.pid = static_cast<int64_t>(::getpid());
  std::lock_guard<std::mutex> lock(mutex_);
  print(format_progress_line(l));
}

void StdoutJsonSink::on_progress(const ProgressPoint& e) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  // At most ~10 lines a second, but always the last step.
  if (e.step != e.total_steps && now - last_progress_ < std::chrono::milliseconds(100)) return;
  last_progress_ = now;
  ProgressLine l;
  l.event = "progress";
  l.run_id = run_id_;
  l.step = e.step;
  l.total = e.total_steps;
  l.elapsed_s = e.elapsed_s;
  print(format_progress_line(l));
}

void StdoutJsonSink::on_log(const LogLine& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::cerr << "[" << e.level << "] " << e.text << std::endl;
}

void StdoutJsonSink::on_metric(const MetricPoint& e) {
  if (e.key.rfind("eval/", 0) != 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  std::cerr << "[eval] step " << e.step << " " << e.key << " = " << e.value << std::endl;
}

void StdoutJsonSink::committed(int64_t step) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Nudges carry no data: skip a repeat of the same step within 250 ms.
  if (step == last_committed_step_ && now - last_committed_ < std::chrono::milliseconds(250))
    return;
  last_committed_step_ = step;
  last_committed_ = now;
  ProgressLine l;
  l.event = "committed";
  l.run_id = run_id_;
  l.step = step;
  print(format_progress_line(l));
}

void StdoutJsonSink::status(RunStatus status, const std::string& message, int exit_code) {
  ProgressLine l;
  l.event = "status";
  l.run_id = run_id_;
  l.status = to_string(status);
  l.message = message;
  l.exit_code = exit_code;
  std::lock_guard<std::mutex> lock(mutex_);
  print(format_progress_line(l));
}

void TerminalSink::on_run_started(const RunStarted& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::cerr << (e.resumed ? "Resuming run " : "Started run ") << e.run_id << " ("
            << e.allocation_method << ", " << e.tags.at(kTrainableParamsTag)
            << " trainable parameters)" << std::endl;
}

void TerminalSink::on_progress(const ProgressPoint& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  constexpr int kWidth = 30;
  const double fraction = e.total_steps > 0 ? double(e.step) / double(e.total_steps) : 0.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const double per_step = e.steps_this_session > 0 ? e.elapsed_s / e.steps_this_session : 0.0;
  const double eta = per_step * static_cast<double>(e.total_steps - e.step);
  std::ostringstream bar;
  bar << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << e.step
      << "/" << e.total_steps << "  loss " << std::fixed;
  bar.precision(4);
  bar << e.loss << "  " << format_duration(e.elapsed_s) << " elapsed, ETA " << format_duration(eta)
      << last_eval_ << "   ";
  std::cout << bar.str() << std::flush;
  bar_drawn_ = true;
}

void TerminalSink::on_log(const LogLine& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bar_drawn_) std::cout << "\n";
  bar_drawn_ = false;
  std::cerr << e.text << std::endl;
}

void TerminalSink::on_metric(const MetricPoint& e) {
  if (e.key != kMetricEvalAcc &&
      !(e.key == kMetricEvalLoss && last_eval_.find("acc") == std::string::npos)) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream s;
  s.precision(3);
  s << "  " << (e.key == kMetricEvalAcc ? "eval acc " : "eval loss ") << e.value;
  last_eval_ = s.str();
}

void TerminalSink::on_run_finished(const RunFinished& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bar_drawn_) std::cout << "\n";
  bar_drawn_ = false;
  std::cerr << to_string(e.status) << (e.message.empty() ? "" : ": " + e.message) << std::endl;
}

}  // namespace apportion::cli
