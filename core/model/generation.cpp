// SPDX-License-Identifier: GPL-3.0-or-later
// Greedy generation (see generation.h). Like HF generate: after a row finishes it is fed the
// pad id with mask 1 (its output is discarded), and the loop ends when every row has finished.
// Legend: B prompts, L longest prompt, V vocab.
#include "core/model/generation.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/common/error.h"
#include "core/model/eval_mode.h"
#include "core/model/transformer_lm.h"

namespace apportion {
GenerationResult generate_greedy(TransformerLM& model,
                                 const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options) {
  GenerationResult result;
  const auto b = static_cast<int64_t>(prompts.size());
  result.tokens.resize(prompts.size());
  result.stopped_at_eos.assign(prompts.size(), false);
  if (b == 0 || options.max_new_tokens <= 0) return result;

  const ModelConfig& cfg = model->config();
  std::vector<int64_t> eos = options.eos_token_ids;
  if (eos.empty()) {
    for (int id : cfg.eos_token_ids()) eos.push_back(id);
  }
  const int64_t pad = options.pad_token_id >= 0 ? options.pad_token_id
                      : cfg.pad_token_id >= 0   ? cfg.pad_token_id
                                                : 0;
  size_t longest = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    AP_CHECK_AS(ModelError, !prompts[i].empty(), "generate: prompt ", i,
                " is empty; give at least one token (e.g. BOS)");
    for (int64_t id : prompts[i]) {
      AP_CHECK_AS(ModelError, id >= 0 && id < cfg.vocab_size, "generate: prompt ", i,
                  " has token id ", id, " outside the vocabulary (vocab_size ", cfg.vocab_size,
                  ")");
    }
    longest = std::max(longest, prompts[i].size());
  }
  const auto l = static_cast<int64_t>(longest);
  auto ids = torch::full({b, l}, pad, torch::kInt64);  // [B, L], left padded
  auto mask = torch::zeros({b, l}, torch::kInt64);     // [B, L]
  for (int64_t i = 0; i < b; ++i) {
    const auto& p = prompts[static_cast<size_t>(i)];
    const auto start = l - static_cast<int64_t>(p.size());
    ids[i].narrow(0, start, static_cast<int64_t>(p.size())).copy_(torch::tensor(p, torch::kInt64));
    mask[i].narrow(0, start, static_cast<int64_t>(p.size())).fill_(1);
  }
  const auto device = model->parameters().front().device();
  ids = ids.to(device);
  mask = mask.to(device);

  EvalMode eval_mode(model);
  torch::NoGradGuard no_grad;
  KVCache cache;
  std::vector<bool> finished(prompts.size(), false);
  torch::Tensor step_ids = ids, step_mask = mask;
  for (int step = 0; step < options.max_new_tokens; ++step) {
    torch::Tensor logits;
    if (options.use_cache) {
      logits = model->forward(step_ids, step_mask, &cache);  // [B, T, V]
    } else {
      logits = model->forward(ids, mask);  // [B, L + step, V]
    }
    auto next = logits.select(/*dim=*/1, logits.size(1) - 1).argmax(/*dim=*/-1).to(torch::kCPU);
    auto next_acc = next.accessor<int64_t, 1>();
    bool all_done = true;
    for (int64_t i = 0; i < b; ++i) {
      const auto r = static_cast<size_t>(i);
      if (finished[r]) {
        next_acc[i] = pad;
        continue;
      }
      result.tokens[r].push_back(next_acc[i]);
      if (std::find(eos.begin(), eos.end(), next_acc[i]) != eos.end()) {
        finished[r] = true;
        result.stopped_at_eos[r] = true;
      } else {
        all_done = false;
      }
    }
    if (all_done) break;
    step_ids = next.view({b, 1}).to(device);  // [B, 1]
    step_mask = torch::ones({b, 1}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    ids = torch::cat({ids, step_ids}, /*dim=*/1);
    mask = torch::cat({mask, step_mask}, /*dim=*/1);
  }
  return result;
}

}  // namespace apportion
