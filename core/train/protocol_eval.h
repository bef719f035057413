// SPDX-License-Identifier: GPL-3.0-or-later
// Scores an eval split under an evaluation protocol (core/scoring/protocol.h,
// ../shared/BENCHMARKS.md): generation protocols (greedy or beam, then the text rule of
// core/scoring/answer_rules.h), mc_loglik and label_next_token (core/train/choice_scoring.h).
// teacher_forced stays with evaluate_examples (core/train/evaluator.h). Every example yields
// an auditable Prediction.
//
// Intended usage:
//   ProtocolSpec spec = parse_protocol(j, "data.datasets[0].protocol");
//   ProtocolEvalResult r = evaluate_protocol(model, *tok, eval_split, spec, train_split,
//                                            /*fewshot_seed=*/1234, /*max_seq_len=*/512,
//                                            /*batch_size=*/8);
//   for (Prediction& p : r.predictions) p.split = "test";
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/data/task_suite.h"
#include "core/model/transformer_lm.h"
#include "core/scoring/protocol.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/generate_eval.h"

namespace apportion {

struct ProtocolEvalResult {
  double accuracy = 0.0;  ///< correct / examples (mc_loglik: acc); 0 without examples
  double acc_norm = std::numeric_limits<double>::quiet_NaN();  ///< mc_loglik only, else NaN
  int64_t parse_failures = 0;  ///< generation protocols: outputs the rule could not parse
  int64_t examples = 0;
  std::vector<Prediction> predictions;  ///< in the order of the examples
};

/// Scores `examples` in order, eval mode, no gradients (the training flag is restored).
///  - Generation (greedy_first_match, mola_regex, gsm8k_hash, math_answer_is: greedy;
///    beam_first_match: beam search with spec.num_beams): max_new_tokens =
///    protocol_max_new_tokens(spec); prompts (with BOS) cut from the left to
///    max_seq_len − max_new_tokens (a leading BOS kept); stop ids: the model config's EOS ids and
///    the tokenizer's. Outputs are decoded without special tokens, except math_answer_is which
///    keeps them; there a "</s>" in the pattern stands for the tokenizer's EOS text (e.g.
///    "<|end_of_text|>"), so GuiLoMo's LLaMA-2 pattern works with any tokenizer. Gold:
///    gold_answer(ex, pattern).
///  - mc_loglik: ex.choices and ex.gold_index are required (DataError naming the task);
///    accuracy is acc, acc_norm the per-byte variant.
///  - label_next_token: the label with the largest next-token logit; gold = the label at
///    ex.gold_index when set, else ex.gold (else ex.answer), both trimmed.
/// Few-shot (spec.num_fewshot > 0): see fewshot_prompt. batch_size: prompts per generate call,
/// sequences per forward for the likelihood protocols. Throws ConfigError for an invalid spec or
/// teacher_forced.
ProtocolEvalResult evaluate_protocol(TransformerLM& model,
                                     const Tokenizer& tok,
                                     const std::vector<Example>& examples,
                                     const ProtocolSpec& spec,
                                     const std::vector<Example>& fewshot_pool,
                                     uint64_t fewshot_seed,
                                     int max_seq_len,
                                     int batch_size);

/// The prompt fed for example `index` of a split: spec.num_fewshot shots drawn from the pool
/// (fewshot_indices, seeded by fewshot_seed and the index; pool examples whose prompt equals
/// ex.prompt are never drawn), each rendered as prompt + target, where the target is the gold
/// choice for a pool example with choices (lm-eval's doc_to_target) and its answer otherwise,
/// then joined with "\n\n" before ex.prompt (join_fewshot). No shots: ex.prompt.
std::string fewshot_prompt(const Example& ex,
                           size_t index,
                           const ProtocolSpec& spec,
                           const std::vector<Example>& fewshot_pool,
                           uint64_t fewshot_seed);

}  // namespace apportion
