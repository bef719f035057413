// SPDX-License-Identifier: GPL-3.0-or-later
// RankSink: the EventSink of a data-parallel rank other than 0. It writes nothing (rank 0 alone
// writes the store, the progress lines and the files) except warnings and errors, which go to
// stderr prefixed "rank N/W:" so a launcher's merged log says who spoke.
//
// Intended usage (app/cli/cmd_train.cpp, ranks ≥ 1):
//   RankSink sink(env.label());
//   Trainer().run(cfg, options, sink, stop);
#pragma once

#include <string>

#include "core/events/event_sink.h"

namespace apportion {

class RankSink : public EventSink {
 public:
  /// `label` is DistEnv::label(), e.g. "rank 1/2".
  explicit RankSink(std::string label) : label_(std::move(label)) {}
  void on_log(const LogLine& e) override;
  void on_run_finished(const RunFinished& e) override;

 private:
  std::string label_;
};

}  // namespace apportion
