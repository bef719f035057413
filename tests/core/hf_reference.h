// SPDX-License-Identifier: GPL-3.0-or-later
// Test-side stand-ins for Hugging Face (no Python/transformers on the build machines): tiny
// config.json objects for each supported architecture, their checkpoint key layout written out
// from the HF modeling files' module trees, random weights and sharded writers, and a naive
// float64 reference decoder that follows the HF modeling code step by step (per-head,
// per-token loops; MoE routing per token). None of it uses core/model, so the backbone is
// compared against an independent reading of the HF semantics.
// Legend: T time, C hidden, V vocab, N tokens, E experts.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion::test {

using TensorMap = std::map<std::string, at::Tensor>;

/// Architectures the fixtures cover: llama, mistral, qwen2, mixtral, olmoe, qwen2_moe.
const std::vector<std::string>& fixture_architectures();

/// A tiny config.json (2 layers, C 32, V 64; MoE: 4 experts, top-2) exercising each
/// architecture's features (llama: head_dim 16, biases, llama3 RoPE; mistral: window 4; qwen2:
/// tied, q/k/v biases; olmoe: clip_qkv; qwen2_moe: shared expert, dense layer 1).
nlohmann::json tiny_hf_config(const std::string& arch);

/// Checkpoint key -> shape, as HF's modeling_<arch>.py names its parameters.
std::map<std::string, std::vector<int64_t>> hf_layout(const nlohmann::json& config);

/// Seeded random float32 weights for hf_layout(config).
TensorMap random_weights(const nlohmann::json& config, uint64_t seed);

/// Writes dir/config.json and the weights: model.safetensors, or `shards` files
/// model-0000i-of-0000n.safetensors plus model.safetensors.index.json.
void write_checkpoint(const std::string& dir,
                      const nlohmann::json& config,
                      const TensorMap& weights,
                      int shards = 1);

/// inv_freq [D/2] (float64) from the config's rope_theta / rope_scaling, HF formulas.
at::Tensor reference_inv_freq(const nlohmann::json& config);

/// One MoE block for the layer with key prefix (e.g. "model.layers.0.block_sparse_moe."),
/// per token: softmax, top-k, optional renormalisation, weighted expert sum, shared expert.
/// x [N, C] -> [N, C] (float64).
at::Tensor reference_moe(const nlohmann::json& config,
                         const TensorMap& w,
                         const std::string& prefix,
                         const at::Tensor& x);

/// Logits [T, V] (float64) of one unpadded sequence.
at::Tensor reference_forward(const nlohmann::json& config,
                             const TensorMap& w,
                             const std::vector<int64_t>& ids);

}  // namespace apportion::test
