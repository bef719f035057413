// SPDX-License-Identifier: GPL-3.0-or-later
// ModelConfig <-> HF config.json. The parser is strict about the fields we use (required ones
// present, types, positive sizes, cross-field rules, unsupported features such as other RoPE
// scalings) and lenient about the rest: HF configs carry many keys we do not need
// (transformers_version, use_cache, …). Optional fields default as in each architecture's HF
// config class (e.g. Mixtral rope_theta 1e6, Mistral sliding_window 4096).
//
// Token ids: absent → our byte tokenizer's ids for byte-sized models (vocab 259/260 or
// "apportion_tokenizer": "byte"), else -1 ("none"); JSON null → -1; a list (Llama 3 eos) → all
// of them are EOS ids, the first is eos_token_id.
#include "core/backbone/model_config.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "core/backbone/model_config_fields.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion {

using nlohmann::json;
using namespace config_fields;

namespace {

/// HF defaults that differ per architecture.
struct ArchDefaults {
  int max_position_embeddings;
  double rms_norm_eps;
  double rope_theta;
};

ArchDefaults defaults_for(Architecture a) {
  switch (a) {
    case Architecture::Llama:
      return {2048, 1e-6, 10000.0};
    case Architecture::Mistral:
      return {4096 * 32, 1e-6, 10000.0};
    case Architecture::Qwen2:
      return {32768, 1e-6, 10000.0};
    case Architecture::Mixtral:
      return {4096 * 32, 1e-5, 1e6};
    case Architecture::Olmoe:
      return {4096, 1e-5, 10000.0};
    case Architecture::Qwen2Moe:
      return {32768, 1e-6, 10000.0};
  }
  return {2048, 1e-6, 10000.0};
}

std::string supported_list() {
  std::string out;
  for (const auto& [arch, type] : ModelConfig::supported_architectures()) {
    out += (out.empty() ? "" : ", ") + arch;
  }
  return out;
}

/// Reads architectures[0] and model_type, cross-checked; defaults to LLaMA when both are absent.
void parse_architecture(const json& j, const std::string& where, ModelConfig& c) {
  const auto& known = ModelConfig::supported_architectures();
  std::string arch;
  if (auto it = j.find("architectures"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->empty() || !(*it)[0].is_string()) {
      fail(where, "architectures", "must be a non-empty list of strings, got " + it->dump());
    }
    arch = (*it)[0].get<std::string>();
    auto k =
        std::find_if(known.begin(), known.end(), [&](const auto& p) { return p.first == arch; });
    if (k == known.end()) {
      fail(where, "architectures",
           "unsupported architecture \"" + arch + "\"; supported: " + supported_list());
    }
  }
  if (auto it = j.find("model_type"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) fail(where, "model_type", "must be a string, got " + it->dump());
    const auto type = it->get<std::string>();
    auto k =
        std::find_if(known.begin(), known.end(), [&](const auto& p) { return p.second == type; });
    if (arch.empty()) {
      if (k == known.end()) {
        fail(where, "model_type",
             "unsupported model_type \"" + type +
                 "\"; supported architectures: " + supported_list());
      }
      arch = k->first;
    } else {
      auto mine =
          std::find_if(known.begin(), known.end(), [&](const auto& p) { return p.first == arch; });
      if (mine->second != type) {
        fail(where, "model_type",
             "\"" + type + "\" does not match architectures[0] " + arch + " (expects \"" +
                 mine->second + "\")");
      }
    }
  }
  if (arch.empty()) arch = "LlamaForCausalLM";
  c.architecture = arch;
  for (const auto& [a, type] : known) {
    if (a == arch) c.model_type = type;
  }
}

/// rope_scaling (or transformers 5's rope_parameters) → RopeScaling (+ rope_theta).
void parse_rope(const json& j, const std::string& where, ModelConfig& c) {
  const char* field = "rope_scaling";
  const json* r = nullptr;
  if (auto it = j.find("rope_parameters"); it != j.end() && !it->is_null()) {
    field = "rope_parameters";
    r = &*it;
  } else if (auto it2 = j.find("rope_scaling"); it2 != j.end() && !it2->is_null()) {
    r = &*it2;
  }
  if (r == nullptr) return;
  if (!r->is_object()) fail(where, field, "must be an object or null, got " + r->dump());
  const std::string path = std::string(field) + ".";
  if (r->contains("rope_theta")) c.rope_theta = get_positive_double(*r, where, "rope_theta", 1.0);
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    if (auto it = r->find(key); it != r->end() && !it->is_null()) {
      if (!it->is_string()) fail(where, path + key, "must be a string, got " + it->dump());
      type = it->get<std::string>();
      break;
    }
  }
  if (type.empty() || type == "default") return;
  auto number = [&](const char* key) {
    auto it = r->find(key);
    if (it == r->end()) fail(where, path + key, "required field is missing for \"" + type + "\"");
    if (!it->is_number() || !(it->get<double>() > 0.0)) {
      fail(where, path + key, "must be a positive number, got " + it->dump());
    }
    return it->get<double>();
  };
  if (type == "linear") {
    c.rope_scaling.type = type;
    c.rope_scaling.factor = number("factor");
  } else if (type == "llama3") {
    c.rope_scaling.type = type;
    c.rope_scaling.factor = number("factor");
    c.rope_scaling.low_freq_factor = number("low_freq_factor");
    c.rope_scaling.high_freq_factor = number("high_freq_factor");
    const double orig = number("original_max_position_embeddings");
    if (orig != std::floor(orig) || orig > (1 << 30)) {
      fail(where, path + "original_max_position_embeddings", "must be an integer");
    }
    c.rope_scaling.original_max_position_embeddings = static_cast<int>(orig);
  } else {
    fail(where, path + "rope_type",
         "unsupported RoPE scaling \"" + type + "\"; supported: default, linear, llama3");
  }
}

void parse_sliding_window(const json& j, const std::string& where, ModelConfig& c) {
  const Architecture a = c.arch();
  if (a == Architecture::Mistral || a == Architecture::Mixtral) {
    c.sliding_window =
        get_optional_size(j, where, "sliding_window", a == Architecture::Mistral ? 4096 : 0);
  } else if (a == Architecture::Qwen2 || a == Architecture::Qwen2Moe) {
    c.sliding_window = get_optional_size(j, where, "sliding_window", 4096);
    c.use_sliding_window = get_bool(j, where, "use_sliding_window", false);
    c.max_window_layers = get_non_negative_int(j, where, "max_window_layers", 28);
    if (auto it = j.find("layer_types"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) fail(where, "layer_types", "must be a list, got " + it->dump());
      for (const auto& t : *it) {
        if (t != "full_attention" && t != "sliding_attention") {
          fail(where, "layer_types",
               "entries must be \"full_attention\" or \"sliding_attention\", got " + t.dump());
        }
        c.layer_types.push_back(t.get<std::string>());
      }
    }
  }
}

void parse_moe(const json& j, const std::string& where, ModelConfig& c) {
  const Architecture a = c.arch();
  if (a == Architecture::Mixtral) {
    c.num_experts = get_int(j, where, "num_local_experts", true, 0);
    c.num_experts_per_tok = get_int(j, where, "num_experts_per_tok", true, 0);
    c.norm_topk_prob = true;  // Mixtral always renormalises the top-k weights
    c.router_jitter_noise = get_non_negative_double(j, where, "router_jitter_noise", 0.0);
  } else if (a == Architecture::Olmoe || a == Architecture::Qwen2Moe) {
    c.num_experts = get_int(j, where, "num_experts", true, 0);
    c.num_experts_per_tok = get_int(j, where, "num_experts_per_tok", true, 0);
    c.norm_topk_prob = get_bool(j, where, "norm_topk_prob", false);
  } else {
    return;
  }
  c.router_aux_loss_coef = get_non_negative_double(j, where, "router_aux_loss_coef", 0.01);
  if (a == Architecture::Olmoe) {
    if (auto it = j.find("clip_qkv"); it != j.end() && !it->is_null()) {
      c.clip_qkv = get_positive_double(j, where, "clip_qkv", 0.0);
    }
  }
  if (a == Architecture::Qwen2Moe) {
    c.moe_intermediate_size = get_int(j, where, "moe_intermediate_size", true, 0);
    c.shared_expert_intermediate_size =
        get_int(j, where, "shared_expert_intermediate_size", true, 0);
    c.decoder_sparse_step = get_int(j, where, "decoder_sparse_step", false, 1);
    if (auto it = j.find("mlp_only_layers"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) fail(where, "mlp_only_layers", "must be a list, got " + it->dump());
      for (const auto& v : *it) {
        const auto layer = json_to_integer<int>(v);
        if (!v.is_number_integer() || !layer) {
          fail(where, "mlp_only_layers", "entries must be layer indices, got " + v.dump());
        }
        c.mlp_only_layers.push_back(*layer);
      }
    }
  }
}

void parse_token_ids(const json& j, const std::string& where, ModelConfig& c) {
  const bool byte_sized =
      c.apportion_tokenizer == "byte" || c.vocab_size == 259 || c.vocab_size == 260;
  c.bos_token_id = get_token_id(j, where, "bos_token_id", byte_sized ? 257 : -1);
  c.pad_token_id = get_token_id(j, where, "pad_token_id", byte_sized ? 256 : -1);
  const auto eos = get_token_ids(j, where, "eos_token_id", byte_sized ? 258 : -1);
  c.eos_token_id = eos.empty() ? -1 : eos.front();
  c.extra_eos_token_ids.assign(eos.begin() + (eos.empty() ? 0 : 1), eos.end());
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& ModelConfig::supported_architectures() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"LlamaForCausalLM", "llama"}, {"MistralForCausalLM", "mistral"},
      {"Qwen2ForCausalLM", "qwen2"}, {"MixtralForCausalLM", "mixtral"},
      {"OlmoeForCausalLM", "olmoe"}, {"Qwen2MoeForCausalLM", "qwen2_moe"},
  };
  return list;
}

Architecture ModelConfig::arch() const {
  if (architecture == "MistralForCausalLM") return Architecture::Mistral;
  if (architecture == "Qwen2ForCausalLM") return Architecture::Qwen2;
  if (architecture == "MixtralForCausalLM") return Architecture::Mixtral;
  if (architecture == "OlmoeForCausalLM") return Architecture::Olmoe;
  if (architecture == "Qwen2MoeForCausalLM") return Architecture::Qwen2Moe;
  if (architecture == "LlamaForCausalLM") return Architecture::Llama;
  throw ModelError("unsupported architecture \"" + architecture +
                   "\"; supported: " + supported_list());
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw ModelError(where + ": the model config must be a JSON object");
  ModelConfig c;
  parse_architecture(j, where, c);
  const Architecture a = c.arch();
  const ArchDefaults d = defaults_for(a);
  if (auto it = j.find("apportion_tokenizer"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) fail(where, "apportion_tokenizer", "must be a string, got " + it->dump());
    c.apportion_tokenizer = it->get<std::string>();
  }
  if (auto it = j.find("hidden_act"); it != j.end() && *it != "silu") {
    fail(where, "hidden_act", "only \"silu\" is supported, got " + it->dump());
  }
  if (auto it = j.find("partial_rotary_factor"); it != j.end() && !it->is_null() && *it != 1.0) {
    fail(where, "partial_rotary_factor", "partial rotary embeddings are not supported");
  }
  c.vocab_size = get_int(j, where, "vocab_size", true, 0);
  c.hidden_size = get_int(j, where, "hidden_size", true, 0);
  c.intermediate_size = get_int(j, where, "intermediate_size", true, 0);
  c.num_hidden_layers = get_int(j, where, "num_hidden_layers", true, 0);
  c.num_attention_heads = get_int(j, where, "num_attention_heads", true, 0);
  c.num_key_value_heads = get_int(j, where, "num_key_value_heads", false, c.num_attention_heads);
  c.explicit_head_dim = get_optional_size(j, where, "head_dim", 0);
  c.max_position_embeddings =
      get_int(j, where, "max_position_embeddings", false, d.max_position_embeddings);
  c.rms_norm_eps = get_positive_double(j, where, "rms_norm_eps", d.rms_norm_eps);
  c.rope_theta = get_positive_double(j, where, "rope_theta", d.rope_theta);
  parse_rope(j, where, c);
  c.initializer_range = get_positive_double(j, where, "initializer_range", 0.02);
  c.attention_dropout = get_non_negative_double(j, where, "attention_dropout", 0.0);
  c.tie_word_embeddings = get_bool(j, where, "tie_word_embeddings", false);
  if (a == Architecture::Llama || a == Architecture::Olmoe) {
    c.attention_bias = get_bool(j, where, "attention_bias", false);
  }
  if (a == Architecture::Llama) c.mlp_bias = get_bool(j, where, "mlp_bias", false);
  parse_sliding_window(j, where, c);
  parse_moe(j, where, c);
  for (const char* key : {"torch_dtype", "dtype"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    static const std::set<std::string> known = {"float32", "float16", "bfloat16", "float64",
                                                "auto"};
    if (!it->is_string() || !known.count(it->get<std::string>())) {
      fail(where, key,
           "unknown dtype " + it->dump() +
               " (expected \"float32\", \"float16\", \"bfloat16\", \"float64\" or \"auto\")");
    }
    c.torch_dtype = it->get<std::string>();
    break;
  }
  parse_token_ids(j, where, c);
  c.validate(where);
  return c;
}

void ModelConfig::validate(const std::string& where) const {
  const Architecture a = arch();
  auto str = [](auto v) { return std::to_string(v); };
  if (explicit_head_dim == 0 && hidden_size % num_attention_heads != 0) {
    fail(where, "hidden_size",
         str(hidden_size) + " is not divisible by num_attention_heads " + str(num_attention_heads));
  }
  if (explicit_head_dim != 0 && (a == Architecture::Olmoe || a == Architecture::Qwen2Moe) &&
      explicit_head_dim * num_attention_heads != hidden_size) {
    fail(where, "head_dim",
         "must equal hidden_size / num_attention_heads for " + architecture + ", got " +
             str(explicit_head_dim));
  }
  if (num_attention_heads % num_key_value_heads != 0) {
    fail(where, "num_key_value_heads",
         "num_attention_heads " + str(num_attention_heads) +
             " is not divisible by num_key_value_heads " + str(num_key_value_heads));
  }
  if (head_dim() % 2 != 0) {
    fail(where, "head_dim", "head dim " + str(head_dim()) + " must be even (RoPE)");
  }
  if (rope_scaling.type == "llama3" &&
      rope_scaling.high_freq_factor <= rope_scaling.low_freq_factor) {
    fail(where, "rope_scaling.high_freq_factor", "must be greater than low_freq_factor");
  }
  if (is_moe() && num_experts_per_tok > num_experts) {
    fail(
        where, "num_experts_per_tok",
        "top-k " + str(num_experts_per_tok) + " exceeds the number of experts " + str(num_experts));
  }
  if (!layer_types.empty() && static_cast<int>(layer_types.size()) != num_hidden_layers) {
    fail(where, "layer_types",
         "has " + str(layer_types.size()) + " entries but num_hidden_layers is " +
             str(num_hidden_layers));
  }
  for (int l : mlp_only_layers) {
    if (l < 0 || l >= num_hidden_layers) {
      fail(where, "mlp_only_layers",
           "layer " + str(l) + " is outside 0.." + str(num_hidden_layers - 1));
    }
  }
  if (!apportion_tokenizer.empty() && apportion_tokenizer != "byte") {
    fail(where, "apportion_tokenizer",
         "only \"byte\" is supported, got \"" + apportion_tokenizer + "\"");
  }
  std::vector<std::pair<const char*, int>> ids = {{"bos_token_id", bos_token_id},
                                                  {"pad_token_id", pad_token_id}};
  for (int id : eos_token_ids()) ids.emplace_back("eos_token_id", id);
  for (const auto& [field, id] : ids) {
    if (id >= vocab_size) {
      fail(where, field,
           str(id) + " is outside the vocabulary (vocab_size " + str(vocab_size) + ")");
    }
  }
}

std::vector<int> ModelConfig::eos_token_ids() const {
  std::vector<int> out;
  if (eos_token_id >= 0) out.push_back(eos_token_id);
  out.insert(out.end(), extra_eos_token_ids.begin(), extra_eos_token_ids.end());
  return out;
}

int ModelConfig::head_dim() const {
  return explicit_head_dim > 0 ? explicit_head_dim : hidden_size / num_attention_heads;
}

bool ModelConfig::layer_is_moe(int layer) const {
  switch (arch()) {
    case Architecture::Mixtral:
    case Architecture::Olmoe:
      return true;
    case Architecture::Qwen2Moe:
      return num_experts > 0 &&
             std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) ==
                 mlp_only_layers.end() &&
             (layer + 1) % decoder_sparse_step == 0;
    default:
      return false;
  }
}

int ModelConfig::layer_sliding_window(int layer) const {
  switch (arch()) {
    case Architecture::Mistral:
    case Architecture::Mixtral:
      return sliding_window;
    case Architecture::Qwen2:
    case Architecture::Qwen2Moe:
      if (!use_sliding_window || sliding_window <= 0) return 0;
      if (!layer_types.empty()) {
        return layer_types.at(static_cast<size_t>(layer)) == "sliding_attention" ? sliding_window
                                                                                 : 0;
      }
      return layer >= max_window_layers ? sliding_window : 0;
    default:
      return 0;
  }
}

bool ModelConfig::qkv_bias() const {
  const Architecture a = arch();
  return a == Architecture::Qwen2 || a == Architecture::Qwen2Moe || attention_bias;
}

bool ModelConfig::o_bias() const { return attention_bias; }

int ModelConfig::expert_intermediate_size() const {
  return arch() == Architecture::Qwen2Moe ? moe_intermediate_size : intermediate_size;
}

ModelShape ModelConfig::shape() const {
  ModelShape s;
  s.num_layers = num_hidden_layers;
  s.hidden_size = hidden_size;
  s.intermediate_size = intermediate_size;
  s.num_attention_heads = num_attention_heads;
  s.num_key_value_heads = num_key_value_heads;
  s.explicit_head_dim = explicit_head_dim;
  if (is_moe()) {
    for (int l = 0; l < num_hidden_layers; ++l) {
      const bool moe = layer_is_moe(l);
      s.backbone_experts.push_back(moe ? num_experts : 0);
      s.backbone_top_k.push_back(moe ? num_experts_per_tok : 0);
    }
    s.moe_intermediate_size = expert_intermediate_size();
    s.shared_expert_intermediate_size = shared_expert_intermediate_size;
  }
  return s;
}

json ModelConfig::to_json() const {
  auto token = [](int id) { return id < 0 ? json(nullptr) : json(id); };
  const Architecture a = arch();
  json rope = nullptr;
  if (rope_scaling.type == "linear") {
    rope = {{"rope_type", "linear"}, {"factor", rope_scaling.factor}};
  } else if (rope_scaling.type == "llama3") {
    rope = {{"rope_type", "llama3"},
            {"factor", rope_scaling.factor},
            {"low_freq_factor", rope_scaling.low_freq_factor},
            {"high_freq_factor", rope_scaling.high_freq_factor},
            {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
  }
  json j{
      {"architectures", json::array({architecture})},
      {"model_type", model_type},
      {"torch_dtype", torch_dtype},
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"max_position_embeddings", max_position_embeddings},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"rope_scaling", rope},
      {"hidden_act", "silu"},
      {"attention_dropout", attention_dropout},
      {"initializer_range", initializer_range},
      {"tie_word_embeddings", tie_word_embeddings},
      {"bos_token_id", token(bos_token_id)},
      {"pad_token_id", token(pad_token_id)},
      {"use_cache", true},
  };
  if (!extra_eos_token_ids.empty()) {
    j["eos_token_id"] = eos_token_ids();
  } else {
    j["eos_token_id"] = token(eos_token_id);
  }
  if (explicit_head_dim > 0) j["head_dim"] = explicit_head_dim;
  if (a == Architecture::Llama || a == Architecture::Olmoe) j["attention_bias"] = attention_bias;
  if (a == Architecture::Llama) j["mlp_bias"] = mlp_bias;
  const json window = sliding_window > 0 ? json(sliding_window) : json(nullptr);
  if (a == Architecture::Mistral || a == Architecture::Mixtral) j["sliding_window"] = window;
  if (a == Architecture::Qwen2 || a == Architecture::Qwen2Moe) {
    j["use_sliding_window"] = use_sliding_window;
    j["sliding_window"] = window;
    j["max_window_layers"] = max_window_layers;
    if (!layer_types.empty()) j["layer_types"] = layer_types;
  }
  if (is_moe()) {
    j[a == Architecture::Mixtral ? "num_local_experts" : "num_experts"] = num_experts;
    j["num_experts_per_tok"] = num_experts_per_tok;
    j["router_aux_loss_coef"] = router_aux_loss_coef;
    j["output_router_logits"] = false;
  }
  if (a == Architecture::Mixtral) j["router_jitter_noise"] = router_jitter_noise;
  if (a == Architecture::Olmoe || a == Architecture::Qwen2Moe) j["norm_topk_prob"] = norm_topk_prob;
  if (a == Architecture::Olmoe) j["clip_qkv"] = clip_qkv > 0 ? json(clip_qkv) : json(nullptr);
  if (a == Architecture::Qwen2Moe) {
    j["moe_intermediate_size"] = moe_intermediate_size;
    j["shared_expert_intermediate_size"] = shared_expert_intermediate_size;
    j["decoder_sparse_step"] = decoder_sparse_step;
    j["mlp_only_layers"] = mlp_only_layers;
  }
  if (!apportion_tokenizer.empty()) j["apportion_tokenizer"] = apportion_tokenizer;
  return j;
}

}  // namespace apportion
