// SPDX-License-Identifier: GPL-3.0-or-later
// ModelConfig: the fields of a Hugging Face decoder `config.json` the backbone needs, for every
// supported architecture (dense: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM; sparse
// MoE: MixtralForCausalLM, OlmoeForCausalLM, Qwen2MoeForCausalLM). Parsed strictly (ModelError
// naming the source and the field), with HF's defaults for absent optional fields; written back
// in the same HF form, so a randomly initialised tiny model can be saved as a real checkpoint.
// Torch-free: the GUI and `apportion inspect` use it without LibTorch types.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/allocation/expert_allocation.h"

namespace apportion {

/// The supported `architectures[0]` values.
enum class Architecture {
  Llama,
  Mistral,
  Qwen2,
  Mixtral,
  Olmoe,
  Qwen2Moe,
};

/// RoPE frequency scaling (`rope_scaling` / `rope_parameters` in config.json).
struct RopeScaling {
  std::string type;  ///< "" (none/default), "linear" or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;                 ///< llama3 only
  double high_freq_factor = 4.0;                ///< llama3 only
  int original_max_position_embeddings = 8192;  ///< llama3 only
};

struct ModelConfig {
  std::string architecture = "LlamaForCausalLM";
  std::string model_type = "llama";
  int vocab_size = 260;
  int hidden_size = 64;
  int intermediate_size = 176;  ///< dense MLP width
  int num_hidden_layers = 4;
  int num_attention_heads = 4;
  int num_key_value_heads = 2;
  int explicit_head_dim = 0;  ///< config.json "head_dim"; 0 = hidden_size / num_attention_heads
  int max_position_embeddings = 256;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  double initializer_range = 0.02;
  double attention_dropout = 0.0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  ///< q/k/v/o biases (LLaMA, OLMoE "attention_bias")
  bool mlp_bias = false;        ///< gate/up/down biases (LLaMA "mlp_bias")
  /// Sliding-window attention: the window (0 = none) and the layers it applies to (Mistral and
  /// Mixtral: all; Qwen2: use_sliding_window and layer >= max_window_layers, or layer_types).
  int sliding_window = 0;
  bool use_sliding_window = false;       ///< Qwen2 / Qwen2-MoE switch
  int max_window_layers = 0;             ///< Qwen2 / Qwen2-MoE
  std::vector<std::string> layer_types;  ///< optional explicit "full_attention"/"sliding_attention"

  // Sparse MoE (Mixtral, OLMoE, Qwen2-MoE).
  int num_experts = 0;            ///< routed experts per MoE layer (Mixtral: num_local_experts)
  int num_experts_per_tok = 0;    ///< top-k
  bool norm_topk_prob = false;    ///< renormalise the top-k weights (always on for Mixtral)
  int moe_intermediate_size = 0;  ///< routed expert width (Qwen2-MoE)
  int shared_expert_intermediate_size = 0;  ///< Qwen2-MoE shared expert width
  int decoder_sparse_step = 1;              ///< Qwen2-MoE: layer l is MoE if (l+1) % step == 0
  std::vector<int> mlp_only_layers;         ///< Qwen2-MoE: layers forced dense
  double router_jitter_noise = 0.0;         ///< Mixtral (training only)
  double clip_qkv = 0.0;                    ///< OLMoE: clamp q/k/v to ±clip_qkv (0 = off)
  double router_aux_loss_coef = 0.01;       ///< carried through, unused by the backbone

  std::string torch_dtype = "float32";  ///< as written in config.json
  int bos_token_id = 257;
  int eos_token_id = 258;                ///< the (first) EOS id, -1: none
  std::vector<int> extra_eos_token_ids;  ///< further EOS ids (Llama 3 lists several)
  int pad_token_id = 256;
  std::string apportion_tokenizer;  ///< "byte" for backbones pretrained here, else ""

  /// Parses an HF config.json object; `where` names the source in errors (file or JSON path).
  static ModelConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  /// Checks cross-field rules (head divisibility, top-k <= experts, …); ModelError naming where.
  void validate(const std::string& where) const;
  /// The adaptable shape, with the backbone's MoE layout filled in.
  ModelShape shape() const;

  Architecture arch() const;
  bool is_moe() const { return num_experts > 0; }
  int head_dim() const;
  /// Whether layer `layer` has a sparse MoE block (false: a dense MLP).
  bool layer_is_moe(int layer) const;
  /// The sliding window of `layer`'s attention, 0 when it attends to the full context.
  int layer_sliding_window(int layer) const;
  /// q/k/v and o projection biases for this architecture.
  bool qkv_bias() const;
  bool o_bias() const;
  /// eos_token_id followed by extra_eos_token_ids (empty when there is none).
  std::vector<int> eos_token_ids() const;
  /// Routed-expert intermediate width.
  int expert_intermediate_size() const;

  /// Supported architectures (config.json names) and their model_type.
  static const std::vector<std::pair<std::string, std::string>>& supported_architectures();
};

}  // namespace apportion
