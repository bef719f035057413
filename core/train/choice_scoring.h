// SPDX-License-Identifier: GPL-3.0-or-later
// Likelihood scoring of fixed answers (../shared/BENCHMARKS.md): (d) lm-evaluation-harness
// multiple choice, the summed log-probability of each choice's continuation tokens (acc) and
// that sum divided by the choice's byte length (acc_norm); (c) MoE-PEFT next-token label
// scoring, the logit of each label's first token at the prompt's last position. Batched (right
// padding, one forward per batch), eval mode, no gradients.
//
// Intended usage:
//   std::vector<ChoiceScores> s = loglik_choices(model, tok, {{"Q: 2+2=?\nAnswer:", {" 4", " 5"}}},
//                                                /*batch_size=*/16, /*max_seq_len=*/512);
//   int acc_pick = s[0].best, acc_norm_pick = s[0].best_norm;
//   std::vector<LabelScores> l = label_next_token(model, tok, {"…\nAnswer:"}, {"A", "B"});
//   int label = l[0].best;  // index into the labels
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model/transformer_lm.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

/// One multiple-choice question: a context and the continuations scored after it.
struct ChoiceRequest {
  std::string context;
  std::vector<std::string> choices;
};

struct ChoiceScores {
  std::vector<double> loglik;       ///< [choice] summed log-prob of the continuation tokens
  std::vector<double> loglik_norm;  ///< [choice] loglik / the choice's byte length
  std::vector<int64_t> num_tokens;  ///< [choice] continuation tokens scored
  int best = -1;                    ///< argmax of loglik (acc); ties → lowest index
  int best_norm = -1;               ///< argmax of loglik_norm (acc_norm); ties → lowest index
};

/// Token ids of (context, continuation) as lm-eval's _encode_pair makes them: trailing
/// whitespace of the context moves to the front of the continuation; the context is encoded
/// WITH special tokens (BOS, where the tokenizer adds one); the continuation is the tail of
/// encode(context + continuation) beyond encode(context) when that encoding starts with the
/// context's tokens, else (a merge across the boundary) encode(continuation) without special
/// tokens, appended. An empty context becomes BOS (else EOS), lm-eval's prefix token.
/// Throws DataError for an empty continuation.
std::pair<std::vector<int64_t>, std::vector<int64_t>> encode_context_continuation(
    const Tokenizer& tokenizer, const std::string& context, const std::string& continuation);

/// Scores every choice of every request. The normaliser is the byte length of the choice as
/// given (lm-eval: len() of the choice text, in characters, without its " " target delimiter;
/// equal for ASCII choices that carry no delimiter). Sequences longer than max_seq_len (> 0)
/// lose their oldest context tokens (a leading BOS is kept); the continuation is never cut.
/// batch_size counts (context, choice) sequences per forward.
std::vector<ChoiceScores> loglik_choices(TransformerLM& model,
                                         const Tokenizer& tokenizer,
                                         const std::vector<ChoiceRequest>& requests,
                                         int batch_size = 16,
                                         int max_seq_len = 0);

/// One request, unbounded length.
ChoiceScores loglik_choices(TransformerLM& model,
                            const Tokenizer& tokenizer,
                            const std::string& context,
                            const std::vector<std::string>& choices);

/// The first token of encode(label, no special tokens) for each label. Throws ConfigError
/// naming both labels when two share a first token, and for a label that encodes to nothing.
std::vector<int64_t> label_first_tokens(const Tokenizer& tokenizer,
                                        const std::vector<std::string>& labels);

struct LabelScores {
  std::vector<double> logits;  ///< [label] next-token logit of the label's first token
  int best = -1;               ///< argmax; ties → lowest index
};

/// For each prompt (encoded with special tokens, cut from the left to max_seq_len when > 0,
/// keeping a leading BOS): the logits at its last position for the labels' first tokens.
std::vector<LabelScores> label_next_token(TransformerLM& model,
                                          const Tokenizer& tokenizer,
                                          const std::vector<std::string>& prompts,
                                          const std::vector<std::string>& labels,
                                          int batch_size = 16,
                                          int max_seq_len = 0);

}  // namespace apportion
