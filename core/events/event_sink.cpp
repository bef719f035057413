// SPDX-License-Identifier: GPL-3.0-or-later
// FanoutSink: forwards every event to each of its sinks in order.
#include "core/events/event_sink.h"

namespace apportion {

void FanoutSink::on_run_started(const RunStarted& e) {
  for (auto* s : sinks_) s->on_run_started(e);
}
void FanoutSink::on_metric(const MetricPoint& e) {
  for (auto* s : sinks_) s->on_metric(e);
}
void FanoutSink::on_matrix(const MatrixPoint& e) {
  for (auto* s : sinks_) s->on_matrix(e);
}
void FanoutSink::on_log(const LogLine& e) {
  for (auto* s : sinks_) s->on_log(e);
}
void FanoutSink::on_tag(const TagSet& e) {
  for (auto* s : sinks_) s->on_tag(e);
}

void FanoutSink::on_artifact(const ArtifactWritten& e) {
  for (auto* s : sinks_) s->on_artifact(e);
}
void FanoutSink::on_progress(const ProgressPoint& e) {
  for (auto* s : sinks_) s->on_progress(e);
}
void FanoutSink::on_run_finished(const RunFinished& e) {
  for (auto* s : sinks_) s->on_run_finished(e);
}
void FanoutSink::flush() {
  for (auto* s : sinks_) s->flush();
}

}  // namespace apportion
