// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluation of a "datasets" suite at one step: every eval split scored with its own protocol
// (teacher-forced, generation + regex, beam, label scoring, log-likelihood, GSM8K, math), the
// metrics logged per task and split (eval/acc/<task> for test splits, val/acc/<task> for
// validation splits, acc_norm and parse failures; store_keys.h), and every prediction written to
// predictions-step<N>.jsonl with its task, split and protocol id.
//
// Intended usage:
//   SuiteEvaluator ev(suite, tokenizer, eval_batcher, options, sink);
//   EvalScores s = ev.evaluate(model, step);   // logs metrics, writes predictions
//   ev.tag_protocols();                        // protocol/<task>, split/<task> tags (run start)
#pragma once

#include <cstdint>
#include <string>

#include "core/data/batcher.h"
#include "core/data/dataset_suite.h"
#include "core/events/event_sink.h"
#include "core/model/transformer_lm.h"
#include "core/train/eval_report.h"

namespace apportion {

struct SuiteEvalOptions {
  int batch_size = 16;
  int max_seq_len = 256;
  uint64_t fewshot_seed = 1;
  std::string run_dir;
};

class SuiteEvaluator {
 public:
  SuiteEvaluator(const DatasetSuite& suite,
                 const Tokenizer& tokenizer,
                 const Batcher& eval_batcher,
                 SuiteEvalOptions options,
                 EventSink& sink);
  EvalScores evaluate(TransformerLM& model, int64_t step);
  void tag_protocols() const;

 private:
  const DatasetSuite& suite_;
  const Tokenizer& tokenizer_;
  const Batcher& eval_batcher_;
  SuiteEvalOptions options_;
  EventSink& sink_;
};

}  // namespace apportion
