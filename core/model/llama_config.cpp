// SPDX-License-Identifier: GPL-3.0-or-later
// LlamaConfig <-> HF config.json. The parser is strict about the fields we use (presence of the
// required ones, types, positive sizes, head divisibility, unsupported features) and lenient
// about the rest: HF configs carry many keys we do not need (transformers_version, …).
//
// Defaults for optional fields follow HF's LlamaConfig (num_key_value_heads = heads,
// rms_norm_eps, rope_theta, tie_word_embeddings = false). Token ids: absent → the struct's
// default (our byte tokenizer's ids); JSON null → -1 ("none"); a list (Llama 3 eos) → first entry.
#include "core/model/llama_config.h"

#include <string>

#include "core/common/error.h"

namespace apportion {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where,
                       const std::string& field,
                       const std::string& what) {
  throw ModelError(where + ": " + field + ": " + what + "; fix the model config.json");
}

int get_int(const json& j, const std::string& where, const char* field, bool required, int def) {
  auto it = j.find(field);
  if (it == j.end()) {
    if (required) fail(where, field, "required field is missing");
    return def;
  }
  if (!it->is_number_integer()) fail(where, field, "must be an integer, got " + it->dump());
  const auto v = it->get<int64_t>();
  if (v <= 0 || v > (int64_t{1} << 30)) fail(where, field, "must be positive, got " + it->dump());
  return static_cast<int>(v);
}

double get_positive_double(const json& j, const std::string& where, const char* field, double def) {
  auto it = j.find(field);
  if (it == j.end()) return def;
  if (!it->is_number()) fail(where, field, "must be a number, got " + it->dump());
  const double v = it->get<double>();
  if (!(v > 0.0)) fail(where, field, "must be positive, got " + it->dump());
  return v;
}

int get_token_id(const json& j, const std::string& where, const char* field, int def) {
  auto it = j.find(field);
  if (it == j.end()) return def;
  if (it->is_null()) return -1;
  const json* v = &*it;
  if (v->is_array() && !v->empty()) v = &(*v)[0];
  if (!v->is_number_integer() || v->get<int64_t>() < 0) {
    fail(where, field, "must be a non-negative integer or null, got " + it->dump());
  }
  return static_cast<int>(v->get<int64_t>());
}

}  // namespace

LlamaConfig LlamaConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw ModelError(where + ": the model config must be a JSON object");
  LlamaConfig c;
  if (auto it = j.find("model_type"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>() != "llama") {
      fail(where, "model_type", "only \"llama\" is supported, got " + it->dump());
    }
  }
  if (auto it = j.find("architectures"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->empty() || !(*it)[0].is_string()) {
      fail(where, "architectures", "must be a non-empty list of strings, got " + it->dump());
    }
    c.architecture = (*it)[0].get<std::string>();
    if (c.architecture != "LlamaForCausalLM") {
      fail(where, "architectures", "only LlamaForCausalLM is supported, got " + it->dump());
    }
  }
  if (auto it = j.find("hidden_act"); it != j.end() && *it != "silu") {
    fail(where, "hidden_act", "only \"silu\" is supported, got " + it->dump());
  }
  for (const char* flag : {"attention_bias", "mlp_bias"}) {
    if (auto it = j.find(flag); it != j.end() && *it != false) {
      fail(where, flag, "biases are not supported, got " + it->dump());
    }
  }
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    fail(where, "rope_scaling", "RoPE scaling is not supported, got " + it->dump());
  }
  c.vocab_size = get_int(j, where, "vocab_size", true, 0);
  c.hidden_size = get_int(j, where, "hidden_size", true, 0);
  c.intermediate_size = get_int(j, where, "intermediate_size", true, 0);
  c.num_hidden_layers = get_int(j, where, "num_hidden_layers", true, 0);
  c.num_attention_heads = get_int(j, where, "num_attention_heads", true, 0);
  c.num_key_value_heads = get_int(j, where, "num_key_value_heads", false, c.num_attention_heads);
  c.max_position_embeddings = get_int(j, where, "max_position_embeddings", false, 2048);
  c.rms_norm_eps = get_positive_double(j, where, "rms_norm_eps", 1e-6);
  c.rope_theta = get_positive_double(j, where, "rope_theta", 10000.0);
  if (auto it = j.find("tie_word_embeddings"); it != j.end()) {
    if (!it->is_boolean())
      fail(where, "tie_word_embeddings", "must be a boolean, got " + it->dump());
    c.tie_word_embeddings = it->get<bool>();
  }
  c.bos_token_id = get_token_id(j, where, "bos_token_id", c.bos_token_id);
  c.eos_token_id = get_token_id(j, where, "eos_token_id", c.eos_token_id);
  c.pad_token_id = get_token_id(j, where, "pad_token_id", c.pad_token_id);

  if (c.hidden_size % c.num_attention_heads != 0) {
    fail(where, "hidden_size",
         std::to_string(c.hidden_size) + " is not divisible by num_attention_heads " +
             std::to_string(c.num_attention_heads));
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    fail(where, "num_key_value_heads",
         "num_attention_heads " + std::to_string(c.num_attention_heads) +
             " is not divisible by num_key_value_heads " + std::to_string(c.num_key_value_heads));
  }
  if (c.head_dim() % 2 != 0) {
    fail(where, "hidden_size", "head dim " + std::to_string(c.head_dim()) + " must be even (RoPE)");
  }
  if (auto it = j.find("head_dim"); it != j.end() && !it->is_null() && *it != c.head_dim()) {
    fail(where, "head_dim",
         "must equal hidden_size / num_attention_heads = " + std::to_string(c.head_dim()) +
             ", got " + it->dump());
  }
  for (const auto& [field, id] : {std::pair<const char*, int>{"bos_token_id", c.bos_token_id},
                                  {"eos_token_id", c.eos_token_id},
                                  {"pad_token_id", c.pad_token_id}}) {
    if (id >= c.vocab_size) {
      fail(where, field,
           std::to_string(id) + " is outside the vocabulary (vocab_size " +
               std::to_string(c.vocab_size) + ")");
    }
  }
  return c;
}

json LlamaConfig::to_json() const {
  auto token = [](int id) { return id < 0 ? json(nullptr) : json(id); };
  return json{
      {"architectures", json::array({architecture})},
      {"model_type", "llama"},
      {"torch_dtype", "float32"},
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"max_position_embeddings", max_position_embeddings},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"rope_scaling", nullptr},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"mlp_bias", false},
      {"initializer_range", 0.02},
      {"tie_word_embeddings", tie_word_embeddings},
      {"bos_token_id", token(bos_token_id)},
      {"eos_token_id", token(eos_token_id)},
      {"pad_token_id", token(pad_token_id)},
      {"use_cache", true},
  };
}

ModelShape LlamaConfig::shape() const {
  ModelShape s;
  s.num_layers = num_hidden_layers;
  s.hidden_size = hidden_size;
  s.intermediate_size = intermediate_size;
  s.num_attention_heads = num_attention_heads;
  s.num_key_value_heads = num_key_value_heads;
  return s;
}

}  // namespace apportion
