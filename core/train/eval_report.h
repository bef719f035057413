// SPDX-License-Identifier: GPL-3.0-or-later
// The reported numbers of a fine-tuning run (train.checkpoint_rule): the evaluation whose test
// accuracies are reported — the last one, the one with the best mean validation accuracy, or
// (only when asked explicitly, and tagged) the best on the test split. The choice survives a
// resume: the best evaluation so far is kept in <run_dir>/report.json. At the end the chosen
// numbers are written as report/* metrics with the rule and step as tags (store_keys.h).
//
// Intended usage:
//   EvalReport report(cfg.train, run_dir);           // reads report.json after a resume
//   bool best = report.observe(step, scores);        // after each evaluation
//   if (best) save "adapters-best.safetensors";      // the chosen checkpoint's adapters
//   report.finish(final_step, sink);                 // report/* metrics and tags
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/config/experiment_config.h"
#include "core/events/event_sink.h"

namespace apportion {

/// One evaluation's scores (test splits and validation splits, per task).
struct EvalScores {
  std::map<std::string, double> test_acc;       ///< task → accuracy on its test split
  std::map<std::string, double> test_acc_norm;  ///< mc_loglik tasks only
  std::map<std::string, double> val_acc;        ///< task → accuracy on its validation split
  double loss = 0.0;                            ///< mean answer-token loss of the test splits
  double test_mean() const;
  double val_mean() const;
};

class EvalReport {
 public:
  EvalReport(const TrainConfig& train, const std::string& run_dir);
  /// Records an evaluation; true when it is now the reported one under a best_* rule (the
  /// caller keeps that checkpoint's adapters). Ties keep the earlier evaluation.
  bool observe(int64_t step, const EvalScores& scores);
  /// Writes report/* metrics at `final_step` and the report tags. No-op without evaluations.
  void finish(int64_t final_step, EventSink& sink) const;
  bool has_best_rule() const { return rule_ != "last"; }

 private:
  void save() const;
  std::string rule_;
  std::string path_;
  bool have_ = false;
  int64_t step_ = 0;
  double criterion_ = 0.0;
  EvalScores chosen_;
};

}  // namespace apportion
