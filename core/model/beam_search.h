// SPDX-License-Identifier: GPL-3.0-or-later
// Beam search for a batch of prompts, following Hugging Face transformers' BeamSearchScorer as
// LLM-Adapters ran it (protocol B: num_beams 4, no sampling, length_penalty 1.0,
// early_stopping False, num_return_sequences 1). Same conventions as generate_greedy: left
// padding, a KV cache, token ids in and out.
//
// Intended usage:
//   GenerationOptions opt;
//   opt.max_new_tokens = 32;
//   GenerationResult r = generate_beam(model, {{1, 15, 7}, {1, 9}}, opt, /*num_beams=*/4);
//   // r.tokens[i]: the best hypothesis's new tokens for prompt i (its EOS included if it ended)
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/generation.h"

namespace apportion {

class TransformerLM;

/// Beam search in eval mode without gradients (the training flag is restored). Per step: the
/// log_softmax of each beam's next-token logits plus the beam's running score, the top
/// 2·num_beams candidates over all beams of a prompt; a candidate ending in an EOS id (ranked
/// within the first num_beams) becomes a finished hypothesis, the others refill the beams.
/// Scoring follows transformers 4.29-4.35 (LLM-Adapters installed transformers from git in 2023;
/// 4.36+ divide by the generated length instead): a finished hypothesis scores
/// sum_logprobs / length^length_penalty with length = the prompt's tokens plus the generated
/// ones, its EOS excluded (HF: `hyp.shape[-1]`, the input_ids row before the EOS is appended);
/// a prompt is done when num_beams hypotheses exist and the worst of them is >= the best
/// running candidate's sum / (length + 1)^length_penalty (early_stopping False). At
/// max_new_tokens the running beams join the hypotheses at their full length and the best one
/// is returned. HF's row length also counts the left padding of a batched call, so its scores
/// depend on the batch; ours use each prompt's own length (HF at batch size 1). num_beams 1 is
/// generate_greedy (as HF's generate). Throws ModelError for an empty prompt, an id outside
/// the vocabulary or num_beams < 1.
GenerationResult generate_beam(TransformerLM& model,
                               const std::vector<std::vector<int64_t>>& prompts,
                               const GenerationOptions& options,
                               int num_beams,
                               double length_penalty = 1.0);

}  // namespace apportion
