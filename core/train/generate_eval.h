// SPDX-License-Identifier: GPL-3.0-or-later
// Generation-based evaluation (METHODS.md §2.4, §5): greedy decoding with a KV cache, then the
// answer regex's group 1 is compared exactly with the gold answer (the example's `gold`, else
// the regex applied to its reference output, else the whole output trimmed). A failed parse
// counts as wrong. Every prediction is kept, so failures can be audited.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/data/task_suite.h"
#include "core/model/transformer_lm.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

struct Prediction {
  std::string task;
  std::string prompt;
  std::string output;     ///< decoded generation (special tokens skipped)
  std::string extracted;  ///< regex group 1, empty when the pattern did not match
  std::string gold;
  bool correct = false;
};

struct GenerateEvalResult {
  double accuracy = 0.0;                        ///< mean of the per-task accuracies
  std::map<std::string, double> task_accuracy;  ///< task → exact-match accuracy
  std::vector<Prediction> predictions;
};

struct GenerateEvalOptions {
  std::string answer_pattern = "The answer is ([A-Z])";
  int max_new_tokens = 32;
  int max_seq_len = 256;  ///< prompts are cut from the left to max_seq_len - max_new_tokens
  int batch_size = 8;
};

/// The gold answer of an example under a pattern (see the file comment).
std::string gold_answer(const Example& ex, const std::string& answer_pattern);

/// Evaluates in fixed order, eval mode, no gradients.
GenerateEvalResult evaluate_generate(TransformerLM& model,
                                     const Tokenizer& tokenizer,
                                     const std::vector<Example>& examples,
                                     const GenerateEvalOptions& options);

}  // namespace apportion
