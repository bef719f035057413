// SPDX-License-Identifier: GPL-3.0-or-later
// LlamaConfig: the fields of a Hugging Face LLaMA `config.json` the backbone needs, parsed
// strictly (ModelError naming the field), plus conversion to the torch-free ModelShape.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/allocation/expert_allocation.h"

namespace apportion {

struct LlamaConfig {
  std::string architecture = "LlamaForCausalLM";
  int vocab_size = 260;
  int hidden_size = 64;
  int intermediate_size = 176;
  int num_hidden_layers = 4;
  int num_attention_heads = 4;
  int num_key_value_heads = 2;
  int max_position_embeddings = 256;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  int bos_token_id = 257;
  int eos_token_id = 258;
  int pad_token_id = 256;

  /// Parses an HF config.json object; `where` names the source in errors (file or JSON path).
  static LlamaConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  ModelShape shape() const;
  int head_dim() const { return hidden_size / num_attention_heads; }
};

}  // namespace apportion
