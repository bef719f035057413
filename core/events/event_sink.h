// SPDX-License-Identifier: GPL-3.0-or-later
// EventSink: the observer the trainer reports to (one virtual per event), and FanoutSink,
// which forwards every event to several sinks (run store + stdout JSON lines in `apportion train`).
#pragma once

#include <vector>

#include "core/events/training_events.h"

namespace apportion {

/// Receives training events. Default implementations ignore the event.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_run_started(const RunStarted&) {}
  virtual void on_metric(const MetricPoint&) {}
  virtual void on_matrix(const MatrixPoint&) {}
  virtual void on_log(const LogLine&) {}
  virtual void on_artifact(const ArtifactWritten&) {}
  virtual void on_tag(const TagSet&) {}
  virtual void on_progress(const ProgressPoint&) {}
  virtual void on_run_finished(const RunFinished&) {}
  /// Blocks until everything received so far is durable (store commit); default: nothing.
  virtual void flush() {}
};

/// Forwards each event to every sink, in order. Does not own the sinks.
class FanoutSink : public EventSink {
 public:
  explicit FanoutSink(std::vector<EventSink*> sinks) : sinks_(std::move(sinks)) {}
  void on_run_started(const RunStarted& e) override;
  void on_metric(const MetricPoint& e) override;
  void on_matrix(const MatrixPoint& e) override;
  void on_log(const LogLine& e) override;
  void on_artifact(const ArtifactWritten& e) override;
  void on_tag(const TagSet& e) override;
  void on_progress(const ProgressPoint& e) override;
  void on_run_finished(const RunFinished& e) override;
  void flush() override;

 private:
  std::vector<EventSink*> sinks_;
};

}  // namespace apportion
