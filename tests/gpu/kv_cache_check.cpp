// SPDX-License-Identifier: GPL-3.0-or-later
// gpu_check kv-cache: greedy generation with the KV cache equals the loop that recomputes the
// whole sequence each step, in float32 and bfloat16 on the given device, with left padding
// (prompts of different lengths in one batch).
#include <torch/torch.h>

#include "core/model/generation.h"
#include "core/model/transformer_lm.h"
#include "tests/gpu/gpu_check.h"

namespace apportion::gpu_check {

nlohmann::json kv_cache_check(const std::string& device_name) {
  const torch::Device device(device_name);
  nlohmann::json out = {{"check", "kv-cache"}, {"device", device_name}, {"ok", true}};
  for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    ModelConfig cfg;  // the default tiny LLaMA (4 layers, 64 wide, GQA), random weights
    torch::manual_seed(3);
    BuildOptions opts;
    opts.dtype = dtype;
    opts.device = device;
    TransformerLM model(cfg, opts);
    // Built row by row: GCC 14 warns (-Warray-bounds, a false positive) on the nested list.
    std::vector<std::vector<int64_t>> prompts(3);
    prompts[0] = {257, 5, 9, 200, 31};
    prompts[1] = {257, 77};
    prompts[2].push_back(257);
    GenerationOptions cached;
    cached.max_new_tokens = 12;
    cached.eos_token_ids = {258};
    GenerationOptions recompute = cached;
    recompute.use_cache = false;
    const auto a = generate_greedy(model, prompts, cached);
    const auto b = generate_greedy(model, prompts, recompute);
    const bool same = a.tokens == b.tokens;
    out["results"].push_back({{"dtype", dtype == torch::kFloat32 ? "float32" : "bfloat16"},
                              {"cached_equals_recomputed", same},
                              {"tokens", a.tokens}});
    out["ok"] = out["ok"].get<bool>() && same;
  }
  return out;
}

}  // namespace apportion::gpu_check
