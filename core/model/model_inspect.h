// SPDX-License-Identifier: GPL-3.0-or-later
// A summary of an HF model folder without loading weights into a model: architecture and
// shape from config.json (parsed by ModelConfig, so an unsupported model is reported with the
// same error `train` would give), per-layer MoE layout, parameter counts (total, active per
// token, per component) and dtypes from the safetensors headers, the weight files/shards, and
// the tokenizer files present. Used by `apportion inspect` and, through it, the GUI.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace apportion {

/// The summary as JSON. Top-level keys: path, architecture, model_type, num_layers,
/// hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, head_dim,
/// vocab_size, max_position_embeddings, tie_word_embeddings, rope_theta, rope_scaling,
/// torch_dtype, moe, num_experts, top_k, norm_topk_prob, moe_layers, layers (per layer: type,
/// experts, top_k, shared_expert, sliding_window), total_parameters, active_parameters,
/// parameters (per component), dtypes, dtype_parameters, files, sharded, index, total_bytes,
/// tokenizer, tokenizer_files, bos_token_id, eos_token_ids, pad_token_id.
/// Throws ModelError / CheckpointError naming the file and field or tensor.
nlohmann::json inspect_model_dir(const std::string& dir);

}  // namespace apportion
