// SPDX-License-Identifier: GPL-3.0-or-later
// Generation-based evaluation (METHODS.md §2.4, §5): greedy decoding with a KV cache, then the
// answer regex's group 1 is compared exactly with the gold answer (the example's `gold`, else
// the regex applied to its reference output, else the whole output trimmed). A failed parse
// counts as wrong. Every prediction is kept, so failures can be audited. The protocol-aware
// entry point is core/train/protocol_eval.h; this file also holds the Prediction record both
// write.
//
// Intended usage:
//   GenerateEvalOptions o;
//   o.answer_pattern = "The answer is ([A-Z])";
//   GenerateEvalResult r = evaluate_generate(model, *tok, suite.eval, o);
//   for (const Prediction& p : r.predictions) { /* p.output, p.extracted, p.gold, p.correct */ }
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/data/task_suite.h"
#include "core/model/transformer_lm.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

/// One scored example, kept so every number can be audited (written to the predictions file).
/// evaluate_generate fills task … correct; evaluate_protocol (protocol_eval.h) fills every field
/// but `split`, which the caller sets.
struct Prediction {
  std::string task;
  std::string prompt;     ///< the prompt as fed (few-shot examples included)
  std::string output;     ///< decoded generation (special tokens skipped, kept for
                          ///< math_answer_is; cut at the protocol's stop strings);
                          ///< mc_loglik / label_next_token: the chosen choice / label
  std::string extracted;  ///< the parsed answer, empty when nothing parsed;
                          ///< mc_loglik: the chosen choice's index (acc)
  std::string gold;       ///< mc_loglik: the gold choice's index
  bool correct = false;   ///< mc_loglik: under acc
  std::string protocol;   ///< protocol id (core/scoring/protocol.h)
  std::string split;      ///< eval split name (set by the caller)
  bool parse_ok = false;  ///< false: a parse failure (counted wrong)
  /// mc_loglik: [choice] summed log-likelihood; label_next_token: [label] next-token logit.
  std::vector<double> scores;
  std::vector<double> scores_norm;  ///< mc_loglik: [choice] log-likelihood per byte
  bool correct_norm = false;        ///< mc_loglik: under acc_norm
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
