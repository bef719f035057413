// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluation: answer-token loss and per-task exact-match accuracy on the eval split. Accuracy
// is teacher-forced: an example counts as correct when the argmax at every answer position
// (and the final EOS) equals the target — exactly when greedy decoding would produce the
// answer, at one forward pass per batch. Pretraining evaluates the loss on held-out documents.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/data/batcher.h"
#include "core/data/task_suite.h"
#include "core/model/transformer_lm.h"

namespace apportion {

struct EvalResult {
  double loss = 0.0;                            ///< mean answer-token cross-entropy
  double accuracy = 0.0;                        ///< mean of the per-task accuracies
  std::map<std::string, double> task_accuracy;  ///< task → exact-match accuracy
};

/// Evaluates examples in fixed order (no randomness; dropout off during the call).
EvalResult evaluate_examples(TransformerLM& model,
                             const std::vector<Example>& examples,
                             const Batcher& batcher,
                             int batch_size);

/// Mean next-token loss over documents (pretraining).
double evaluate_documents(TransformerLM& model,
                          const std::vector<std::string>& documents,
                          const Batcher& batcher,
                          int batch_size);

}  // namespace apportion
